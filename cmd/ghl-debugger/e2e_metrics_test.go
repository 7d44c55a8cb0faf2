package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// e2eMetricsToken is the scrape token the metrics end-to-end test configures.
const e2eMetricsToken = "e2e-scrape-token-0123456789"

// e2eFamilies are the metric families a deployment exports after a representative request mix.
var e2eFamilies = []string{
	"http_requests_total", "http_request_duration_seconds", "http_requests_in_flight",
	"database_query_duration_seconds", "database_connections_active", "database_connections_idle",
	"workflow_analysis_total", "analysis_duration_seconds", "findings_total", "active_users", "subscriptions",
	"go_goroutines", "go_memstats_heap_alloc_bytes", "process_start_time_seconds",
}

// labelLeak finds what must never be in a label: the service's ids and keys, and emails.
var labelLeak = regexp.MustCompile(`(acc|loc|key|ghd|ana|wfl)_[A-Za-z0-9]+|[^\s"@{},=]+@[^\s"@]+\.[a-z]+`)

// TestMetricsEndToEnd serves a representative mix of requests with the real binary, once per
// engine, and then scrapes /metrics with the configured token: every family is present, routes are
// templates, and no id, email or key is in any label. It also checks /internal/db-stats, the
// security headers of an error and, when promtool is installed, lints the scrape.
func TestMetricsEndToEnd(t *testing.T) {
	bundle, err := os.ReadFile(brokenAccount)
	require.NoError(t, err)
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			databaseURL, dataDir := storetest.DSN(t, engine)
			env := map[string]string{
				"DATABASE_URL":             databaseURL,
				"GHLD_DATA_DIR":            dataDir,
				"GHLD_METRICS_TOKEN":       e2eMetricsToken,
				"GHLD_CORS_ORIGINS":        "https://app.example.com",
				"GHLD_HSTS":                "true",
				"GHLD_READ_HEADER_TIMEOUT": "5s",
			}
			p := mustStart(t, env)
			t.Cleanup(func() { p.mustStop(t) })
			key := keyPattern.FindString(p.stdout.String())
			require.NotEmpty(t, key, "no admin key on stdout:\n%s", p.stdout)
			admin := client{base: p.baseURL, key: key}

			var acc accountOutput
			mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Reader", "--tier", "free")
			var k keyOutput
			mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "reader")
			reader := client{base: p.baseURL, key: k.Key}

			// The representative mix: an import and analyses (new and reused), reads, the docs,
			// and errors whose paths carry ids, an email and a key.
			var loc gen.Location
			admin.mustDo(t, http.MethodPost, "/v1/locations", `{"ghlLocationId":"metrics-e2e","name":"Metrics"}`, http.StatusCreated, &loc)
			base := "/v1/locations/" + loc.Id
			admin.mustDo(t, http.MethodPost, base+"/workflows", string(bundle), http.StatusCreated, nil)
			var run gen.AnalysisRun
			admin.mustDo(t, http.MethodPost, base+"/analyses", `{"scope":"location"}`, http.StatusCreated, &run)
			admin.mustDo(t, http.MethodPost, base+"/analyses", `{"scope":"location"}`, http.StatusOK, nil)
			for _, path := range []string{"/health", "/health/detailed", "/openapi.json", "/api-docs/", "/v1/me", "/v1/rules",
				base, base + "/workflows", base + "/analyses", "/v1/analyses/" + run.Id} {
				resp, body := admin.do(t, http.MethodGet, path, "")
				require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
			}
			reader.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, nil)
			reader.mustProblem(t, http.MethodGet, base, "", http.StatusNotFound, "not-found")
			client{base: p.baseURL, key: key[:20]}.mustProblem(t, http.MethodGet, "/v1/me", "", http.StatusUnauthorized, "unauthorized")
			admin.mustProblem(t, http.MethodGet, "/v1/nothing/jane.doe@example.com/"+acc.ID+"/"+key, "", http.StatusNotFound, "not-found")

			t.Run("db-stats", func(t *testing.T) {
				reader.mustProblem(t, http.MethodGet, "/internal/db-stats", "", http.StatusForbidden, "forbidden")
				var stats gen.DbStats
				admin.mustDo(t, http.MethodGet, "/internal/db-stats", "", http.StatusOK, &stats)
				require.Equal(t, gen.DbStatsEngine(engine), stats.Engine)
				families := map[string]bool{}
				for _, q := range stats.Queries {
					families[q.Family] = true
				}
				for _, family := range []string{"api_keys.authenticate", "workflows.upsert", "analyses.create", "analyses.find"} {
					require.True(t, families[family], "no %s in /internal/db-stats", family)
				}
			})
			t.Run("security headers on an error", func(t *testing.T) {
				resp, _ := client{base: p.baseURL}.do(t, http.MethodGet, "/v1/me", "")
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
				require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
				require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
				require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
				require.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=31536000")
			})
			t.Run("metrics need the token", func(t *testing.T) {
				client{base: p.baseURL}.mustProblem(t, http.MethodGet, "/metrics", "", http.StatusUnauthorized, "unauthorized")
				admin.mustProblem(t, http.MethodGet, "/metrics", "", http.StatusUnauthorized, "unauthorized")
			})

			resp, scrape := client{base: p.baseURL, key: e2eMetricsToken}.do(t, http.MethodGet, "/metrics", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", scrape)
			require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4"))
			families, labels := mustFamilies(t, scrape)

			t.Run("every family is present", func(t *testing.T) {
				for _, family := range e2eFamilies {
					require.True(t, families[family], "no %s in /metrics", family)
				}
			})
			t.Run("labels are route templates", func(t *testing.T) {
				for _, want := range []string{
					`route="/v1/locations/:locationId"`, `route="/v1/analyses/:analysisId"`,
					`route="/v1/locations/:locationId/analyses"`, `route="unmatched"`, `query="analyses.create"`,
				} {
					require.True(t, anyContains(labels, want), "no series with %s", want)
				}
			})
			t.Run("no id, email or token in any label", func(t *testing.T) {
				for _, l := range labels {
					require.False(t, labelLeak.MatchString(l), "label set %s carries an id, email or token", l)
				}
				for _, secret := range []string{key, k.Key, e2eMetricsToken, acc.ID, loc.Id, run.Id, "jane.doe"} {
					require.NotContains(t, string(scrape), secret)
				}
			})
			t.Run("promtool check metrics", func(t *testing.T) {
				path, err := exec.LookPath("promtool")
				if err != nil {
					t.Skip("promtool is not installed (CI installs Debian's prometheus package)")
				}
				cmd := exec.Command(path, "check", "metrics")
				cmd.Stdin = bytes.NewReader(scrape)
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "promtool check metrics:\n%s", out)
			})
			t.Run("access log carries the account, not the key", func(t *testing.T) {
				var found bool
				sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
				sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
				for sc.Scan() {
					var line map[string]any
					require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "log line %q", sc.Text())
					if line["msg"] == "request" && line["route"] == "/v1/me" && line["account_id"] == acc.ID {
						found = true
					}
				}
				require.True(t, found, "no access log line of the reader's GET /v1/me")
				require.NotContains(t, p.stderr.String(), k.Key)
				require.NotContains(t, p.stderr.String(), e2eMetricsToken)
			})
		})
	}
}

// mustFamilies parses a scrape into the families it declares and the label sets of its samples.
func mustFamilies(tb testing.TB, scrape []byte) (map[string]bool, []string) {
	tb.Helper()
	families := map[string]bool{}
	var labels []string
	sc := bufio.NewScanner(bytes.NewReader(scrape))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ := strings.Cut(rest, " ")
			families[name] = true
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if open := strings.IndexByte(line, '{'); open >= 0 {
			end := strings.LastIndexByte(line, '}')
			require.Greater(tb, end, open, "malformed sample %q", line)
			labels = append(labels, line[open:end+1])
		}
	}
	return families, labels
}

// anyContains reports whether any of the label sets contains want.
func anyContains(labelSets []string, want string) bool {
	for _, l := range labelSets {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}
