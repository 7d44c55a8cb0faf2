package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// stallingStore lists locations only once the request's context is done, as a database does when a
// query is cancelled mid-flight.
type stallingStore struct {
	api.Store
	entered chan struct{}
}

func (s stallingStore) ListLocations(ctx context.Context, _ string, _ store.Page) ([]store.Location, string, error) {
	close(s.entered)
	<-ctx.Done()
	return nil, "", fmt.Errorf("list locations: pq: canceling statement due to user request: %w", ctx.Err())
}

// TestClientGone checks that a request whose client went away before the answer is recorded as 499
// at info level, and never as a server error in the logs or in http_requests_total.
func TestClientGone(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierPro)
	st := stallingStore{Store: env.db, entered: make(chan struct{})}
	gone := mustEnvWithStore(t, env.db, st)
	series := func(status string) float64 {
		return gone.mustScrape(t, nil).series[`http_requests_total{method="GET",route="/v1/locations",status="`+status+`"}`]
	}
	before499, before500 := series("499"), series("500")

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/locations", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	go func() {
		<-st.entered
		cancel()
	}()
	rec := httptest.NewRecorder()
	gone.handler.ServeHTTP(rec, req)

	require.Equal(t, 499, rec.Code)
	require.Equal(t, before499+1, series("499"))
	require.Equal(t, before500, series("500"), "no server error was counted")
	logs := gone.logs.String()
	require.Contains(t, logs, `"status":499`)
	require.NotContains(t, logs, `"level":"ERROR"`)
}
