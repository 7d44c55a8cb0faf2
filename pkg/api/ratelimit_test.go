package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// testUpgradeURL is the upgrade page the rate-limit tests configure.
const testUpgradeURL = "https://example.test/upgrade"

// ietfPolicy and ietfRemaining match the IETF headers of the requests budget exactly as the spec
// shows them: `"requests";q=100;w=60` and `"requests";r=99;t=42`.
var (
	ietfPolicy    = regexp.MustCompile(`^"requests";q=(\d+);w=(\d+)$`)
	ietfRemaining = regexp.MustCompile(`^"requests";r=(\d+);t=(\d+)$`)
)

// mustRateLimitHeaders checks that rec carries the requests budget's headers, as non-negative
// integers with what remains at most the limit and a reset within the next minute (and a second),
// and the IETF ones saying the same: the limit over a one-minute window, what remains, and the
// seconds until the reset. It returns the X-RateLimit-* values.
func mustRateLimitHeaders(tb testing.TB, rec *httptest.ResponseRecorder) (limit, remaining int, reset time.Time) {
	tb.Helper()
	get := func(name string) int64 {
		raw := rec.Header().Get(name)
		require.NotEmpty(tb, raw, "%s is missing", name)
		n, err := strconv.ParseInt(raw, 10, 64)
		require.NoError(tb, err, "%s: %q", name, raw)
		require.GreaterOrEqual(tb, n, int64(0), "%s", name)
		return n
	}
	limit, remaining = int(get(api.HeaderRateLimitLimit)), int(get(api.HeaderRateLimitRemaining))
	reset = time.Unix(get(api.HeaderRateLimitReset), 0)
	require.LessOrEqual(tb, remaining, limit)
	now := time.Now()
	require.True(tb, reset.After(now.Add(-time.Second)), "reset %s is past", reset)
	require.False(tb, reset.After(now.Add(time.Minute+2*time.Second)), "reset %s is beyond the window", reset)

	policy := ietfPolicy.FindStringSubmatch(rec.Header().Get(api.HeaderRateLimitPolicy))
	require.NotNil(tb, policy, "%s: %q", api.HeaderRateLimitPolicy, rec.Header().Get(api.HeaderRateLimitPolicy))
	require.Equal(tb, strconv.Itoa(limit), policy[1], "q is the limit")
	require.Equal(tb, "60", policy[2], "w is the window in seconds")
	left := ietfRemaining.FindStringSubmatch(rec.Header().Get(api.HeaderRateLimit))
	require.NotNil(tb, left, "%s: %q", api.HeaderRateLimit, rec.Header().Get(api.HeaderRateLimit))
	require.Equal(tb, strconv.Itoa(remaining), left[1], "r is what remains")
	t, err := strconv.Atoi(left[2])
	require.NoError(tb, err)
	// t was rounded up from the reset at the moment the response was made, a moment ago.
	require.InDelta(tb, reset.Sub(now).Seconds(), float64(t), 1.5, "t is the seconds until the reset")
	require.LessOrEqual(tb, t, 61)
	return limit, remaining, reset
}

// mustNoRateLimitHeaders checks that rec carries none of the rate-limit headers.
func mustNoRateLimitHeaders(tb testing.TB, rec *httptest.ResponseRecorder) {
	tb.Helper()
	for _, name := range []string{api.HeaderRateLimitLimit, api.HeaderRateLimitRemaining, api.HeaderRateLimitReset,
		api.HeaderRateLimitPolicy, api.HeaderRateLimit, api.HeaderRetryAfter} {
		require.Empty(tb, rec.Header().Get(name), "%s", name)
	}
}

// mustRateLimited checks a 429 problem of budget: its detail names the budget, the tier and a
// reset, Retry-After is within the window, and upgradeUrl is there for free accounts only. It
// returns the problem.
func mustRateLimited(tb testing.TB, rec *httptest.ResponseRecorder, t tier.Name, budget string, limit int, window time.Duration) gen.Problem {
	tb.Helper()
	p := mustProblem(tb, rec, http.StatusTooManyRequests, "rate-limited")
	require.Contains(tb, *p.Detail, fmt.Sprintf("%d %s of its %s tier", limit, budget, t))
	require.Contains(tb, *p.Detail, "resets at ")
	retry, err := strconv.Atoi(rec.Header().Get(api.HeaderRetryAfter))
	require.NoError(tb, err, "Retry-After %q", rec.Header().Get(api.HeaderRetryAfter))
	require.GreaterOrEqual(tb, retry, 1)
	require.LessOrEqual(tb, time.Duration(retry)*time.Second, window+2*time.Second)
	if t == tier.Free {
		require.NotNil(tb, p.UpgradeUrl)
		require.Equal(tb, testUpgradeURL, *p.UpgradeUrl)
	} else {
		require.Nil(tb, p.UpgradeUrl)
	}
	return p
}

// mustRateLimitEnv builds the handler over a fresh database on engine with room for workflow
// documents, the test upgrade page, and lim as its limiter (nil: the default, in memory).
func mustRateLimitEnv(tb testing.TB, engine string, lim api.RateLimiter) *testEnv {
	tb.Helper()
	return mustDocumentEnv(tb, engine, func(c *api.Config) {
		c.RateLimiter = lim
		c.UpgradeURL = testUpgradeURL
	})
}

// mustHandler builds a second handler over env's database with lim, as another instance of the
// service would be.
func (e *testEnv) mustHandler(tb testing.TB, lim api.RateLimiter) *testEnv {
	tb.Helper()
	logs := &logtest.Buffer{}
	h, err := api.NewHandler(api.Config{
		Store: e.db, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Version: "v1.2.3-test",
		MaxBodyBytes: documentBodyBytes, RateLimiter: lim, UpgradeURL: testUpgradeURL,
	})
	require.NoError(tb, err)
	return &testEnv{db: e.db, handler: h, logs: logs}
}

// mustLimiter returns a limiter on the Redis at redisURL ("" for memory only) with the service's
// timeout, under a key prefix of its own.
func mustLimiter(tb testing.TB, redisURL, prefix string) *ratelimit.Limiter {
	tb.Helper()
	cfg := ratelimit.Config{Prefix: prefix}
	if redisURL != "" {
		opts, err := redis.ParseURL(redisURL)
		require.NoError(tb, err)
		opts.ContextTimeoutEnabled = true
		client := redis.NewClient(opts)
		tb.Cleanup(func() { _ = client.Close() })
		cfg.Redis = client
	}
	l, err := ratelimit.New(cfg)
	require.NoError(tb, err)
	return l
}

// mustMe reads GET /v1/me.
func (e *testEnv) mustMe(tb testing.TB, key string) gen.Me {
	tb.Helper()
	return mustJSON[gen.Me](tb, e.call(tb, request{method: http.MethodGet, path: "/v1/me", key: key}), http.StatusOK)
}

func TestRateLimitRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)

		t.Run("me-200/headers count down", func(t *testing.T) {
			_, key := env.mustAccount(t, "Headers", store.TierFree)
			for i := 1; i <= 3; i++ {
				rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
				require.Equal(t, http.StatusOK, rec.Code)
				limit, remaining, _ := mustRateLimitHeaders(t, rec)
				require.Equal(t, 20, limit)
				require.Equal(t, 20-i, remaining)
			}
		})
		t.Run("list-429/free on request 21", func(t *testing.T) {
			_, key := env.mustAccount(t, "Free", store.TierFree)
			var reset time.Time
			for i := 1; i <= 20; i++ {
				rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
				require.Equal(t, http.StatusOK, rec.Code, "request %d", i)
				_, remaining, r := mustRateLimitHeaders(t, rec)
				require.Equal(t, 20-i, remaining)
				reset = r
			}
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
			mustRateLimited(t, rec, tier.Free, "requests per minute", 20, time.Minute)
			limit, remaining, r := mustRateLimitHeaders(t, rec)
			require.Equal(t, 20, limit)
			require.Zero(t, remaining)
			require.Equal(t, reset, r, "one window")

			t.Run("on every operation", func(t *testing.T) {
				rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: `{"ghlLocationId":"x","name":"y"}`})
				mustRateLimited(t, rec, tier.Free, "requests per minute", 20, time.Minute)
			})
			t.Run("before validation", func(t *testing.T) {
				rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations", key: key, body: `{"nope":1}`})
				mustRateLimited(t, rec, tier.Free, "requests per minute", 20, time.Minute)
			})
		})
		t.Run("me-200/pro is not limited at 21", func(t *testing.T) {
			_, key := env.mustAccount(t, "Pro", store.TierPro)
			for i := 1; i <= 25; i++ {
				rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
				require.Equal(t, http.StatusOK, rec.Code, "request %d", i)
			}
			me := env.mustMe(t, key)
			require.Equal(t, int32(26), me.Usage.RequestsThisMinute)
		})
		t.Run("me-429/pro on request 101, without an upgrade link", func(t *testing.T) {
			_, key := env.mustAccount(t, "Pro at the limit", store.TierPro)
			for i := 1; i <= 100; i++ {
				require.Equal(t, http.StatusOK, env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key}).Code, "request %d", i)
			}
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
			mustRateLimited(t, rec, tier.Pro, "requests per minute", 100, time.Minute)
		})
		t.Run("invalid requests count", func(t *testing.T) {
			_, key := env.mustAccount(t, "Sloppy", store.TierFree)
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations?limit=0", key: key})
			mustInvalidFields(t, rec, field("limit", queryLoc))
			_, remaining, _ := mustRateLimitHeaders(t, rec)
			require.Equal(t, 19, remaining, "error responses carry the headers too")
		})
		t.Run("me-401/neither counted nor labelled", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: "ghd_" + strings.Repeat("x", 40)})
			mustProblem(t, rec, http.StatusUnauthorized, "unauthorized")
			mustNoRateLimitHeaders(t, rec)
		})
		t.Run("public operations are not limited", func(t *testing.T) {
			_, key := env.mustAccount(t, "Reader", store.TierFree)
			for _, path := range []string{"/v1/rules", "/health", "/health/detailed"} {
				rec := env.call(t, request{method: http.MethodGet, path: path, key: key})
				require.Equal(t, http.StatusOK, rec.Code, path)
				mustNoRateLimitHeaders(t, rec)
			}
			require.Equal(t, int32(1), env.mustMe(t, key).Usage.RequestsThisMinute, "only this request counted")
		})
		t.Run("accounts are limited apart", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Busy", store.TierFree)
			_, otherKey := env.mustAccount(t, "Quiet", store.TierFree)
			// Another key of the same account shares its budget.
			secondKey := env.mustAPIKey(t, acc.ID)
			for range 10 {
				env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key})
				env.do(t, request{method: http.MethodGet, path: "/v1/me", key: secondKey})
			}
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}), http.StatusTooManyRequests, "rate-limited")
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: secondKey}), http.StatusTooManyRequests, "rate-limited")
			require.Equal(t, http.StatusOK, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: otherKey}).Code)
		})
		t.Run("a tier change applies to the next request", func(t *testing.T) {
			acc, key := env.mustAccount(t, "Upgrader", store.TierFree)
			for range 20 {
				env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key})
			}
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}), http.StatusTooManyRequests, "rate-limited")

			env.mustSetTier(t, acc.ID, store.TierPro)
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key})
			require.Equal(t, http.StatusOK, rec.Code)
			limit, remaining, _ := mustRateLimitHeaders(t, rec)
			require.Equal(t, 100, limit)
			require.Equal(t, 100-22, remaining, "the window keeps counting across the change")

			env.mustSetTier(t, acc.ID, store.TierFree)
			mustRateLimited(t, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}), tier.Free, "requests per minute", 20, time.Minute)
		})
	})
}

func TestRateLimitAnalyses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Free analyst", store.TierFree)
		loc := env.mustCreateLocation(t, key, "ratelimited", "Rate limited")
		env.mustImport(t, key, loc.Id, bundleDoc)
		documentAnalysis := func(steps int) request {
			return request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleOf(1, steps) + `}`}
		}

		first := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		t.Run("analyze-200/reuse is free", func(t *testing.T) {
			again := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
			require.Equal(t, first.Id, again.Id)
			require.Equal(t, int32(1), env.mustMe(t, key).Usage.AnalysesThisHour)
		})
		t.Run("analyze document-201/up to the limit", func(t *testing.T) {
			for steps := 1; steps <= 9; steps++ {
				rec := env.call(t, documentAnalysis(steps))
				require.Equal(t, http.StatusCreated, rec.Code, "analysis %d: %s", steps+1, rec.Body.String())
			}
		})
		t.Run("analyze document-429/the 11th computed analysis", func(t *testing.T) {
			limited := `workflow_analysis_total{tier="free",result="rate_limited"}`
			before := env.mustScrape(t, nil).series[limited]
			rec := env.call(t, documentAnalysis(10))
			mustRateLimited(t, rec, tier.Free, "analyses per hour", 10, time.Hour)
			require.Equal(t, before+1, env.mustScrape(t, nil).series[limited], "a refused analysis counts as rate_limited")
			retry, err := strconv.Atoi(rec.Header().Get(api.HeaderRetryAfter))
			require.NoError(t, err)
			require.Greater(t, time.Duration(retry)*time.Second, time.Hour-time.Minute, "the analyses window, not the requests one")
			// The request itself was allowed: the headers show the requests budget.
			_, remaining, _ := mustRateLimitHeaders(t, rec)
			require.Positive(t, remaining)
		})
		t.Run("analyze location-429/a new workflow scope is computed", func(t *testing.T) {
			imported := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/analyses", key: key,
				body: `{"scope":"workflow","workflowId":"` + imported["wf_noshow"].Id + `"}`})
			mustRateLimited(t, rec, tier.Free, "analyses per hour", 10, time.Hour)
		})
		t.Run("analyze-200/reused analyses still pass", func(t *testing.T) {
			again := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
			require.Equal(t, first.Id, again.Id)
			rec := env.call(t, documentAnalysis(1))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
		t.Run("me-200/usage", func(t *testing.T) {
			me := env.mustMe(t, key)
			require.Equal(t, int32(10), me.Usage.AnalysesThisHour)
			// Location, import, 2 location analyses, /v1/me, 9 + 1 document analyses, import and
			// workflow analysis, 2 reused analyses, and this request.
			require.Equal(t, int32(20), me.Usage.RequestsThisMinute)
		})
	})
}

func TestRateLimitAnalysesPro(t *testing.T) {
	env := mustRateLimitEnv(t, store.EngineSQLite, nil)
	_, key := env.mustAccount(t, "Pro analyst", store.TierPro)
	for steps := 1; steps <= 11; steps++ {
		rec := env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + bundleOf(1, steps) + `}`})
		require.Equal(t, http.StatusCreated, rec.Code, "analysis %d: %s", steps, rec.Body.String())
	}
	require.Equal(t, int32(11), env.mustMe(t, key).Usage.AnalysesThisHour)
}

func TestRateLimitSharedByInstances(t *testing.T) {
	mr := miniredis.RunT(t)
	one := mustRateLimitEnv(t, store.EngineSQLite, mustLimiter(t, "redis://"+mr.Addr(), "shared"))
	two := one.mustHandler(t, mustLimiter(t, "redis://"+mr.Addr(), "shared"))
	_, key := one.mustAccount(t, "Spread", store.TierFree)
	for i := range 20 {
		env := one
		if i%2 == 1 {
			env = two
		}
		require.Equal(t, http.StatusOK, env.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}).Code, "request %d", i+1)
	}
	mustRateLimited(t, one.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}), tier.Free, "requests per minute", 20, time.Minute)
	mustRateLimited(t, two.call(t, request{method: http.MethodGet, path: "/v1/me", key: key}), tier.Free, "requests per minute", 20, time.Minute)
}

func TestRateLimitWithoutRedis(t *testing.T) {
	// Redis is configured but nothing listens: requests are served, counted in memory.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	lim := mustLimiter(t, "redis://"+addr, "down")
	env := mustRateLimitEnv(t, store.EngineSQLite, lim)
	_, key := env.mustAccount(t, "Unlucky", store.TierFree)
	for i := 1; i <= 20; i++ {
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
		require.Equal(t, http.StatusOK, rec.Code, "request %d", i)
	}
	mustRateLimited(t, env.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), tier.Free, "requests per minute", 20, time.Minute)

	rec := env.call(t, request{method: http.MethodGet, path: "/health/detailed"})
	got := mustJSON[gen.HealthDetailed](t, rec, http.StatusOK)
	require.Equal(t, gen.HealthDetailedStatusOk, got.Status, "Redis being down does not make the service unavailable")
	require.Equal(t, gen.RateLimiterHealthModeMemoryFallback, got.RateLimiter.Mode)
	require.NotNil(t, got.RateLimiter.RedisReachable)
	require.False(t, *got.RateLimiter.RedisReachable)
	require.Equal(t, int64(21), got.RateLimiter.Fallbacks)
}

func TestRateLimiterHealth(t *testing.T) {
	mr := miniredis.RunT(t)
	tests := []struct {
		name      string
		limiter   api.RateLimiter
		mode      gen.RateLimiterHealthMode
		reachable *bool
	}{
		{name: "memory", limiter: nil, mode: gen.RateLimiterHealthModeMemory},
		{name: "redis", limiter: mustLimiter(t, "redis://"+mr.Addr(), "health"), mode: gen.RateLimiterHealthModeRedis, reachable: new(true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := mustRateLimitEnv(t, store.EngineSQLite, tt.limiter)
			got := mustJSON[gen.HealthDetailed](t, env.call(t, request{method: http.MethodGet, path: "/health/detailed"}), http.StatusOK)
			require.Equal(t, tt.mode, got.RateLimiter.Mode)
			require.Equal(t, tt.reachable, got.RateLimiter.RedisReachable)
			require.Zero(t, got.RateLimiter.Fallbacks)
			if tt.reachable == nil {
				require.Nil(t, got.RateLimiter.RedisLatencyMs)
			} else {
				require.NotNil(t, got.RateLimiter.RedisLatencyMs)
			}
		})
	}
}

// TestSpecDocumentsTierLimits holds the tier table in openapi.yaml's description to the product's
// table in package tier.
func TestSpecDocumentsTierLimits(t *testing.T) {
	spec, err := gen.GetSpec()
	require.NoError(t, err)
	for _, name := range tier.Names() {
		l, ok := tier.LimitsFor(name)
		require.True(t, ok)
		require.Contains(t, spec.Info.Description, fmt.Sprintf("| %s | %d | %d |", name, l.RequestsPerMinute, l.AnalysesPerHour))
	}
}

// mustAPIKey gives the account another API key and returns its secret.
func (e *testEnv) mustAPIKey(tb testing.TB, accountID string) string {
	tb.Helper()
	key, err := apikey.New()
	require.NoError(tb, err)
	_, err = e.db.CreateAPIKey(context.Background(), accountID, "second", key.Hash, key.Display)
	require.NoError(tb, err)
	return key.Secret
}

// mustSetTier changes an account's tier directly in the store, as an operator would.
func (e *testEnv) mustSetTier(tb testing.TB, accountID string, t store.Tier) {
	tb.Helper()
	// Through the API, as an operator does: it also forgets the account's cached authentications.
	e.mustPatchAccount(tb, e.mustAdmin(tb), accountID, `{"tier":"`+string(t)+`"}`)
}
