package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestGHLProblem maps each error of pkg/ghl to its problem. The errors are wrapped around a text
// that stands for a token a caller sent: no detail may repeat it.
func TestGHLProblem(t *testing.T) {
	const token = "pit-secret-0a1b2c3d"
	wrap := func(err error) error { return fmt.Errorf("connect with %s: %w", token, err) }
	tests := []struct {
		name       string
		err        error
		status     int
		slug       string
		detail     string
		retryAfter int64
	}{
		{name: "not configured", err: wrap(&ghl.NotConfiguredError{Missing: []string{ghl.EnvClientID, ghl.EnvTokenKeys}}),
			status: http.StatusNotImplemented, slug: "ghl-not-configured",
			detail: "This deployment is not connected to a GoHighLevel app; set GHLD_GHL_CLIENT_ID, GHLD_GHL_TOKEN_KEYS."},
		{name: "state used", err: wrap(ghl.ErrStateUsed), status: http.StatusBadRequest, slug: "ghl-state-invalid",
			detail: "This authorization has already been used; start again from connectGhl."},
		{name: "state expired", err: wrap(ghl.ErrStateExpired), status: http.StatusBadRequest, slug: "ghl-state-invalid",
			detail: "This authorization has expired (it lasts 10m0s); start again from connectGhl."},
		{name: "state invalid", err: wrap(ghl.ErrStateInvalid), status: http.StatusBadRequest, slug: "ghl-state-invalid",
			detail: kindGHLStateInvalid.detail},
		{name: "code refused", err: wrap(&ghl.APIError{Endpoint: "token", Status: 400, Attempts: 1, Kind: ghl.ErrGrantRejected}),
			status: http.StatusBadRequest, slug: "ghl-authorization-failed",
			detail: "GHL refused the authorization code; start again from connectGhl."},
		{name: "another location", err: wrap(&ghl.LocationMismatchError{Authorized: "ghl-b", Want: "ghl-a"}),
			status: http.StatusConflict, slug: "ghl-location-mismatch",
			detail: "GHL authorized sub-account ghl-b, but this location is ghl-a; start again and choose ghl-a."},
		{name: "an agency token", err: wrap(&ghl.LocationMismatchError{Want: "ghl-a"}),
			status: http.StatusConflict, slug: "ghl-location-mismatch",
			detail: "GHL authorized an agency, not a sub-account; start again and choose ghl-a."},
		{name: "not connected", err: wrap(ghl.ErrNotConnected), status: http.StatusConflict, slug: "ghl-not-connected",
			detail: kindGHLNotConnected.detail},
		{name: "token refused", err: wrap(&ghl.APIError{Endpoint: "workflows", Status: 401, Attempts: 1, Kind: ghl.ErrTokenRejected}),
			status: http.StatusUnprocessableEntity, slug: "ghl-token-rejected", detail: kindGHLTokenRejected.detail},
		{name: "GHL down", err: wrap(&ghl.APIError{Endpoint: "workflows", Status: 503, Attempts: 4, Kind: ghl.ErrUnavailable}),
			status: http.StatusBadGateway, slug: "ghl-unavailable", detail: kindGHLUnavailable.detail, retryAfter: ghlDefaultRetryAfter},
		{name: "GHL's limit", err: wrap(&ghl.APIError{Endpoint: "workflows", Status: 429, Attempts: 4, RetryAfter: 1500 * time.Millisecond, Kind: ghl.ErrRateLimited}),
			status: http.StatusBadGateway, slug: "ghl-unavailable", detail: kindGHLUnavailable.detail, retryAfter: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ghlProblem(tt.err)
			require.NotNil(t, p)
			require.Equal(t, tt.status, p.Status)
			require.Equal(t, tt.slug, p.Slug)
			require.Equal(t, tt.detail, p.Detail)
			require.Equal(t, tt.retryAfter, p.RetryAfter)
			require.NotContains(t, p.Detail, token)
			require.ErrorIs(t, p, tt.err, "the cause is kept for the log")
		})
	}
	for _, err := range []error{store.ErrNotFound, ghl.ErrDecrypt, errors.New("boom")} {
		require.Nil(t, ghlProblem(err), "%v is not a GHL problem", err)
	}
}

func TestGHLAuthorizationDenied(t *testing.T) {
	require.Equal(t, "GHL did not authorize the app (access_denied); start again from connectGhl.", ghlAuthorizationDenied("access_denied").Detail)
	p := ghlAuthorizationDenied("<script>pit-secret</script>")
	require.Equal(t, kindGHLAuthorizationFailed.detail, p.Detail, "an unknown code is not repeated")
	require.Equal(t, http.StatusBadRequest, p.Status)
}
