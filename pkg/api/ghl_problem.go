package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
)

// The kinds of problem of the GHL connection's routes. Their slugs are part of the API, like the
// others (see problem.go).
var (
	kindGHLNotConfigured = kind{http.StatusNotImplemented, "ghl-not-configured", "GHL connection not configured",
		"This deployment is not connected to a GoHighLevel app."}
	kindGHLStateInvalid = kind{http.StatusBadRequest, "ghl-state-invalid", "Invalid OAuth state",
		"The authorization's state was not issued by this service or was changed; start again from connectGhl."}
	kindGHLAuthorizationFailed = kind{http.StatusBadRequest, "ghl-authorization-failed", "GHL authorization failed",
		"GHL did not authorize the app; start again from connectGhl."}
	kindGHLLocationMismatch = kind{http.StatusConflict, "ghl-location-mismatch", "GHL location mismatch",
		"GHL authorized another sub-account than the location's; start again and choose the location's own."}
	kindGHLNotConnected = kind{http.StatusConflict, "ghl-not-connected", "GHL not connected",
		"The location is not connected to GHL, or its connection is broken (the location says why); connect it again."}
	kindGHLTokenRejected = kind{http.StatusUnprocessableEntity, "ghl-token-rejected", "GHL token rejected",
		"GHL refused the token for the location's sub-account (another sub-account's, revoked, or without the workflows.readonly scope)."}
	kindGHLUnavailable = kind{http.StatusBadGateway, "ghl-unavailable", "GHL unavailable",
		"GoHighLevel did not answer usefully; nothing was stored. Try again after the time in Retry-After."}
)

// ghlDefaultRetryAfter is the Retry-After, in seconds, of ghl-unavailable when GHL named no wait.
const ghlDefaultRetryAfter = 30

// ghlProblem returns the problem for an error of pkg/ghl, or nil when err is none of them (the
// store's errors and internal ones go through toProblem). Every detail is written here or built
// from ids and setting names: none repeats an error's text, which could carry what a caller sent.
func ghlProblem(err error) *Problem {
	var notConfigured *ghl.NotConfiguredError
	var mismatch *ghl.LocationMismatchError
	switch {
	case errors.As(err, &notConfigured):
		return newProblem(kindGHLNotConfigured, fmt.Sprintf("This deployment is not connected to a GoHighLevel app; set %s.",
			strings.Join(notConfigured.Missing, ", ")), err)
	case errors.Is(err, ghl.ErrStateUsed):
		return newProblem(kindGHLStateInvalid, "This authorization has already been used; start again from connectGhl.", err)
	case errors.Is(err, ghl.ErrStateExpired):
		return newProblem(kindGHLStateInvalid, fmt.Sprintf("This authorization has expired (it lasts %s); start again from connectGhl.",
			ghl.StateTTL), err)
	case errors.Is(err, ghl.ErrStateInvalid):
		return newProblem(kindGHLStateInvalid, "", err)
	case errors.Is(err, ghl.ErrGrantRejected):
		return newProblem(kindGHLAuthorizationFailed, "GHL refused the authorization code; start again from connectGhl.", err)
	case errors.As(err, &mismatch):
		detail := fmt.Sprintf("GHL authorized sub-account %s, but this location is %s; start again and choose %s.",
			mismatch.Authorized, mismatch.Want, mismatch.Want)
		if mismatch.Authorized == "" {
			detail = fmt.Sprintf("GHL authorized an agency, not a sub-account; start again and choose %s.", mismatch.Want)
		}
		return newProblem(kindGHLLocationMismatch, detail, err)
	case errors.Is(err, ghl.ErrNotConnected):
		return newProblem(kindGHLNotConnected, "", err)
	case errors.Is(err, ghl.ErrTokenRejected):
		return newProblem(kindGHLTokenRejected, "", err)
	case errors.Is(err, ghl.ErrUnavailable), errors.Is(err, ghl.ErrRateLimited), errors.Is(err, ghl.ErrBadRequest):
		p := newProblem(kindGHLUnavailable, "", err)
		p.RetryAfter = ghlDefaultRetryAfter
		var apiErr *ghl.APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			p.RetryAfter = ghlRetryAfter(apiErr.RetryAfter)
		}
		return p
	}
	return nil
}

// ghlAuthorizationDenied is the problem of a callback that GHL sent with error= instead of a code:
// the user declined, or GHL refused the request. The error code is GHL's, from a small OAuth
// vocabulary, and is shown only when it is one of those words.
func ghlAuthorizationDenied(code string) *Problem {
	detail := "GHL did not authorize the app; start again from connectGhl."
	switch code {
	case "access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope",
		"server_error", "temporarily_unavailable":
		detail = fmt.Sprintf("GHL did not authorize the app (%s); start again from connectGhl.", code)
	}
	return newProblem(kindGHLAuthorizationFailed, detail, nil)
}

// ghlRetryAfter is how a wait is shown in Retry-After: whole seconds, at least one.
func ghlRetryAfter(d time.Duration) int64 { return max(int64(math.Ceil(d.Seconds())), 1) }
