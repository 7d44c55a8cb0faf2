package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ghldebugger "github.com/ghl-debugger/ghl-debugger"
)

// verifyChecks are the names of verify's checks, in the order it prints them.
var verifyChecks = []string{
	"health", "health-detailed", "metrics", "docs", "spec", "compression",
	"security-headers", "auth-required", "authenticated-call", "rate-limit-headers",
}

// reportLine is one line of verify's report.
var reportLine = regexp.MustCompile(`^(PASS|FAIL|SKIP)  (\S+)\s+(.*)$`)

// verifyLine is one parsed report line.
type verifyLine struct {
	status checkStatus
	detail string
}

// mustParseReport parses verify's stdout into its check lines, requiring one line per check in
// the documented order.
func mustParseReport(tb testing.TB, out string) map[string]verifyLine {
	tb.Helper()
	lines := map[string]verifyLine{}
	var order []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		m := reportLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lines[m[2]] = verifyLine{status: checkStatus(m[1]), detail: m[3]}
		order = append(order, m[2])
	}
	require.Equal(tb, verifyChecks, order, "report:\n%s", out)
	return lines
}

// TestVerifyAgainstServer runs the verify command of the real binary against the real server, with
// /metrics protected by a token: every check must pass, and the metrics check must pass only with
// the token.
func TestVerifyAgainstServer(t *testing.T) {
	const metricsToken = "verify-scrape-token-0123456789"
	env := map[string]string{"GHLD_DATA_DIR": t.TempDir(), envMetricsToken: metricsToken}
	p := mustStart(t, env)
	key := keyPattern.FindString(p.stdout.String())
	require.NotEmpty(t, key, "no admin key on stdout:\n%s", p.stdout)

	t.Run("spec served as committed", func(t *testing.T) {
		resp, body := client{base: p.baseURL}.do(t, http.MethodGet, "/openapi.yaml", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "application/yaml", resp.Header.Get("Content-Type"))
		require.True(t, bytes.Equal(ghldebugger.OpenAPIYAML, body), "GET /openapi.yaml is not openapi.yaml byte for byte")
	})

	t.Run("with key", func(t *testing.T) {
		out, code := mustRunVerify(t, "verify", p.baseURL, "--key", key, "--metrics-token", metricsToken)
		lines := mustParseReport(t, out)
		for _, name := range verifyChecks {
			require.Equal(t, statusPass, lines[name].status, "%s: %s", name, lines[name].detail)
		}
		require.Contains(t, lines["spec"].detail, "/openapi.yaml and /openapi.json agree")
		require.Contains(t, lines["health-detailed"].detail, "sqlite database answered")
		require.Equal(t, exitOK, code, "report:\n%s", out)
		require.Contains(t, out, "all 10 checks that ran passed")
	})

	t.Run("metrics without its token", func(t *testing.T) {
		out, code := mustRunVerify(t, "verify", p.baseURL, "--key", key)
		lines := mustParseReport(t, out)
		require.Equal(t, statusFail, lines["metrics"].status)
		require.Contains(t, lines["metrics"].detail, "401")
		require.Equal(t, exitFailure, code)
	})

	t.Run("without key", func(t *testing.T) {
		out, _ := mustRunVerify(t, "verify", p.baseURL)
		lines := mustParseReport(t, out)
		require.Equal(t, statusSkip, lines["authenticated-call"].status)
		require.Equal(t, statusSkip, lines["rate-limit-headers"].status)
		require.Equal(t, statusPass, lines["auth-required"].status, lines["auth-required"].detail)
	})

	t.Run("key from the environment", func(t *testing.T) {
		cmd := command(map[string]string{envVerifyKey: key, envMetricsToken: metricsToken}, "verify", p.baseURL)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		require.NoError(t, cmd.Run(), "report:\n%s", stdout.String())
		lines := mustParseReport(t, stdout.String())
		require.Equal(t, statusPass, lines["authenticated-call"].status, lines["authenticated-call"].detail)
		require.Equal(t, statusPass, lines["metrics"].status, lines["metrics"].detail)
	})

	t.Run("wrong key", func(t *testing.T) {
		out, code := mustRunVerify(t, "verify", "--key", "ghd_"+strings.Repeat("x", 40), p.baseURL)
		lines := mustParseReport(t, out)
		require.Equal(t, statusFail, lines["authenticated-call"].status)
		require.Contains(t, lines["authenticated-call"].detail, "401")
		require.Equal(t, exitFailure, code)
	})
	p.mustStop(t)
}

// mustRunVerify runs the binary with args and returns its stdout and exit status; anything but 0
// or 1 fails the test.
func mustRunVerify(tb testing.TB, args ...string) (string, int) {
	tb.Helper()
	cmd := command(nil, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := exitOK
	if err != nil {
		var exitErr *exec.ExitError
		require.ErrorAs(tb, err, &exitErr, "stderr:\n%s", stderr.String())
		code = exitErr.ExitCode()
	}
	require.Contains(tb, []int{exitOK, exitFailure}, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if code == exitFailure {
		require.Contains(tb, stderr.String(), "checks failed")
	}
	return stdout.String(), code
}

// fakeKey is the API key the fake deployment accepts.
const fakeKey = "ghd_fakefakefakefakefakefakefakefakefake1"

// fakeSpecYAML and fakeSpecJSON are one small OpenAPI document in both forms.
const (
	fakeSpecYAML = `openapi: 3.0.3
info:
  title: fake
  version: 1.2.3
paths:
  /health:
    get:
      responses:
        "200":
          description: ok
`
	fakeSpecJSON = `{"openapi":"3.0.3","info":{"title":"fake","version":"1.2.3"},"paths":{"/health":{"get":{"responses":{"200":{"description":"ok"}}}}}}`
)

// fakeDeployment serves what verify checks, each part switchable, so every check can be seen to
// fail for its reason.
type fakeDeployment struct {
	noMetrics         bool
	databaseDown      bool
	cdnAsset          bool
	doubleGzip        bool
	specMismatch      bool
	noGzip            bool
	noSecurityHeaders bool
	noRateLimit       bool
	// staleIETF sends IETF rate-limit headers that disagree with the X- ones.
	staleIETF bool
	hsts      string
}

func (f *fakeDeployment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if !f.noSecurityHeaders {
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
	}
	if f.hsts != "" {
		h.Set("Strict-Transport-Security", f.hsts)
	}
	switch r.URL.Path {
	case "/health":
		writeBody(w, r, "application/json", `{"status":"ok"}`, false)
	case "/health/detailed":
		status, reachable, code := "ok", true, http.StatusOK
		if f.databaseDown {
			status, reachable, code = "unavailable", false, http.StatusServiceUnavailable
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status":%q,"version":"v9.9.9","uptimeSeconds":61,"database":{"engine":"postgres","reachable":%t,"latencyMs":1.5,"openConnections":2},"memory":{"heapAllocBytes":1,"sysBytes":1,"goroutines":1}}`, status, reachable)
	case "/metrics":
		if f.noMetrics {
			http.NotFound(w, r)
			return
		}
		writeBody(w, r, "text/plain; version=0.0.4", "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 3\n", false)
	case "/api-docs":
		http.Redirect(w, r, "/api-docs/", http.StatusMovedPermanently)
	case "/api-docs/":
		asset := "/api-docs/ui.js"
		if f.cdnAsset {
			asset = "https://cdn.example.com/ui.js"
		}
		writeBody(w, r, "text/html; charset=utf-8", `<html><link rel="icon" href="data:,"><link rel="stylesheet" href="ui.css"><div id="swagger-ui"></div><script src="`+asset+`"></script></html>`, false)
	case "/api-docs/ui.js", "/api-docs/ui.css":
		writeBody(w, r, "text/javascript", "window.ui = 1;", f.doubleGzip)
	case "/openapi.yaml":
		writeBody(w, r, "application/yaml", fakeSpecYAML, false)
	case "/openapi.json":
		spec := fakeSpecJSON
		if f.specMismatch {
			spec = strings.Replace(spec, "1.2.3", "1.2.4", 1)
		}
		if f.noGzip {
			r.Header.Del("Accept-Encoding")
		}
		writeBody(w, r, "application/json", spec, false)
	case "/v1/me":
		if r.Header.Get("Authorization") != "Bearer "+fakeKey {
			h.Set("WWW-Authenticate", "Bearer")
			h.Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"type":"https://ghl-debugger.dev/problems/unauthorized","title":"Unauthorized","status":401,"requestId":"r"}`)
			return
		}
		if !f.noRateLimit {
			h.Set(headerRateLimitLimit, "100")
			h.Set(headerRateLimitRemaining, "99")
			h.Set(headerRateLimitReset, "60")
			h.Set("RateLimit-Policy", `"requests";q=100;w=60`)
			h.Set("RateLimit", `"requests";r=99;t=42`)
			if f.staleIETF {
				h.Set("RateLimit", `"requests";r=98;t=42`)
			}
		}
		writeBody(w, r, "application/json", `{"account":{"id":"acc_fake","name":"Fake","tier":"pro","isAdmin":false,"createdAt":"2026-11-25T10:00:00Z"},"limits":{"requestsPerMinute":100,"analysesPerHour":100,"maxBodyBytes":1024},"usage":{"locations":0,"activeApiKeys":1}}`, false)
	default:
		http.NotFound(w, r)
	}
}

// writeBody answers 200 with body, gzipped when the request accepts it and does not send
// X-No-Compression; twice reproduces the double-compression bug.
func writeBody(w http.ResponseWriter, r *http.Request, contentType, body string, twice bool) {
	w.Header().Set("Content-Type", contentType)
	data := []byte(body)
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && r.Header.Get("X-No-Compression") == "" {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		data = gzipBytes(data)
		if twice {
			data = gzipBytes(data)
		}
	}
	_, _ = w.Write(data)
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// TestVerifyChecks runs verify in process against a fake deployment with one part broken at a
// time and requires exactly the affected checks to change, with the reason in their line.
func TestVerifyChecks(t *testing.T) {
	tests := []struct {
		name  string
		fake  fakeDeployment
		noKey bool
		key   string
		// want lists the checks that do not pass, with a piece of their detail.
		want map[string]verifyLine
	}{
		{name: "healthy deployment"},
		{name: "no key", noKey: true, want: map[string]verifyLine{
			"authenticated-call": {statusSkip, "no --key"},
			"rate-limit-headers": {statusSkip, "no --key"},
		}},
		{name: "wrong key", key: "ghd_wrong", want: map[string]verifyLine{
			"authenticated-call": {statusFail, "answered 401, want 200"},
			"rate-limit-headers": {statusFail, "answered 401, want 200"},
		}},
		{name: "no metrics", fake: fakeDeployment{noMetrics: true}, want: map[string]verifyLine{
			"metrics": {statusFail, "GET /metrics answered 404, want 200"},
		}},
		{name: "database down", fake: fakeDeployment{databaseDown: true}, want: map[string]verifyLine{
			"health-detailed": {statusFail, "answered 503"},
		}},
		{name: "docs from a CDN", fake: fakeDeployment{cdnAsset: true}, want: map[string]verifyLine{
			"docs": {statusFail, "https://cdn.example.com/ui.js from another host"},
		}},
		{name: "docs assets compressed twice", fake: fakeDeployment{doubleGzip: true}, want: map[string]verifyLine{
			"docs": {statusFail, "compressed twice"},
		}},
		{name: "spec forms disagree", fake: fakeDeployment{specMismatch: true}, want: map[string]verifyLine{
			"spec": {statusFail, "describe different APIs"},
		}},
		{name: "no compression", fake: fakeDeployment{noGzip: true}, want: map[string]verifyLine{
			"compression": {statusFail, `Content-Encoding ""`},
		}},
		{name: "no security headers", fake: fakeDeployment{noSecurityHeaders: true}, want: map[string]verifyLine{
			"security-headers": {statusFail, "X-Content-Type-Options: nosniff; X-Frame-Options"},
		}},
		{name: "no rate-limit headers", fake: fakeDeployment{noRateLimit: true}, want: map[string]verifyLine{
			"rate-limit-headers": {statusFail, "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"},
		}},
		{name: "IETF rate-limit headers disagree", fake: fakeDeployment{staleIETF: true}, want: map[string]verifyLine{
			"rate-limit-headers": {statusFail, `RateLimit "\"requests\";r=98;t=42" does not start with "requests";r=99;`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&tt.fake)
			t.Cleanup(srv.Close)
			args := []string{"verify", srv.URL}
			if !tt.noKey {
				key := fakeKey
				if tt.key != "" {
					key = tt.key
				}
				args = append(args, "--key", key)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, noEnv, nil, &stdout, &stderr)
			lines := mustParseReport(t, stdout.String())
			failed := false
			for _, name := range verifyChecks {
				want, broken := tt.want[name]
				if !broken {
					want.status = statusPass
				}
				got := lines[name]
				require.Equal(t, want.status, got.status, "%s: %s", name, got.detail)
				require.Contains(t, got.detail, want.detail, name)
				failed = failed || got.status == statusFail
			}
			if failed {
				require.Error(t, err)
				require.Equal(t, exitFailure, exitCode(err, &stderr))
			} else {
				require.NoError(t, err)
				require.Contains(t, stdout.String(), "passed")
			}
		})
	}
}

// TestVerifySecurityHeadersOverHTTPS requires HSTS with a positive max-age when the deployment is
// reached over HTTPS.
func TestVerifySecurityHeadersOverHTTPS(t *testing.T) {
	tests := []struct {
		name    string
		hsts    string
		wantErr string
	}{
		{name: "no HSTS", wantErr: "Strict-Transport-Security with max-age > 0"},
		{name: "zero max-age", hsts: "max-age=0", wantErr: "Strict-Transport-Security with max-age > 0"},
		{name: "HSTS", hsts: "max-age=31536000; includeSubDomains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(&fakeDeployment{hsts: tt.hsts})
			t.Cleanup(srv.Close)
			base, err := parseBaseURL(srv.URL)
			require.NoError(t, err)
			v := newVerifier(base, fakeKey, 5*time.Second)
			// Trust the test server's certificate, keeping the verifier's own transport settings.
			v.client.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
			detail, err := v.checkSecurityHeaders(context.Background())
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Contains(t, detail, "Strict-Transport-Security: "+tt.hsts)
		})
	}
}

// TestVerifyUnreachable requires every check that needs the network to fail, not hang or panic,
// when nothing listens at the URL.
func TestVerifyUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"verify", url, "--timeout", "2s"}, noEnv, nil, &stdout, &stderr)
	require.Error(t, err)
	lines := mustParseReport(t, stdout.String())
	for _, name := range verifyChecks {
		want := statusFail
		if name == "authenticated-call" || name == "rate-limit-headers" {
			want = statusSkip
		}
		require.Equal(t, want, lines[name].status, "%s: %s", name, lines[name].detail)
	}
	require.Contains(t, lines["health"].detail, "connection refused")
}

// TestVerifyUsage covers command lines that verify refuses with exit status 2.
func TestVerifyUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no URL", args: []string{"verify"}, want: "no URL"},
		{name: "not http", args: []string{"verify", "ftp://example.com"}, want: "want an http or https URL"},
		{name: "no host", args: []string{"verify", "http://"}, want: "has no host"},
		{name: "query", args: []string{"verify", "http://example.com/?x=1"}, want: "without a query"},
		{name: "zero timeout", args: []string{"verify", "http://example.com", "--timeout", "0s"}, want: "--timeout must be positive"},
		{name: "two URLs", args: []string{"verify", "http://a.example", "http://b.example"}, want: "unexpected argument"},
		{name: "unknown flag", args: []string{"verify", "--bogus", "http://a.example"}, want: "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, noEnv, nil, &stdout, &stderr)
			require.Error(t, err)
			require.Equal(t, exitUsage, exitCode(err, &stderr))
			require.Contains(t, err.Error(), tt.want)
			require.Empty(t, stdout.String(), "a refused command line runs no check")
		})
	}
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }
