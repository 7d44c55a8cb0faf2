package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// ProblemTypeBase prefixes every problem type URI; the slug of the problem follows it.
const ProblemTypeBase = "https://ghl-debugger.dev/problems/"

// contentTypeProblem is the media type of RFC 9457 problem documents.
const contentTypeProblem = "application/problem+json"

// Problem is an error that the API answers with a specific RFC 9457 problem document. Handlers and
// middleware return it (or a domain error that the table below maps to one); the HTTP error handler
// renders it.
type Problem struct {
	// Status is the HTTP status code.
	Status int
	// Slug names the kind of problem; the type URI is ProblemTypeBase + Slug.
	Slug string
	// Title is the same for every occurrence of the kind.
	Title string
	// Detail explains this occurrence to the caller. It never carries internals.
	Detail string
	// InvalidFields lists the fields that failed validation.
	InvalidFields []gen.InvalidField
	// RetryAfter, when positive, is the Retry-After header in seconds: when a refused request may
	// be tried again.
	RetryAfter int64
	// UpgradeURL, when set, is the upgradeUrl member: where a free account over a rate limit can
	// upgrade.
	UpgradeURL string
	// Err is the cause, logged for server errors and never shown.
	Err error
}

// Error describes the problem for logs.
func (p *Problem) Error() string {
	msg := fmt.Sprintf("%d %s", p.Status, p.Slug)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	if p.Err != nil {
		msg += ": " + p.Err.Error()
	}
	return msg
}

// invalidPath reports whether the problem is about a path parameter.
func (p *Problem) invalidPath() bool {
	for _, f := range p.InvalidFields {
		if f.Location == gen.InvalidFieldLocationPath {
			return true
		}
	}
	return false
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Err }

// StatusCode lets Echo's middleware (the request logger, gzip) see the status before it is written.
func (p *Problem) StatusCode() int { return p.Status }

// kind is one kind of problem: its status, slug, title and the detail used when the occurrence has
// nothing more specific to say.
type kind struct {
	status int
	slug   string
	title  string
	detail string
}

// The kinds of problem the API answers with. Their slugs are part of the API: clients may switch on
// the type URI.
var (
	kindValidation = kind{http.StatusBadRequest, "validation-error", "Request validation failed",
		"The request does not match the API specification."}
	kindMalformedJSON = kind{http.StatusBadRequest, "malformed-json", "Malformed JSON",
		"The request body is not valid JSON."}
	kindBadRequest = kind{http.StatusBadRequest, "bad-request", "Bad request",
		"The request could not be understood."}
	kindUnauthorized = kind{http.StatusUnauthorized, "unauthorized", "Unauthorized",
		`Send a valid API key as "Authorization: Bearer ghd_...".`}
	kindMetricsUnauthorized = kind{http.StatusUnauthorized, "unauthorized", "Unauthorized",
		`Send the deployment's metrics token as "Authorization: Bearer TOKEN".`}
	kindForbidden = kind{http.StatusForbidden, "forbidden", "Forbidden",
		"The API key may not do this."}
	kindNotFound = kind{http.StatusNotFound, "not-found", "Not found",
		"The requested resource does not exist."}
	kindMethodNotAllowed = kind{http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
		"The resource does not support this method; the Allow header lists those it does."}
	kindConflict = kind{http.StatusConflict, "conflict", "Conflict",
		"A resource with the same unique values already exists."}
	kindPayloadTooLarge = kind{http.StatusRequestEntityTooLarge, "payload-too-large", "Payload too large",
		"The request body is larger than the service accepts."}
	kindUnsupportedMediaType = kind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
		"The request body must be application/json."}
	kindInternal = kind{http.StatusInternalServerError, "internal-error", "Internal server error",
		"The service could not complete the request."}
	kindUnavailable = kind{http.StatusServiceUnavailable, "service-unavailable", "Service unavailable",
		"The service cannot handle the request now; try again later."}
	kindHeadersTooLarge = kind{http.StatusRequestHeaderFieldsTooLarge, "request-header-fields-too-large", "Request header fields too large",
		"The request's headers are larger than the service accepts."}
	kindNotImplemented = kind{http.StatusNotImplemented, "not-implemented", "Not implemented",
		"The service does not support what the request asks for."}
	kindOverloaded = kind{http.StatusServiceUnavailable, "overloaded", "Service overloaded",
		"The service is computing as many analyses as it can; try again shortly."}
	kindAnalysisTimeout = kind{http.StatusServiceUnavailable, "analysis-timeout", "Analysis timed out",
		"The analysis did not finish within the deadline of one request; nothing was stored."}
	// kindClientClosed is nginx's 499: the client went away before the answer was ready. Nobody
	// reads it; it is what the logs and metrics record instead of a server error.
	kindClientClosed = kind{statusClientClosedRequest, "client-closed-request", "Client closed request",
		"The client closed the connection before the answer was ready."}
	kindRateLimited = kind{http.StatusTooManyRequests, "rate-limited", "Too many requests",
		"The account has used up a rate limit of its tier; try again later."}
	kindDatabaseUnavailable = kind{http.StatusServiceUnavailable, "database-unavailable", "Database unavailable",
		"The database does not answer now; try again after the time in Retry-After."}
)

// databaseRetryAfter is the Retry-After, in seconds, of database-unavailable: PostgreSQL restarts or
// fails over in seconds, and a caller that waits that long gives it the time to come back.
const databaseRetryAfter = 5

// statusClientClosedRequest is the status recorded for a request whose client went away first.
const statusClientClosedRequest = 499

// clientGone reports whether the request of ctx failed because its client went away: net/http
// cancels a request's context when its connection closes, and whatever failed after that (a query
// cancelled mid-flight reports itself in several driver-specific ways, not always as
// context.Canceled) failed through no fault of the service.
func clientGone(ctx context.Context, err error) bool {
	return err != nil && errors.Is(ctx.Err(), context.Canceled)
}

// errorTable maps the domain's errors to the problem the API answers with. Errors not listed here
// (and not a *Problem or an Echo status error) are internal: 500, logged, never shown.
var errorTable = []struct {
	err  error
	kind kind
	// field, when set, names the single invalid field the error is about.
	field *gen.InvalidField
	// retryAfter, when positive, is the problem's Retry-After in seconds.
	retryAfter int64
}{
	{err: store.ErrNotFound, kind: kindNotFound},
	{err: store.ErrUnavailable, kind: kindDatabaseUnavailable, retryAfter: databaseRetryAfter},
	{err: store.ErrConflict, kind: kindConflict},
	{err: store.ErrInvalidCursor, kind: kindValidation, field: &gen.InvalidField{
		Field: "cursor", Location: gen.InvalidFieldLocationQuery, Reason: "is not a cursor this API returned"}},
	{err: errUnauthorized, kind: kindUnauthorized},
	{err: metrics.ErrUnauthorized, kind: kindMetricsUnauthorized},
}

// statusKinds gives the problem for errors that carry only an HTTP status: Echo's own (404 for an
// unknown route, 405, 413 from the body limit) and those of the generated parameter binding.
var statusKinds = map[int]kind{
	http.StatusBadRequest:            kindBadRequest,
	http.StatusUnauthorized:          kindUnauthorized,
	http.StatusForbidden:             kindForbidden,
	http.StatusNotFound:              kindNotFound,
	http.StatusMethodNotAllowed:      kindMethodNotAllowed,
	http.StatusConflict:              kindConflict,
	http.StatusRequestEntityTooLarge: kindPayloadTooLarge,
	http.StatusUnsupportedMediaType:  kindUnsupportedMediaType,
	http.StatusServiceUnavailable:    kindUnavailable,
	http.StatusTooManyRequests:       kindRateLimited,
}

// newProblem returns a problem of kind k; detail "" keeps the kind's default.
func newProblem(k kind, detail string, cause error) *Problem {
	if detail == "" {
		detail = k.detail
	}
	return &Problem{Status: k.status, Slug: k.slug, Title: k.title, Detail: detail, Err: cause}
}

// invalidFieldsProblem is a validation problem naming the given fields.
func invalidFieldsProblem(fields []gen.InvalidField, cause error) *Problem {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if !slices.Contains(names, f.Field) {
			names = append(names, f.Field)
		}
	}
	detail := fmt.Sprintf("%d fields are invalid: %s.", len(names), strings.Join(names, ", "))
	if len(names) == 1 {
		detail = fmt.Sprintf("1 field is invalid: %s.", names[0])
	}
	p := newProblem(kindValidation, detail, cause)
	p.InvalidFields = fields
	return p
}

// invalidField is a validation problem about one field.
func invalidField(field string, location gen.InvalidFieldLocation, reason string) *Problem {
	return invalidFieldsProblem([]gen.InvalidField{{Field: field, Location: location, Reason: reason}}, nil)
}

// toProblem turns any error into the problem the caller sees.
func toProblem(err error) *Problem {
	if p, ok := errors.AsType[*Problem](err); ok {
		return p
	}
	if p := ghlProblem(err); p != nil {
		return p
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			if row.field != nil {
				return invalidFieldsProblem([]gen.InvalidField{*row.field}, err)
			}
			p := newProblem(row.kind, "", err)
			p.RetryAfter = row.retryAfter
			return p
		}
	}
	if code := echo.StatusCode(err); code != 0 {
		if k, ok := statusKinds[code]; ok {
			return newProblem(k, "", err)
		}
		if code < http.StatusInternalServerError {
			return &Problem{Status: code, Slug: "client-error", Title: http.StatusText(code), Detail: http.StatusText(code) + ".", Err: err}
		}
	}
	return newProblem(kindInternal, "", err)
}

// ErrorHandler returns the one Echo error handler of the service. It renders every error, from
// handlers, middleware, the request validator and Echo itself (unknown routes, wrong methods, bodies
// over the limit, panics), as an application/problem+json document that carries the request id.
// It logs server errors (5xx) with their cause and never shows the cause to the caller.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		p := toProblem(err)
		req := c.Request()
		if p.Status >= http.StatusInternalServerError && clientGone(req.Context(), err) {
			p = newProblem(kindClientClosed, "", err)
		}
		requestID := RequestIDFrom(req.Context())
		if p.Status >= http.StatusInternalServerError {
			logger.LogAttrs(req.Context(), slog.LevelError, "request failed",
				slog.String("request_id", requestID),
				slog.String("method", req.Method),
				slog.String("route", c.Path()),
				slog.Int("status", p.Status),
				slog.String("error", err.Error()))
		}
		if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil && resp.Committed {
			// The handler already sent its status; nothing can be added now.
			return
		}
		doc := gen.Problem{
			Type:      ProblemTypeBase + p.Slug,
			Title:     p.Title,
			Status:    int32(p.Status),
			RequestId: requestID,
			Detail:    &p.Detail,
		}
		if matchedOperation(req.Context()) && !p.invalidPath() {
			// Only a path that is one of the API's, with valid parameters, is shown back: any
			// other is the caller's raw input, which a problem document never repeats.
			doc.Instance = &req.URL.Path
		}
		if len(p.InvalidFields) > 0 {
			doc.InvalidFields = &p.InvalidFields
		}
		if p.UpgradeURL != "" {
			doc.UpgradeUrl = &p.UpgradeURL
		}
		h := c.Response().Header()
		if p.Status == http.StatusUnauthorized {
			h.Set("WWW-Authenticate", `Bearer realm="ghl-debugger"`)
		}
		if p.RetryAfter > 0 {
			h.Set(HeaderRetryAfter, strconv.FormatInt(p.RetryAfter, 10))
		}
		h.Set(echo.HeaderContentType, contentTypeProblem)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(p.Status)
		if req.Method == http.MethodHead {
			return
		}
		if err := json.NewEncoder(c.Response()).Encode(doc); err != nil {
			logger.LogAttrs(req.Context(), slog.LevelWarn, "write problem response",
				slog.String("request_id", requestID), slog.String("error", err.Error()))
		}
	}
}
