package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// Timeouts of the database fault tests, short so that they run quickly.
const (
	outageStatementTimeout = time.Second
	// outageSlack is what an answer during an outage may take beyond its timeout: the quarter of a
	// second PostgreSQL gets to answer a cancellation, and a loaded test machine.
	outageSlack = time.Second
	// outageHealthTimeout is the detailed health check's own bound on its ping.
	outageHealthTimeout = time.Second
)

// outageRequest is a request made during an outage, and the time it may take.
type outageRequest struct {
	name   string
	req    request
	within time.Duration
}

// mustOutageAnswers sends every request and checks that each answers 503 in time, with Retry-After:
// the API's routes with a database-unavailable problem, the detailed health check with its report.
func (e *testEnv) mustOutageAnswers(t *testing.T, reqs []outageRequest) {
	t.Helper()
	for _, r := range reqs {
		start := time.Now()
		rec := e.call(t, r.req)
		took := time.Since(start)
		require.Less(t, took, r.within, "%s took %s", r.name, took)
		retryAfter, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		require.NoError(t, err, "%s: Retry-After %q", r.name, rec.Header().Get("Retry-After"))
		require.Positive(t, retryAfter, r.name)
		if r.req.path == "/health/detailed" {
			got := mustJSON[gen.HealthDetailed](t, rec, http.StatusServiceUnavailable)
			require.Equal(t, gen.HealthDetailedStatusUnavailable, got.Status)
			require.False(t, got.Database.Reachable)
		} else {
			mustProblem(t, rec, http.StatusServiceUnavailable, "database-unavailable")
		}
		t.Logf("%s: 503 after %s", r.name, took.Round(time.Millisecond))
	}
}

// TestDatabaseUnavailablePostgres puts a proxy between the API and PostgreSQL and breaks it the two
// ways a database goes away: frozen (connections open, nothing answers) and cut (connections reset,
// new ones refused). During the outage every answer, authentication with a known or an unknown key
// included, is 503 with Retry-After within the statement timeout (the detailed health check within
// its own second); after it, the first request succeeds within a second without a restart, and
// every write acknowledged before, between and after the outages is there.
func TestDatabaseUnavailablePostgres(t *testing.T) {
	if !slices.Contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set: the fault test runs on PostgreSQL", storetest.EnvDatabaseURL)
	}
	databaseURL, _ := storetest.DSN(t, store.EnginePostgres)
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	proxy, err := tcpproxy.Listen("127.0.0.1:0", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, proxy.Close()) })
	u.Host = proxy.Addr()
	db, err := store.Open(t.Context(), store.Config{DatabaseURL: u.String(), MaxOpenConns: 4,
		ConnectTimeout: time.Second, StatementTimeout: outageStatementTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(t.Context()))
	env := mustEnvWithStore(t, db, db)

	_, key := env.mustAccount(t, "Acme", store.TierEnterprise)
	unknown, err := apikey.New()
	require.NoError(t, err)
	var acknowledged []string
	// create adds a location and returns the status; a 201 is an acknowledged write.
	create := func(t *testing.T, ghlID string) int {
		t.Helper()
		rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key,
			body: `{"ghlLocationId":"` + ghlID + `","name":"` + ghlID + `"}`})
		if rec.Code == http.StatusCreated {
			acknowledged = append(acknowledged, mustJSON[gen.Location](t, rec, http.StatusCreated).Id)
		}
		return rec.Code
	}
	require.Equal(t, http.StatusCreated, create(t, "before"))

	keyed := outageStatementTimeout + outageSlack
	reqs := []outageRequest{
		{name: "read", req: request{method: http.MethodGet, path: "/v1/locations", key: key}, within: keyed},
		{name: "unknown key", req: request{method: http.MethodGet, path: "/v1/me", key: unknown.Secret}, within: keyed},
		{name: "write", req: request{method: http.MethodPost, path: "/v1/locations", key: key,
			body: `{"ghlLocationId":"during","name":"During"}`}, within: keyed},
		{name: "health", req: request{method: http.MethodGet, path: "/health/detailed"}, within: outageHealthTimeout + outageSlack},
	}
	recovered := func(t *testing.T, ghlID string) {
		t.Helper()
		start := time.Now()
		status := create(t, ghlID)
		took := time.Since(start)
		require.Equal(t, http.StatusCreated, status)
		require.Less(t, took, time.Second, "the first request after the outage took %s", took)
		t.Logf("first request after the outage: %s", took.Round(time.Millisecond))
	}

	t.Run("frozen", func(t *testing.T) {
		proxy.Freeze()
		env.mustOutageAnswers(t, reqs)
		require.NoError(t, proxy.Resume())
		recovered(t, "after-freeze")
	})
	t.Run("cut", func(t *testing.T) {
		proxy.Cut()
		env.mustOutageAnswers(t, reqs)
		require.NoError(t, proxy.Resume())
		recovered(t, "after-cut")
	})

	got := mustJSON[gen.LocationList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations?limit=200", key: key}), http.StatusOK)
	ids := make([]string, 0, len(got.Items))
	for _, l := range got.Items {
		ids = append(ids, l.Id)
	}
	// A write that timed out may still have been committed (the frozen proxy passes it on when it
	// resumes, as a network would); the acknowledged ones must be there.
	require.Subset(t, ids, acknowledged, "every acknowledged write is there")
}

// TestDatabaseUnavailableSQLite: another process holding SQLite's write lock past the statement
// timeout makes writes answer 503 database-unavailable with Retry-After, within about the timeout;
// reads go on, and writes succeed again once the lock is released.
func TestDatabaseUnavailableSQLite(t *testing.T) {
	const timeout = 300 * time.Millisecond
	_, dataDir := storetest.DSN(t, store.EngineSQLite)
	open := func() *store.DB {
		db, err := store.Open(t.Context(), store.Config{DataDir: dataDir, StatementTimeout: timeout})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		return db
	}
	db, other := open(), open()
	require.NoError(t, db.Migrate(t.Context()))
	env := mustEnvWithStore(t, db, db)
	_, key := env.mustAccount(t, "Acme", store.TierEnterprise)
	// The key's first use records it (a write); later uses within a minute only read.
	mustJSON[gen.LocationList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), http.StatusOK)

	tx, err := other.SQL().BeginTxx(context.Background(), nil) // BEGIN IMMEDIATE: the write lock
	require.NoError(t, err)
	env.mustOutageAnswers(t, []outageRequest{{name: "write", within: timeout + outageSlack, req: request{
		method: http.MethodPost, path: "/v1/locations", key: key, body: `{"ghlLocationId":"during","name":"During"}`}}})
	mustJSON[gen.LocationList](t, env.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), http.StatusOK)
	require.NoError(t, tx.Rollback())

	rec := env.do(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: `{"ghlLocationId":"after","name":"After"}`})
	mustJSON[gen.Location](t, rec, http.StatusCreated)
}
