package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"
)

// RouteUnmatched is the route label of a request that matched no route (a 404 from the router), so
// that a scan of random paths adds one series, not one per path.
const RouteUnmatched = "unmatched"

// methodOther is the method label of a request with a method HTTP does not define: a client may send
// any token as its method, and each would otherwise become a series.
const methodOther = "OTHER"

// httpBuckets are the upper bounds of the HTTP latency histogram, in seconds: most API calls take a
// millisecond or less, analyses of large locations up to seconds.
var httpBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

var (
	httpRequests = NewCounterVec("http_requests_total",
		"HTTP requests answered, by method, route template and status code.",
		"method", "route", "status")
	httpDuration = NewHistogramVec("http_request_duration_seconds",
		"Time from a request reaching the service to its response being written, by method and route template.",
		httpBuckets, "method", "route")
	httpInFlight atomic.Int64
	_            = NewGauge("http_requests_in_flight", "HTTP requests being served now.",
		func() float64 { return float64(httpInFlight.Load()) })
)

// HTTP returns the middleware that counts and times every request by method, route template and
// status. Put it outside the middleware that renders errors (the request logger), so that the status
// it reads is the one the caller received; an error that still reaches it is counted with the
// status the error handler will give it.
func HTTP() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			httpInFlight.Add(1)
			defer httpInFlight.Add(-1)
			start := time.Now()
			err := next(c)
			_, status := echo.ResolveResponseStatus(c.Response(), err)
			method, route := methodLabel(c.Request().Method), Route(c)
			httpRequests.With(method, route, strconv.Itoa(status)).Inc()
			httpDuration.With(method, route).UpdateDuration(start)
			return err
		}
	}
}

// Route is the route template of the request, such as /v1/locations/:locationId, or RouteUnmatched
// when the router found none. It never holds an id from the path.
func Route(c *echo.Context) string {
	if c.Path() == "" || c.RouteInfo().Name == echo.NotFoundRouteName {
		return RouteUnmatched
	}
	return c.Path()
}

// methodLabel keeps the methods HTTP defines and folds every other token into one label.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	default:
		return methodOther
	}
}
