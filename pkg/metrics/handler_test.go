package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// mustServe sends a request to h and returns the recorded response and the handler's error.
func mustServe(tb testing.TB, h echo.HandlerFunc, method, authorization string) (*httptest.ResponseRecorder, error) {
	tb.Helper()
	e := echo.New()
	req := httptest.NewRequestWithContext(context.Background(), method, "/metrics", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	return rec, h(e.NewContext(req, rec))
}

func TestHandler(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		refreshed := 0
		h := metrics.Handler(metrics.HandlerConfig{Refresh: func(context.Context) { refreshed++ }})
		rec, err := mustServe(t, h, http.MethodGet, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, metrics.ContentType, rec.Header().Get("Content-Type"))
		require.Equal(t, 1, refreshed)
		s := mustParse(t, rec.Body.String())
		require.Equal(t, "gauge", s.types["go_goroutines"])
	})
	t.Run("head has no body", func(t *testing.T) {
		rec, err := mustServe(t, metrics.Handler(metrics.HandlerConfig{}), http.MethodHead, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Empty(t, rec.Body.String())
	})

	h := metrics.Handler(metrics.HandlerConfig{Token: "s3cret-scrape-token"})
	tests := []struct {
		name          string
		authorization string
		ok            bool
	}{
		{name: "right token", authorization: "Bearer s3cret-scrape-token", ok: true},
		{name: "scheme is case-insensitive", authorization: "bearer s3cret-scrape-token", ok: true},
		{name: "no header", authorization: ""},
		{name: "wrong token", authorization: "Bearer s3cret-scrape-tokeN"},
		{name: "prefix of the token", authorization: "Bearer s3cret"},
		{name: "basic scheme", authorization: "Basic s3cret-scrape-token"},
	}
	for _, tt := range tests {
		t.Run("token/"+tt.name, func(t *testing.T) {
			rec, err := mustServe(t, h, http.MethodGet, tt.authorization)
			if tt.ok {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, rec.Code)
				return
			}
			require.ErrorIs(t, err, metrics.ErrUnauthorized)
			require.Empty(t, rec.Body.String())
		})
	}
}
