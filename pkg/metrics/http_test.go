package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// counterValue reads one series of http_requests_total, 0 when it does not exist yet.
func counterValue(tb testing.TB, labels string) int {
	tb.Helper()
	v := mustScrape(tb).value("http_requests_total", labels)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	require.NoError(tb, err)
	return n
}

func TestHTTP(t *testing.T) {
	e := echo.New()
	e.Use(metrics.HTTP())
	inFlight := make(chan string, 1)
	e.GET("/test-metrics/items/:itemId", func(c *echo.Context) error {
		inFlight <- mustScrape(t).value("http_requests_in_flight", "")
		return c.String(http.StatusOK, "ok")
	})
	e.POST("/test-metrics/items", func(c *echo.Context) error {
		return echo.NewHTTPError(http.StatusConflict, "taken")
	})
	e.GET("/test-metrics/fail", func(c *echo.Context) error {
		return errors.New("no status")
	})

	tests := []struct {
		name   string
		method string
		path   string
		labels string
	}{
		{name: "route template, not the id", method: http.MethodGet, path: "/test-metrics/items/loc_secret1",
			labels: `{method="GET",route="/test-metrics/items/:itemId",status="200"}`},
		{name: "status of a returned error", method: http.MethodPost, path: "/test-metrics/items",
			labels: `{method="POST",route="/test-metrics/items",status="409"}`},
		{name: "plain error is 500", method: http.MethodGet, path: "/test-metrics/fail",
			labels: `{method="GET",route="/test-metrics/fail",status="500"}`},
		{name: "unknown path is unmatched", method: http.MethodGet, path: "/test-metrics/acc_nobody/x",
			labels: `{method="GET",route="unmatched",status="404"}`},
		{name: "wrong method keeps the template", method: http.MethodDelete, path: "/test-metrics/items",
			labels: `{method="DELETE",route="/test-metrics/items",status="405"}`},
		{name: "unknown method is folded", method: "BREW", path: "/test-metrics/items",
			labels: `{method="OTHER",route="/test-metrics/items",status="405"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counterValue(t, tt.labels)
			req := httptest.NewRequestWithContext(context.Background(), tt.method, tt.path, nil)
			e.ServeHTTP(httptest.NewRecorder(), req)
			require.Equal(t, before+1, counterValue(t, tt.labels))
		})
	}
	require.Equal(t, "1", <-inFlight, "the request being served is in flight")
	require.Equal(t, "0", mustScrape(t).value("http_requests_in_flight", ""))

	t.Run("durations are recorded by template", func(t *testing.T) {
		s := mustScrape(t)
		require.NotEmpty(t, s.value("http_request_duration_seconds_count", `{method="GET",route="/test-metrics/items/:itemId"}`))
		for _, x := range s.samples {
			require.NotContains(t, x.labels, "loc_secret1")
			require.NotContains(t, x.labels, "acc_nobody")
		}
	})
}
