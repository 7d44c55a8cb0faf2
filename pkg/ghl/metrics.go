package ghl

import (
	"net/http"
	"strconv"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// The metrics of GHL calls. Labels come from fixed sets (the endpoint, a status class, a retry
// reason, a window), never from a location, a token or a body.

// Endpoints, the endpoint label.
const (
	endpointToken     = "token"
	endpointWorkflows = "workflows"
)

var (
	requestsTotal = metrics.NewCounterVec("ghl_requests_total",
		"Requests sent to GHL, by endpoint (token, workflows) and outcome (2xx, 4xx, 401, 429, 5xx, error).",
		"endpoint", "outcome")
	requestDuration = metrics.NewHistogramVec("ghl_request_duration_seconds",
		"How long one request to GHL took, by endpoint; retries are separate requests.",
		[]float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "endpoint")
	retriesTotal = metrics.NewCounterVec("ghl_retries_total",
		"Requests to GHL sent again, by endpoint and reason (429, 5xx, network).",
		"endpoint", "reason")
	// rateLimitGauge holds the last values of GHL's X-RateLimit-* headers, by window (burst: the
	// 10-second one, daily) and field (limit, remaining); with many locations it is the value of the
	// last answer read, which is what an operator watches to see GHL's budgets run low.
	rateLimitGauge = metrics.NewGaugeVec("ghl_ratelimit",
		"The last X-RateLimit-* values GHL sent, by window (burst, daily) and field (limit, remaining, interval_seconds).",
		"window", "field")
	rateLimitLowTotal = metrics.NewCounterVec("ghl_ratelimit_low_total",
		"GHL answers whose X-RateLimit remaining was under a tenth of the limit, by window (burst, daily).",
		"window")
	limiterWait = metrics.NewHistogram("ghl_limiter_wait_seconds",
		"How long a GHL request waited for the per-location limit (100 per 10 s) before it was sent.",
		[]float64{0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30})
	limiterFallback = metrics.NewCounter("ghl_limiter_fallback_total",
		"GHL limiter calls counted in this instance's memory because Redis did not answer in time.")
	syncsTotal = metrics.NewCounterVec("ghl_syncs_total",
		"Syncs of a location's workflow list, by outcome (ok, failed, broken).",
		"outcome")
)

func init() {
	// Every series exists from the start at zero, so that rate() sees the first event.
	for _, e := range []string{endpointToken, endpointWorkflows} {
		for _, o := range []string{"2xx", "4xx", "401", "429", "5xx", "error"} {
			requestsTotal.With(e, o)
		}
		for _, r := range []string{"429", "5xx", "network"} {
			retriesTotal.With(e, r)
		}
		requestDuration.With(e)
	}
	for _, w := range []string{"burst", "daily"} {
		rateLimitLowTotal.With(w)
	}
	for _, o := range []string{"ok", "failed", "broken"} {
		syncsTotal.With(o)
	}
}

// outcome is the outcome label of a status code.
func outcome(code int) string {
	switch {
	case code == http.StatusUnauthorized:
		return "401"
	case code == http.StatusTooManyRequests:
		return "429"
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	default:
		return "2xx"
	}
}

// observeRateLimit exports GHL's rate-limit headers (documented names: X-RateLimit-Max,
// X-RateLimit-Remaining, X-RateLimit-Interval-Milliseconds, X-RateLimit-Limit-Daily,
// X-RateLimit-Daily-Remaining). Missing or malformed headers are skipped.
func observeRateLimit(h http.Header) {
	burstMax, okMax := headerInt(h, "X-RateLimit-Max")
	burstLeft, okLeft := headerInt(h, "X-RateLimit-Remaining")
	dailyMax, okDMax := headerInt(h, "X-RateLimit-Limit-Daily")
	dailyLeft, okDLeft := headerInt(h, "X-RateLimit-Daily-Remaining")
	if okMax {
		rateLimitGauge.With("burst", "limit").Set(float64(burstMax))
	}
	if okLeft {
		rateLimitGauge.With("burst", "remaining").Set(float64(burstLeft))
	}
	if ms, ok := headerInt(h, "X-RateLimit-Interval-Milliseconds"); ok {
		rateLimitGauge.With("burst", "interval_seconds").Set(float64(ms) / 1000)
	}
	if okDMax {
		rateLimitGauge.With("daily", "limit").Set(float64(dailyMax))
	}
	if okDLeft {
		rateLimitGauge.With("daily", "remaining").Set(float64(dailyLeft))
	}
	if okMax && okLeft && burstLeft*10 < burstMax {
		rateLimitLowTotal.With("burst").Inc()
	}
	if okDMax && okDLeft && dailyLeft*10 < dailyMax {
		rateLimitLowTotal.With("daily").Inc()
	}
}

// headerInt reads a non-negative integer header.
func headerInt(h http.Header, name string) (int64, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}
