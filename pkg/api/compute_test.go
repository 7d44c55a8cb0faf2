package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// blockingStore holds every GetLocation until release is closed, once entered has been signalled.
type blockingStore struct {
	api.Store
	entered chan struct{}
	release chan struct{}
	once    *sync.Once
}

func (s blockingStore) GetLocation(ctx context.Context, accountID, id string) (store.Location, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.Store.GetLocation(ctx, accountID, id)
}

// TestComputeSlots checks that imports and analyses beyond the instance's computation slots wait,
// then get 503 overloaded with Retry-After, and change nothing.
func TestComputeSlots(t *testing.T) {
	env := mustDocumentEnv(t, store.EngineSQLite, nil)
	acc, key := env.mustAccount(t, "Acme", store.TierPro)
	loc := env.mustCreateLocation(t, key, "slots", "Slots")
	blocking := blockingStore{Store: env.db, entered: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}}
	logs := &logtest.Buffer{}
	h, err := api.NewHandler(api.Config{
		Store: blocking, Logger: slog.New(slog.NewJSONHandler(logs, nil)), MaxBodyBytes: documentBodyBytes,
		MaxConcurrentComputations: 1, ComputeWait: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	busy := &testEnv{db: env.db, handler: h, logs: logs}
	imports := "/v1/locations/" + loc.Id + "/workflows"

	first := make(chan int)
	go func() {
		rec := busy.do(t, request{method: http.MethodPost, path: imports, key: key, body: bundleDoc})
		first <- rec.Code
	}()
	<-blocking.entered
	for _, r := range []request{
		{method: http.MethodPost, path: imports, key: key, body: bundleDoc},
		{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleDoc + `}`},
		{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/analyses", key: key, body: `{"scope":"location"}`},
	} {
		rec := busy.do(t, r)
		mustProblem(t, rec, http.StatusServiceUnavailable, "overloaded")
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
	}
	close(blocking.release)
	require.Equal(t, http.StatusCreated, <-first, "the request holding the slot finishes")
	require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
	require.Zero(t, busy.mustMe(t, key).Usage.AnalysesThisHour, "refused analyses cost nothing")
	// The slot is free again.
	rec := busy.do(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleDoc + `}`})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
}

// TestAnalysisDeadline checks that an analysis that runs past its deadline answers 503
// analysis-timeout, stores nothing and costs nothing.
func TestAnalysisDeadline(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, func(c *api.Config) { c.AnalysisTimeout = time.Nanosecond })
		_, key := env.mustAccount(t, "Acme", store.TierFree)
		loc := env.mustCreateLocation(t, key, "deadline", "Deadline")
		env.mustImport(t, key, loc.Id, bundleDoc)
		for _, r := range []request{
			{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleDoc + `}`},
			{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/analyses", key: key, body: `{"scope":"location"}`},
		} {
			rec := env.call(t, r)
			p := mustProblem(t, rec, http.StatusServiceUnavailable, "analysis-timeout")
			require.Contains(t, *p.Detail, "1ns")
			require.NotEmpty(t, rec.Header().Get("Retry-After"))
		}
		require.Empty(t, env.mustHistory(t, key, loc.Id, ""))
		require.Zero(t, env.mustMe(t, key).Usage.AnalysesThisHour)
	})
}
