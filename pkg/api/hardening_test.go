package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// mustEnvWith builds the handler over a fresh SQLite database with the configuration edited by edit.
func mustEnvWith(tb testing.TB, edit func(*api.Config)) *testEnv {
	tb.Helper()
	return mustDocumentEnv(tb, store.EngineSQLite, edit)
}

// mustAdmin creates an admin account with one API key and returns the key's secret.
func (e *testEnv) mustAdmin(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	acc, err := e.db.CreateAccount(ctx, "Operators", store.TierEnterprise, true)
	require.NoError(tb, err)
	key, err := apikey.New()
	require.NoError(tb, err)
	_, err = e.db.CreateAPIKey(ctx, acc.ID, "ops", key.Hash, key.Display)
	require.NoError(tb, err)
	return key.Secret
}

// mustGunzip undoes one layer of gzip.
func mustGunzip(tb testing.TB, data []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(tb, err)
	plain, err := io.ReadAll(zr)
	require.NoError(tb, err)
	return plain
}

func TestCompression(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierPro)
	for i := range 20 {
		env.mustCreateLocation(t, key, fmt.Sprintf("gz%d", i), "A location with a name long enough to matter")
	}
	identity := env.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key})
	require.Equal(t, http.StatusOK, identity.Code)
	require.Greater(t, identity.Body.Len(), api.DefaultGzipMinBytes, "the list must be over the default threshold")
	small := env.do(t, request{method: http.MethodGet, path: "/v1/me", key: key})
	require.Less(t, small.Body.Len(), api.DefaultGzipMinBytes, "/v1/me must be under the default threshold")

	tests := []struct {
		name    string
		env     *testEnv
		path    string
		headers map[string]string
		gzipped bool
	}{
		{name: "above the threshold", path: "/v1/locations", headers: map[string]string{"Accept-Encoding": "gzip"}, gzipped: true},
		{name: "above the threshold, gzip among others", path: "/v1/locations", headers: map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8, *;q=0.1"}, gzipped: true},
		{name: "below the threshold", path: "/v1/me", headers: map[string]string{"Accept-Encoding": "gzip"}},
		{name: "tiny body", path: "/health", headers: map[string]string{"Accept-Encoding": "gzip"}},
		{name: "skip header", path: "/v1/locations", headers: map[string]string{"Accept-Encoding": "gzip", "X-No-Compression": "1"}},
		{name: "client without Accept-Encoding", path: "/v1/locations"},
		{name: "client that does not take gzip", path: "/v1/locations", headers: map[string]string{"Accept-Encoding": "br, deflate"}},
		{name: "client that refuses gzip", path: "/v1/locations", headers: map[string]string{"Accept-Encoding": "gzip;q=0, identity"}},
		{name: "lower threshold", env: mustEnvWith(t, func(c *api.Config) { c.GzipMinBytes = 64 }),
			path: "/v1/me", headers: map[string]string{"Accept-Encoding": "gzip"}, gzipped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, k := env, key
			if tt.env != nil {
				e = tt.env
				_, k = e.mustAccount(t, "Acme", store.TierPro)
			}
			rec := e.do(t, request{method: http.MethodGet, path: tt.path, key: k, headers: tt.headers})
			require.Equal(t, http.StatusOK, rec.Code)
			body := rec.Body.Bytes()
			if !tt.gzipped {
				require.Empty(t, rec.Header().Get("Content-Encoding"))
				require.True(t, json.Valid(body), "identity body: %s", body)
				return
			}
			require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
			require.Contains(t, rec.Header().Values("Vary"), "Accept-Encoding")
			plain := mustGunzip(t, body)
			require.Less(t, len(body), len(plain), "gzip must make the body smaller")
			require.True(t, json.Valid(plain), "gzip body: %s", plain)
			if tt.path == "/v1/locations" {
				require.Equal(t, identity.Body.String(), string(plain))
			}
		})
	}
}

// mustPanicEnv is an environment whose location list panics: the only handler that panics is one a
// test installs.
func mustPanicEnv(tb testing.TB, env *testEnv) *testEnv {
	tb.Helper()
	return mustEnvWithStore(tb, env.db, failingStore{Store: env.db, panics: true})
}

func TestSecurityHeaders(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierFree)
	panicky := mustPanicEnv(t, env)
	hsts := mustEnvWith(t, func(c *api.Config) { c.HSTS = true })

	tests := []struct {
		name   string
		env    *testEnv
		req    request
		status int
	}{
		{name: "200", env: env, req: request{method: http.MethodGet, path: "/health"}, status: http.StatusOK},
		{name: "200 authenticated", env: env, req: request{method: http.MethodGet, path: "/v1/me", key: key}, status: http.StatusOK},
		{name: "400", env: env, req: request{method: http.MethodGet, path: "/v1/locations?limit=0", key: key}, status: http.StatusBadRequest},
		{name: "401", env: env, req: request{method: http.MethodGet, path: "/v1/me"}, status: http.StatusUnauthorized},
		{name: "404", env: env, req: request{method: http.MethodGet, path: "/v1/nothing-here", key: key}, status: http.StatusNotFound},
		{name: "405", env: env, req: request{method: http.MethodPut, path: "/v1/locations", key: key}, status: http.StatusMethodNotAllowed},
		{name: "500 from a panic", env: panicky, req: request{method: http.MethodGet, path: "/v1/locations", key: key}, status: http.StatusInternalServerError},
		{name: "metrics", env: env, req: request{method: http.MethodGet, path: "/metrics"}, status: http.StatusOK},
		{name: "docs redirect", env: env, req: request{method: http.MethodGet, path: "/api-docs"}, status: http.StatusMovedPermanently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.env.do(t, tt.req)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			h := rec.Header()
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", h.Get("X-Frame-Options"))
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			require.Equal(t, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", h.Get("Content-Security-Policy"))
			require.Empty(t, h.Get("Strict-Transport-Security"), "HSTS is off unless configured")
		})
	}
	t.Run("docs page policy allows its own scripts only", func(t *testing.T) {
		rec := env.do(t, request{method: http.MethodGet, path: "/api-docs/"})
		require.Equal(t, http.StatusOK, rec.Code)
		csp := rec.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'")
		require.Contains(t, csp, "frame-ancestors 'none'")
		require.Contains(t, csp, "connect-src 'self'")
		require.NotContains(t, csp, "unsafe-eval")
		scriptSrc := regexp.MustCompile(`script-src ([^;]*)`).FindStringSubmatch(csp)
		require.NotNil(t, scriptSrc, csp)
		require.NotContains(t, scriptSrc[1], "unsafe-inline")
		// Every inline script of the page is allowed by its hash, and nothing else inline is.
		scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(rec.Body.String(), -1)
		require.NotEmpty(t, scripts)
		require.Equal(t, len(scripts), strings.Count(scriptSrc[1], "'sha256-"))
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	})
	t.Run("HSTS when configured", func(t *testing.T) {
		for _, path := range []string{"/health", "/v1/nothing-here"} {
			rec := hsts.do(t, request{method: http.MethodGet, path: path})
			require.Equal(t, "max-age=31536000; includeSubDomains", rec.Header().Get("Strict-Transport-Security"), path)
		}
	})
}

func TestPanicRecovery(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierFree)
	panicky := mustPanicEnv(t, env)

	rec := panicky.do(t, request{method: http.MethodGet, path: "/v1/locations", key: key, headers: map[string]string{api.HeaderRequestID: "panic-trace-1"}})
	p := mustProblem(t, rec, http.StatusInternalServerError, "internal-error")
	require.Equal(t, "panic-trace-1", p.RequestId)
	require.NotContains(t, rec.Body.String(), "store exploded", "the panic's value never reaches the caller")
	require.NotContains(t, rec.Body.String(), "goroutine")

	logs := panicky.logs.String()
	var failed map[string]any
	for line := range strings.Lines(logs) {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry))
		if entry["msg"] == "request failed" {
			failed = entry
		}
	}
	require.NotNil(t, failed, "the panic is logged:\n%s", logs)
	require.Equal(t, "panic-trace-1", failed["request_id"])
	require.Equal(t, "/v1/locations", failed["route"])
	stack, _ := failed["error"].(string)
	require.Contains(t, stack, "panic: store exploded")
	require.Contains(t, stack, "goroutine ", "the stack is logged")
	require.Contains(t, stack, "failingStore.ListLocations", "the stack names the function that panicked")

	t.Run("the process keeps serving", func(t *testing.T) {
		require.Equal(t, http.StatusOK, panicky.do(t, request{method: http.MethodGet, path: "/health"}).Code)
	})
}

func TestCORS(t *testing.T) {
	const allowed, refused = "https://app.ghl-debugger.dev", "https://evil.example"
	env := mustEnvWith(t, func(c *api.Config) { c.CORSOrigins = []string{allowed, "http://localhost:5173"} })
	_, key := env.mustAccount(t, "Acme", store.TierFree)
	closed := mustEnv(t, store.EngineSQLite)
	_, closedKey := closed.mustAccount(t, "Acme", store.TierFree)

	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": http.MethodPost,
			"Access-Control-Request-Headers": "authorization, content-type"}
	}
	tests := []struct {
		name      string
		env       *testEnv
		req       request
		status    int
		allowedAs string
	}{
		{name: "allowed origin", env: env, req: request{method: http.MethodGet, path: "/v1/me", key: key,
			headers: map[string]string{"Origin": allowed}}, status: http.StatusOK, allowedAs: allowed},
		{name: "allowed origin on an error", env: env, req: request{method: http.MethodGet, path: "/v1/me",
			headers: map[string]string{"Origin": allowed}}, status: http.StatusUnauthorized, allowedAs: allowed},
		{name: "allowed preflight needs no key", env: env, req: request{method: http.MethodOptions, path: "/v1/locations",
			headers: preflight(allowed)}, status: http.StatusNoContent, allowedAs: allowed},
		{name: "refused origin", env: env, req: request{method: http.MethodGet, path: "/v1/me", key: key,
			headers: map[string]string{"Origin": refused}}, status: http.StatusOK},
		{name: "refused preflight", env: env, req: request{method: http.MethodOptions, path: "/v1/locations",
			headers: preflight(refused)}, status: http.StatusNoContent},
		{name: "no origins configured", env: closed, req: request{method: http.MethodGet, path: "/v1/me", key: closedKey,
			headers: map[string]string{"Origin": allowed}}, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.env.do(t, tt.req)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			h := rec.Header()
			require.Equal(t, tt.allowedAs, h.Get("Access-Control-Allow-Origin"))
			if tt.allowedAs == "" {
				require.Empty(t, h.Get("Access-Control-Allow-Methods"))
				require.Empty(t, h.Get("Access-Control-Allow-Headers"))
				return
			}
			require.Empty(t, h.Get("Access-Control-Allow-Credentials"), "keys are sent as headers, never cookies")
			if tt.req.method == http.MethodOptions {
				require.Contains(t, h.Get("Access-Control-Allow-Methods"), http.MethodPost)
				require.Contains(t, h.Get("Access-Control-Allow-Methods"), http.MethodPatch, "updateAccount is a PATCH")
				require.Contains(t, h.Get("Access-Control-Allow-Headers"), "Authorization")
				require.Equal(t, "600", h.Get("Access-Control-Max-Age"))
			} else {
				require.Contains(t, h.Get("Access-Control-Expose-Headers"), api.HeaderRequestID)
				exposed := strings.Split(h.Get("Access-Control-Expose-Headers"), ",")
				require.Contains(t, exposed, api.HeaderRateLimitPolicy)
				require.Contains(t, exposed, api.HeaderRateLimit)
			}
		})
	}
	t.Run("invalid origin is refused at start", func(t *testing.T) {
		_, err := api.NewHandler(api.Config{Store: env.db, Logger: slog.New(slog.DiscardHandler), CORSOrigins: []string{"not an origin"}})
		require.Error(t, err)
	})
}

func TestAccessLog(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	acc, key := env.mustAccount(t, "Acme", store.TierFree)
	loc := env.mustCreateLocation(t, key, "logged", "Logged")
	env.do(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id, key: key, headers: map[string]string{api.HeaderRequestID: "log-trace-1"}})
	env.do(t, request{method: http.MethodGet, path: "/v1/me", headers: map[string]string{api.HeaderRequestID: "log-trace-2"}})

	lines := map[string]map[string]any{}
	for line := range strings.Lines(env.logs.String()) {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "every log line is JSON: %q", line)
		if entry["msg"] == "request" {
			lines[entry["request_id"].(string)] = entry
		}
	}
	got := lines["log-trace-1"]
	require.NotNil(t, got)
	require.Equal(t, "GET", got["method"])
	require.Equal(t, "/v1/locations/:locationId", got["route"], "the route template, not the path with its id")
	require.EqualValues(t, http.StatusOK, got["status"])
	require.Positive(t, got["bytes_out"])
	require.Contains(t, got, "duration_ms")
	require.Equal(t, acc.ID, got["account_id"])

	anonymous := lines["log-trace-2"]
	require.NotNil(t, anonymous)
	require.EqualValues(t, http.StatusUnauthorized, anonymous["status"])
	require.NotContains(t, anonymous, "account_id")
	require.NotContains(t, env.logs.String(), key, "keys never reach the logs")
}

func TestDbStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		admin := env.mustAdmin(t)
		env.mustCreateLocation(t, key, "dbstats", "Stats")

		t.Run("get-401", func(t *testing.T) {
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/internal/db-stats"}), http.StatusUnauthorized, "unauthorized")
		})
		t.Run("get-403/not an admin", func(t *testing.T) {
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/internal/db-stats", key: key}), http.StatusForbidden, "forbidden")
		})
		t.Run("get-200", func(t *testing.T) {
			got := mustJSON[gen.DbStats](t, env.call(t, request{method: http.MethodGet, path: "/internal/db-stats", key: admin}), http.StatusOK)
			require.Equal(t, gen.DbStatsEngine(engine), got.Engine)
			require.Equal(t, int32(metrics.QueryWindow), got.QueryWindow)
			require.Equal(t, int32(env.db.Stats().MaxOpenConnections), got.Pool.MaxOpenConnections)
			require.GreaterOrEqual(t, got.Pool.OpenConnections, int32(1))
			if readers, ok := env.db.ReaderStats(); ok {
				require.NotNil(t, got.ReaderPool, "SQLite reports its readers")
				require.Equal(t, int32(readers.MaxOpenConnections), got.ReaderPool.MaxOpenConnections)
			} else {
				require.Nil(t, got.ReaderPool, "PostgreSQL has one pool")
			}
			families := map[string]gen.QueryFamilyStats{}
			for i, q := range got.Queries {
				families[q.Family] = q
				if i > 0 {
					require.LessOrEqual(t, q.TotalMs, got.Queries[i-1].TotalMs, "the most total time first")
				}
			}
			for _, family := range []string{"api_keys.authenticate", "locations.create"} {
				q, ok := families[family]
				require.True(t, ok, "no %s in %v", family, got.Queries)
				require.Positive(t, q.Calls)
				require.Positive(t, q.Window)
				require.LessOrEqual(t, q.P50Ms, q.P95Ms)
				require.LessOrEqual(t, q.P95Ms, q.P99Ms)
				require.LessOrEqual(t, q.P99Ms, q.MaxMs)
			}
		})
	})
}

// scraped is the parsed output of GET /metrics.
type scraped struct {
	text     string
	types    map[string]string
	help     map[string]string
	families map[string]bool
	// series maps each series (name with labels) to its value.
	series map[string]float64
}

var seriesLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)

// mustScrape requests /metrics and parses it.
func (e *testEnv) mustScrape(tb testing.TB, headers map[string]string) scraped {
	tb.Helper()
	rec := e.do(tb, request{method: http.MethodGet, path: "/metrics", headers: headers})
	require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(tb, metrics.ContentType, rec.Header().Get("Content-Type"))
	s := scraped{text: rec.Body.String(), types: map[string]string{}, help: map[string]string{}, families: map[string]bool{}, series: map[string]float64{}}
	sc := bufio.NewScanner(strings.NewReader(s.text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			s.types[name] = typ
			s.families[name] = true
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			s.help[name] = help
			continue
		}
		m := seriesLine.FindStringSubmatch(line)
		require.NotNil(tb, m, "not a sample: %q", line)
		v, err := strconv.ParseFloat(m[3], 64)
		require.NoError(tb, err, line)
		s.series[m[1]+m[2]] = v
	}
	return s
}

// wantFamilies are the metric families every deployment exports once it has served a
// representative mix of requests.
var wantFamilies = []string{
	"http_requests_total", "http_request_duration_seconds", "http_requests_in_flight",
	"database_query_duration_seconds", "database_connections_active", "database_connections_idle",
	"workflow_analysis_total", "analysis_duration_seconds", "findings_total", "active_users", "subscriptions",
	"go_goroutines", "process_start_time_seconds",
}

// forbiddenInLabels finds what must never be a label value: the service's ids, emails and keys.
var forbiddenInLabels = regexp.MustCompile(`(acc|loc|key|ghd|ana|wfl)_[A-Za-z0-9]+|[^\s"@]+@[^\s"@]+\.[a-z]+`)

// mustRequestMix sends the requests a deployment serves: health, docs, the spec, an account's calls,
// an import and analyses (new and reused), and errors. It returns the created location's id and
// the analysis id.
func (e *testEnv) mustRequestMix(tb testing.TB, key string) (string, string) {
	tb.Helper()
	loc := e.mustCreateLocation(tb, key, "metricsloc", "Metrics")
	e.mustImport(tb, key, loc.Id, bundleDoc)
	run := e.mustAnalyze(tb, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
	e.mustAnalyze(tb, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
	for _, r := range []request{
		{method: http.MethodGet, path: "/health"},
		{method: http.MethodGet, path: "/health/detailed"},
		{method: http.MethodGet, path: "/openapi.json"},
		{method: http.MethodGet, path: "/v1/me", key: key},
		{method: http.MethodGet, path: "/v1/locations/" + loc.Id, key: key},
		{method: http.MethodGet, path: "/v1/analyses/" + run.Id, key: key},
		{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses", key: key},
		{method: http.MethodGet, path: "/v1/rules/WD001"},
		{method: http.MethodGet, path: "/v1/me", key: "ghd_notakey"},
		{method: http.MethodGet, path: "/v1/locations/loc_aaaaaaaaaaaaaaaaaaaa", key: key},
		{method: http.MethodGet, path: "/wp-admin/user@example.com/acc_guess"},
	} {
		e.do(tb, r)
	}
	return loc.Id, run.Id
}

func TestMetrics(t *testing.T) {
	fake := ghltest.New(t)
	env := mustDocumentEnv(t, store.EngineSQLite, withFakeGHL(t, fake))
	acc, key := env.mustAccount(t, "Acme", store.TierPro)
	locID, analysisID := env.mustRequestMix(t, key)
	env.mustGHLConnected(t, key, fake)
	s := env.mustScrape(t, nil)

	t.Run("every family is present", func(t *testing.T) {
		for _, family := range wantFamilies {
			require.True(t, s.families[family], "no %s in:\n%s", family, s.text)
		}
		for _, family := range metrics.Families() {
			require.True(t, s.families[family], "%s is registered but has no series after the request mix", family)
			require.NotEmpty(t, s.help[family], "%s has no help text", family)
		}
		require.Equal(t, "histogram", s.types["http_request_duration_seconds"])
		require.Equal(t, "histogram", s.types["database_query_duration_seconds"])
		require.Equal(t, "histogram", s.types["analysis_duration_seconds"])
	})
	t.Run("labels are route templates", func(t *testing.T) {
		for _, series := range []string{
			`http_requests_total{method="GET",route="/v1/locations/:locationId",status="200"}`,
			`http_requests_total{method="GET",route="/v1/locations/:locationId",status="404"}`,
			`http_requests_total{method="GET",route="/v1/analyses/:analysisId",status="200"}`,
			`http_requests_total{method="POST",route="/v1/locations/:locationId/analyses",status="201"}`,
			`http_requests_total{method="GET",route="/v1/me",status="401"}`,
			`http_requests_total{method="GET",route="unmatched",status="404"}`,
			`http_request_duration_seconds_count{method="GET",route="/v1/locations/:locationId"}`,
			`database_query_duration_seconds_count{query="locations.get"}`,
			`database_query_duration_seconds_count{query="analyses.create"}`,
		} {
			require.Positive(t, s.series[series], "%s is missing or zero", series)
		}
	})
	t.Run("no id, email or token in a label", func(t *testing.T) {
		for series := range s.series {
			_, labels, _ := strings.Cut(series, "{")
			require.False(t, forbiddenInLabels.MatchString(labels), "%s carries an id, email or token", series)
		}
		for _, secret := range []string{acc.ID, locID, analysisID, key, "user@example.com"} {
			require.NotContains(t, s.text, secret)
		}
	})
	t.Run("business metrics", func(t *testing.T) {
		require.Positive(t, s.series[`workflow_analysis_total{tier="pro",result="ok"}`])
		require.Positive(t, s.series[`workflow_analysis_total{tier="pro",result="reused"}`])
		require.Contains(t, s.series, `workflow_analysis_total{tier="free",result="error"}`, "series exist from the start")
		require.Positive(t, s.series[`findings_total{severity="error"}`])
		require.Positive(t, s.series[`analysis_duration_seconds_count`])
		require.GreaterOrEqual(t, s.series["active_users"], 1.0)
		require.Equal(t, 1.0, s.series[`subscriptions{tier="pro"}`], "one pro account in this database")
		require.Equal(t, 0.0, s.series[`subscriptions{tier="enterprise"}`])
	})
	t.Run("a scrape is compressed like any response", func(t *testing.T) {
		rec := env.do(t, request{method: http.MethodGet, path: "/metrics", headers: map[string]string{"Accept-Encoding": "gzip"}})
		require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
		require.Contains(t, string(mustGunzip(t, rec.Body.Bytes())), "# TYPE http_requests_total counter")
	})
}

func TestMetricsToken(t *testing.T) {
	const token = "scrape-token-7c1d"
	env := mustEnvWith(t, func(c *api.Config) { c.MetricsToken = token })
	tests := []struct {
		name          string
		authorization string
		status        int
	}{
		{name: "no token", status: http.StatusUnauthorized},
		{name: "wrong token", authorization: "Bearer scrape-token-7c1e", status: http.StatusUnauthorized},
		{name: "an API key is not the token", authorization: "Bearer " + env.mustAdmin(t), status: http.StatusUnauthorized},
		{name: "right token", authorization: "Bearer " + token, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: "/metrics", headers: map[string]string{"Authorization": tt.authorization}})
			if tt.status == http.StatusOK {
				require.Equal(t, http.StatusOK, rec.Code)
				require.Contains(t, rec.Body.String(), "# TYPE http_requests_total counter")
				return
			}
			p := mustProblem(t, rec, tt.status, "unauthorized")
			require.Contains(t, *p.Detail, "metrics token")
			require.NotContains(t, rec.Body.String(), "http_requests_total")
		})
	}
}

// pendingDashboardMetrics are the metrics the dashboard charts before the feature that exports
// them is built, with that feature. Its panel stays empty until then; the test fails once the
// metric is exported, so the entry is removed when the feature arrives.
var pendingDashboardMetrics = map[string]string{}

// promqlNoise is what is not a metric name in a PromQL expression: label matchers, ranges,
// grouping clauses, strings, numbers and dashboard variables.
var promqlNoise = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|"[^"]*"|\$\w+|\b\d+(\.\d+)?([eE][-+]?\d+)?\b`)

// promqlWords are PromQL's keywords.
var promqlWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}

// metricsOf returns the metric names an expression reads (a histogram's _bucket, _sum and _count
// series become the histogram's family).
func metricsOf(expr string) []string {
	var out []string
	rest := promqlNoise.ReplaceAllString(expr, " ")
	for _, loc := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`).FindAllStringIndex(rest, -1) {
		word := rest[loc[0]:loc[1]]
		if after := strings.TrimLeft(rest[loc[1]:], " "); strings.HasPrefix(after, "(") || slices.Contains(promqlWords, word) {
			continue // a function or an aggregation
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(word, suffix); ok && strings.HasSuffix(base, "_seconds") {
				word = base
			}
		}
		out = append(out, word)
	}
	return out
}

func TestMetricsOf(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []string
	}{
		{name: "rate by label", expr: `sum by (route) (rate(http_requests_total{status=~"5.."}[5m]))`, want: []string{"http_requests_total"}},
		{name: "histogram quantile", expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`,
			want: []string{"http_request_duration_seconds"}},
		{name: "ratio", expr: `sum(rate(cache_hits_total[5m])) / (sum(rate(cache_hits_total[5m])) + sum(rate(cache_misses_total[5m])))`,
			want: []string{"cache_hits_total", "cache_hits_total", "cache_misses_total"}},
		{name: "bare gauge", expr: `sum(active_users) or vector(0)`, want: []string{"active_users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, metricsOf(tt.expr))
		})
	}
}

// TestDashboard requires every metric the Grafana dashboard queries to be exported (or pending, see
// pendingDashboardMetrics), and the dashboard to chart what the service promises: traffic, latency,
// errors, cache hit ratio, rate limiting and analyses.
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile("../../deploy/grafana/ghl-debugger.json")
	require.NoError(t, err)
	var dashboard struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dashboard))

	env := mustDocumentEnv(t, store.EngineSQLite, nil)
	_, key := env.mustAccount(t, "Acme", store.TierPro)
	env.mustRequestMix(t, key)
	s := env.mustScrape(t, nil)

	var titles []string
	queried := map[string]bool{}
	for _, p := range dashboard.Panels {
		titles = append(titles, strings.ToLower(p.Title))
		for _, target := range p.Targets {
			for _, m := range metricsOf(target.Expr) {
				queried[m] = true
			}
		}
	}
	for m := range queried {
		if feature, ok := pendingDashboardMetrics[m]; ok {
			require.False(t, s.families[m], "%s is exported now: remove it from pendingDashboardMetrics (%s)", m, feature)
			continue
		}
		require.True(t, s.families[m], "the dashboard queries %s, which the service does not export", m)
	}
	for _, topic := range []string{"traffic", "latency", "error", "cache hit ratio", "rate limit", "analyses"} {
		require.True(t, slices.ContainsFunc(titles, func(title string) bool { return strings.Contains(title, topic) }),
			"no panel about %s among %v", topic, titles)
	}
}

// unlimited is a rate limiter that allows every event, for benchmarks, which would otherwise use up
// an account's budget within their first few hundred iterations.
type unlimited struct{}

func (unlimited) Take(_ context.Context, _ string, _ ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error) {
	window := time.Minute
	if b == ratelimit.Analyses {
		window = time.Hour
	}
	return ratelimit.Result{Budget: b, Limit: math.MaxInt32, Remaining: math.MaxInt32, Window: window,
		Reset: time.Now().Add(window), Allowed: true}, nil
}

func (u unlimited) Peek(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error) {
	return u.Take(ctx, accountID, p, b)
}

func (unlimited) Status(context.Context) ratelimit.Status { return ratelimit.Status{} }

func (unlimited) Refund(context.Context, string, ratelimit.Policy, ratelimit.Budget) error {
	return nil
}

// mustReportResponse stores the analysis of the open-source auditor's broken-account sample (76
// workflows) and returns the environment, the key and the path that serves it: a representative
// large JSON response.
func mustReportResponse(b *testing.B) (*testEnv, string, string) {
	b.Helper()
	doc, err := os.ReadFile("../analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json")
	require.NoError(b, err)
	env := mustDocumentEnv(b, storetest.Engines(b)[0], func(c *api.Config) {
		c.MaxBodyBytes = 1 << 20
		c.RateLimiter = unlimited{}
	})
	_, key := env.mustAccount(b, "Acme", store.TierEnterprise)
	loc := env.mustCreateLocation(b, key, "broken", "Broken account")
	env.mustImport(b, key, loc.Id, string(doc))
	run := env.mustAnalyze(b, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
	return env, key, "/v1/analyses/" + run.Id
}

// BenchmarkGzipLevels compresses the representative response at several gzip levels, the
// measurements behind the level the service uses.
//
//	go test ./pkg/api -run '^$' -bench BenchmarkGzipLevels
func BenchmarkGzipLevels(b *testing.B) {
	env, key, path := mustReportResponse(b)
	body := env.do(b, request{method: http.MethodGet, path: path, key: key}).Body.Bytes()
	for _, level := range []int{gzip.BestSpeed, 4, gzip.DefaultCompression, gzip.BestCompression} {
		b.Run(fmt.Sprintf("level=%d", level), func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				zw, err := gzip.NewWriterLevel(&out, level)
				require.NoError(b, err)
				_, err = zw.Write(body)
				require.NoError(b, err)
				require.NoError(b, zw.Close())
			}
			b.ReportMetric(float64(out.Len()), "bytes/resp")
		})
	}
}

// BenchmarkGzip measures the representative large JSON response (see mustReportResponse) served
// with and without gzip: bytes on the wire per response and the time to serve it.
//
//	go test ./pkg/api -run '^$' -bench 'BenchmarkGzip$' -benchmem
func BenchmarkGzip(b *testing.B) {
	env, key, path := mustReportResponse(b)

	for _, bc := range []struct {
		name    string
		headers map[string]string
	}{
		{name: "identity", headers: map[string]string{"X-No-Compression": "1"}},
		{name: "gzip", headers: map[string]string{"Accept-Encoding": "gzip"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				for k, v := range bc.headers {
					req.Header.Set(k, v)
				}
				env.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/resp")
		})
	}
}
