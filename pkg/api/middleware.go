package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

// maxRequestIDLength bounds a caller's request id so it cannot bloat logs.
const maxRequestIDLength = 128

type requestIDKey struct{}

// RequestIDFrom returns the request id that the request-id middleware stored in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID takes the caller's X-Request-ID when it is safe to log (1 to 128 characters of
// A-Z a-z 0-9 . _ : -) and otherwise makes a new one. It stores the id in the request context, for
// the logs and problem documents, and echoes it in the response header.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req := c.Request()
			id := req.Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(HeaderRequestID, id)
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestIDKey{}, id)))
			return next(c)
		}
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 128 random bits in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead), see its documentation.
	return hex.EncodeToString(b[:])
}

// requestLogger writes one structured line per request once the response is complete: request id,
// method, route template, status, bytes sent, duration and, for an authenticated request, the
// account id. It hands a returned error to the error handler itself, so the line carries the
// status the caller received. It logs the route template, not the path, query string or headers,
// so no key or personal data reaches the logs.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Echo().HTTPErrorHandler(c, err)
			}
			req := c.Request()
			status, size := http.StatusOK, int64(0)
			if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil {
				status, size = resp.Status, resp.Size
			}
			level := slog.LevelInfo
			if status >= http.StatusInternalServerError {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("request_id", RequestIDFrom(req.Context())),
				slog.String("method", req.Method),
				slog.String("route", metrics.Route(c)),
				slog.Int("status", status),
				slog.Int64("bytes_out", size),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			}
			if p, ok := PrincipalFrom(req.Context()); ok {
				attrs = append(attrs, slog.String("account_id", p.Account.ID))
			}
			logger.LogAttrs(req.Context(), level, "request", attrs...)
			return nil
		}
	}
}

// recoverPanics turns a panic in a handler into an error, with the stack for the log, so the
// caller gets a 500 problem document and the process keeps serving. http.ErrAbortHandler is
// re-raised: it is net/http's way to abort a response on purpose.
func recoverPanics() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}()
			return next(c)
		}
	}
}

// limitBody refuses request bodies larger than limit with 413: at once when Content-Length says so,
// otherwise when a reader reaches the limit (http.MaxBytesReader, which also makes the server close
// the connection rather than read the rest).
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return payloadTooLarge(limit)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			return next(c)
		}
	}
}

// payloadTooLarge is the 413 problem for a body over limit bytes.
func payloadTooLarge(limit int64) *Problem {
	return newProblem(kindPayloadTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", limit), nil)
}
