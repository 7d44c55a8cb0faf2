package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// The rate-limit headers every authenticated response carries. .spectral.yaml requires openapi.yaml
// to declare the same names.
const (
	headerRateLimitLimit     = "X-RateLimit-Limit"
	headerRateLimitRemaining = "X-RateLimit-Remaining"
	headerRateLimitReset     = "X-RateLimit-Reset"
)

// envVerifyKey names the environment variable verify reads the API key from when --key is not
// given, so scripts need not put the key on a command line that other local users can see.
const envVerifyKey = "GHLD_VERIFY_KEY"

// envMetricsToken is the variable verify reads the /metrics bearer token from when --metrics-token is
// not given: the same one the server is configured with.
const envMetricsToken = "GHLD_METRICS_TOKEN"

// defaultVerifyTimeout bounds each request of verify.
const defaultVerifyTimeout = 10 * time.Second

// maxVerifyBodyBytes bounds what verify reads of one response; Swagger UI's bundle, the largest, is
// about 1.5 MB.
const maxVerifyBodyBytes = 32 << 20

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// assetRef finds the src and href attributes of a page, to check where its assets come from.
var assetRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']([^"']+)["']`)

// checkStatus is the outcome of one check.
type checkStatus string

// The outcomes of a check. A skipped check needed something the command line did not give (the
// API key); it does not fail the run.
const (
	statusPass checkStatus = "PASS"
	statusFail checkStatus = "FAIL"
	statusSkip checkStatus = "SKIP"
)

// checkResult is one line of verify's report.
type checkResult struct {
	name   string
	status checkStatus
	detail string
}

// skipError marks a check that could not run; its text says why.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

// runVerify is the verify command: it checks a running deployment the way an operator would after
// a release, prints one PASS, FAIL or SKIP line per check on stdout, and fails when any check
// failed.
func runVerify(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlagSet("verify", "ghl-debugger verify URL [--key KEY] [--metrics-token TOKEN] [--timeout DURATION]", stdout)
	key := fs.String("key", "", "API key (ghd_...) for the authenticated checks (default $"+envVerifyKey+"); without one they are skipped")
	metricsToken := fs.String("metrics-token", "", "bearer token of /metrics when the deployment protects it (default $"+envMetricsToken+")")
	timeout := fs.Duration("timeout", defaultVerifyTimeout, "time limit of each request")
	// The URL may come before or after the flags: parse the flags, take the URL, parse the rest.
	if err := fs.Parse(args); err != nil {
		return fs.parseError(err)
	}
	if fs.NArg() == 0 {
		return usagef("verify: no URL: give the deployment's base URL, such as https://ghl-debugger.example.com")
	}
	rawURL := fs.Arg(0)
	if err := fs.parse(fs.Args()[1:]); err != nil {
		return err
	}
	base, err := parseBaseURL(rawURL)
	if err != nil {
		return usagef("verify: %v", err)
	}
	if *timeout <= 0 {
		return usagef("verify: --timeout must be positive, got %s", *timeout)
	}

	if *key == "" {
		*key = getenv(envVerifyKey)
	}
	if *metricsToken == "" {
		*metricsToken = getenv(envMetricsToken)
	}

	v := newVerifier(base, *key, *timeout)
	v.metricsToken = *metricsToken
	results := v.run(ctx)
	failed, skipped := 0, 0
	for _, r := range results {
		fmt.Fprintf(stdout, "%s  %-18s  %s\n", r.status, r.name, r.detail)
		switch r.status {
		case statusFail:
			failed++
		case statusSkip:
			skipped++
		}
	}
	if failed > 0 {
		return fmt.Errorf("verify %s: %d of %d %s failed", base.Redacted(), failed, len(results), plural(len(results), "check"))
	}
	fmt.Fprintf(stdout, "verify %s: all %d checks that ran passed (%d skipped)\n", base.Redacted(), len(results)-skipped, skipped)
	return nil
}

// parseBaseURL accepts an http or https URL with a host, and no query or fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL %q: want an http or https URL", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("URL %q: give the base URL, without a query or fragment", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// verifier runs the checks against one deployment.
type verifier struct {
	base *url.URL
	key  string
	// metricsToken authenticates GET /metrics on a deployment that protects it; empty when it does not.
	metricsToken string
	client       *http.Client
}

func newVerifier(base *url.URL, key string, timeout time.Duration) *verifier {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Compression is one of the checks, so responses must arrive as the server encoded them.
	transport.DisableCompression = true
	return &verifier{base: base, key: key, client: &http.Client{Transport: transport, Timeout: timeout}}
}

// run runs every check in order, one at a time, so the report reads top to bottom and the checks
// put no load on the deployment.
func (v *verifier) run(ctx context.Context) []checkResult {
	checks := []struct {
		name string
		fn   func(context.Context) (string, error)
	}{
		{"health", v.checkHealth},
		{"health-detailed", v.checkHealthDetailed},
		{"metrics", v.checkMetrics},
		{"docs", v.checkDocs},
		{"spec", v.checkSpec},
		{"compression", v.checkCompression},
		{"security-headers", v.checkSecurityHeaders},
		{"auth-required", v.checkAuthRequired},
		{"authenticated-call", v.checkAuthenticatedCall},
		{"rate-limit-headers", v.checkRateLimitHeaders},
	}
	results := make([]checkResult, 0, len(checks))
	for _, c := range checks {
		detail, err := c.fn(ctx)
		r := checkResult{name: c.name, status: statusPass, detail: detail}
		var skip skipError
		switch {
		case errors.As(err, &skip):
			r.status, r.detail = statusSkip, skip.reason
		case err != nil:
			r.status, r.detail = statusFail, err.Error()
		}
		results = append(results, r)
	}
	return results
}

// response is what verify keeps of an HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
	// url is where the response came from, after redirects.
	url *url.URL
}

// get fetches path, relative to the base URL, with the given request headers. The body is read as
// sent, still compressed if the server compressed it.
func (v *verifier) get(ctx context.Context, path string, header http.Header) (*response, error) {
	target := v.base.JoinPath(path)
	return v.fetch(ctx, target, header)
}

func (v *verifier) fetch(ctx context.Context, target *url.URL, header http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("User-Agent", "ghl-debugger-verify/"+buildVersion())
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", target.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxVerifyBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", target.Path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body, url: resp.Request.URL}, nil
}

// getStatus fetches path and requires the status.
func (v *verifier) getStatus(ctx context.Context, path string, header http.Header, want int) (*response, error) {
	r, err := v.get(ctx, path, header)
	if err != nil {
		return nil, err
	}
	if r.status != want {
		return nil, fmt.Errorf("GET %s answered %d, want %d%s", path, r.status, want, snippet(r.body))
	}
	return r, nil
}

// authHeader is the Authorization header for the API key.
func (v *verifier) authHeader() http.Header {
	return http.Header{"Authorization": {"Bearer " + v.key}}
}

func (v *verifier) checkHealth(ctx context.Context) (string, error) {
	r, err := v.getStatus(ctx, "/health", nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	var body gen.Health
	if err := json.Unmarshal(r.body, &body); err != nil || body.Status != gen.HealthStatusOk {
		return "", fmt.Errorf(`GET /health answered 200 without {"status":"ok"}%s`, snippet(r.body))
	}
	return `200 {"status":"ok"}`, nil
}

func (v *verifier) checkHealthDetailed(ctx context.Context) (string, error) {
	r, err := v.get(ctx, "/health/detailed", nil)
	if err != nil {
		return "", err
	}
	var body gen.HealthDetailed
	if err := json.Unmarshal(r.body, &body); err != nil {
		return "", fmt.Errorf("GET /health/detailed answered %d without a health report%s", r.status, snippet(r.body))
	}
	db := body.Database
	if r.status != http.StatusOK || body.Status != gen.HealthDetailedStatusOk || !db.Reachable {
		return "", fmt.Errorf("GET /health/detailed answered %d, status %q: %s database reachable=%t", r.status, body.Status, db.Engine, db.Reachable)
	}
	uptime := time.Duration(body.UptimeSeconds * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("version %s, %s database answered in %.1f ms, up %s", body.Version, db.Engine, db.LatencyMs, uptime), nil
}

func (v *verifier) checkMetrics(ctx context.Context) (string, error) {
	var header http.Header
	if v.metricsToken != "" {
		header = http.Header{"Authorization": {"Bearer " + v.metricsToken}}
	}
	r, err := v.getStatus(ctx, "/metrics", header, http.StatusOK)
	if err != nil {
		return "", err
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return "", fmt.Errorf("GET /metrics answered Content-Type %q, want the Prometheus text format (text/plain)", ct)
	}
	samples, requests := 0, false
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		samples++
		if strings.HasPrefix(line, "http_requests_total") {
			requests = true
		}
	}
	if !requests {
		return "", fmt.Errorf("GET /metrics has %d samples but no http_requests_total", samples)
	}
	return fmt.Sprintf("%d samples, http_requests_total present", samples), nil
}

// checkDocs loads Swagger UI the way a browser would: the page, then every script and stylesheet
// it names. Every asset must come from the deployment itself (the page has to work offline, with
// no CDN) and arrive compressed at most once (labstack/echo#2788 compressed them twice).
func (v *verifier) checkDocs(ctx context.Context) (string, error) {
	page, err := v.getStatus(ctx, "/api-docs", nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	if ct := page.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		return "", fmt.Errorf("GET /api-docs answered Content-Type %q, want text/html", ct)
	}
	if !bytes.Contains(page.body, []byte("swagger-ui")) {
		return "", errors.New("GET /api-docs is not the Swagger UI page")
	}
	var external, assets []string
	for _, m := range assetRef.FindAllSubmatch(page.body, -1) {
		ref, err := page.url.Parse(string(m[1]))
		if err != nil {
			return "", fmt.Errorf("the docs page names an unparsable asset %q: %w", m[1], err)
		}
		switch {
		case ref.Scheme != "http" && ref.Scheme != "https":
			continue // data: and similar URLs load nothing from the network
		case ref.Host != page.url.Host:
			external = append(external, ref.String())
			continue
		}
		if p := ref.Path; strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".css") {
			assets = append(assets, ref.Path)
			if err := v.checkAsset(ctx, ref); err != nil {
				return "", err
			}
		}
	}
	if len(external) > 0 {
		return "", fmt.Errorf("the docs page loads %s from another host; it must work offline", strings.Join(external, ", "))
	}
	if len(assets) == 0 {
		return "", errors.New("the docs page names no script or stylesheet")
	}
	return fmt.Sprintf("Swagger UI at %s, %d scripts and stylesheets served by the deployment", page.url.Path, len(assets)), nil
}

// checkAsset fetches one asset of the docs page, accepting gzip, and requires it to decode to
// something other than another gzip stream.
func (v *verifier) checkAsset(ctx context.Context, ref *url.URL) error {
	r, err := v.fetch(ctx, ref, http.Header{"Accept-Encoding": {"gzip"}})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("GET %s answered %d, want 200", ref.Path, r.status)
	}
	body := r.body
	if strings.EqualFold(r.header.Get("Content-Encoding"), "gzip") {
		if body, err = gunzip(body); err != nil {
			return fmt.Errorf("GET %s: the gzip body does not decode: %w", ref.Path, err)
		}
	}
	if bytes.HasPrefix(body, gzipMagic) {
		return fmt.Errorf("GET %s is compressed twice: it still is gzip after Content-Encoding is undone", ref.Path)
	}
	if len(body) == 0 {
		return fmt.Errorf("GET %s is empty", ref.Path)
	}
	return nil
}

// checkSpec fetches the spec in both forms and requires them to be one valid OpenAPI document.
func (v *verifier) checkSpec(ctx context.Context) (string, error) {
	yamlResp, err := v.getStatus(ctx, "/openapi.yaml", nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	jsonResp, err := v.getStatus(ctx, "/openapi.json", nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	if ct := jsonResp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "", fmt.Errorf("GET /openapi.json answered Content-Type %q, want application/json", ct)
	}
	if ct := yamlResp.header.Get("Content-Type"); !strings.Contains(ct, "yaml") {
		return "", fmt.Errorf("GET /openapi.yaml answered Content-Type %q, want application/yaml", ct)
	}
	fromYAML, err := loadSpec(ctx, "/openapi.yaml", yamlResp.body)
	if err != nil {
		return "", err
	}
	fromJSON, err := loadSpec(ctx, "/openapi.json", jsonResp.body)
	if err != nil {
		return "", err
	}
	a, errA := json.Marshal(fromYAML)
	b, errB := json.Marshal(fromJSON)
	if err := errors.Join(errA, errB); err != nil {
		return "", fmt.Errorf("compare the spec's two forms: %w", err)
	}
	if !bytes.Equal(a, b) {
		return "", fmt.Errorf("/openapi.yaml (version %s) and /openapi.json (version %s) describe different APIs", fromYAML.Info.Version, fromJSON.Info.Version)
	}
	operations := 0
	for _, item := range fromJSON.Paths.Map() {
		operations += len(item.Operations())
	}
	return fmt.Sprintf("OpenAPI %s, version %s, %d operations; /openapi.yaml and /openapi.json agree", fromJSON.OpenAPI, fromJSON.Info.Version, operations), nil
}

// loadSpec parses and validates an OpenAPI document without following references to other
// documents.
func loadSpec(ctx context.Context, name string, data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OpenAPI document: %w", name, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", name, err)
	}
	return doc, nil
}

// checkCompression requires the spec, well over the default 1 KiB threshold, to arrive gzipped
// exactly once when the client accepts gzip, and uncompressed when it sends X-No-Compression.
func (v *verifier) checkCompression(ctx context.Context) (string, error) {
	gz, err := v.getStatus(ctx, "/openapi.json", http.Header{"Accept-Encoding": {"gzip"}}, http.StatusOK)
	if err != nil {
		return "", err
	}
	if enc := gz.header.Get("Content-Encoding"); !strings.EqualFold(enc, "gzip") {
		return "", fmt.Errorf("GET /openapi.json with Accept-Encoding: gzip answered Content-Encoding %q for %d bytes, want gzip", enc, len(gz.body))
	}
	if !headerHasToken(gz.header, "Vary", "Accept-Encoding") {
		return "", errors.New("a gzip response does not say Vary: Accept-Encoding, so caches may serve it to clients that cannot read it")
	}
	plain, err := gunzip(gz.body)
	if err != nil {
		return "", fmt.Errorf("GET /openapi.json: the gzip body does not decode: %w", err)
	}
	if !json.Valid(plain) {
		return "", errors.New("GET /openapi.json: the gzip body does not decode to JSON (compressed twice?)")
	}
	off, err := v.getStatus(ctx, "/openapi.json", http.Header{"Accept-Encoding": {"gzip"}, "X-No-Compression": {"1"}}, http.StatusOK)
	if err != nil {
		return "", err
	}
	if enc := off.header.Get("Content-Encoding"); enc != "" {
		return "", fmt.Errorf("GET /openapi.json with X-No-Compression answered Content-Encoding %q, want none", enc)
	}
	return fmt.Sprintf("/openapi.json: %d bytes sent as %d with gzip; X-No-Compression honoured", len(plain), len(gz.body)), nil
}

// checkSecurityHeaders requires the headers OWASP's REST security guidance asks of every API
// response: no MIME sniffing, no framing, and HSTS over HTTPS.
func (v *verifier) checkSecurityHeaders(ctx context.Context) (string, error) {
	r, err := v.getStatus(ctx, "/health", nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	var missing, present []string
	if strings.EqualFold(r.header.Get("X-Content-Type-Options"), "nosniff") {
		present = append(present, "X-Content-Type-Options: nosniff")
	} else {
		missing = append(missing, "X-Content-Type-Options: nosniff")
	}
	xfo := strings.ToUpper(r.header.Get("X-Frame-Options"))
	switch {
	case xfo == "DENY" || xfo == "SAMEORIGIN":
		present = append(present, "X-Frame-Options: "+xfo)
	case strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors"):
		present = append(present, "CSP frame-ancestors")
	default:
		missing = append(missing, "X-Frame-Options: DENY (or CSP frame-ancestors)")
	}
	if v.base.Scheme == "https" {
		if hsts := r.header.Get("Strict-Transport-Security"); hstsMaxAge(hsts) > 0 {
			present = append(present, "Strict-Transport-Security: "+hsts)
		} else {
			missing = append(missing, "Strict-Transport-Security with max-age > 0")
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("GET /health lacks %s", strings.Join(missing, "; "))
	}
	return strings.Join(present, "; "), nil
}

// hstsMaxAge returns the max-age of a Strict-Transport-Security value, or 0.
func hstsMaxAge(value string) int64 {
	for part := range strings.SplitSeq(value, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(name, "max-age") {
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return 0
}

// checkAuthRequired calls an authenticated operation without a key and requires the documented
// 401 problem.
func (v *verifier) checkAuthRequired(ctx context.Context) (string, error) {
	r, err := v.getStatus(ctx, "/v1/me", nil, http.StatusUnauthorized)
	if err != nil {
		return "", err
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return "", fmt.Errorf("GET /v1/me without a key answered 401 with Content-Type %q, want application/problem+json", ct)
	}
	if challenge := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(challenge), "bearer") {
		return "", fmt.Errorf("GET /v1/me without a key answered 401 with WWW-Authenticate %q, want Bearer", challenge)
	}
	return "GET /v1/me without a key: 401 problem+json, WWW-Authenticate: Bearer", nil
}

// checkAuthenticatedCall calls GET /v1/me with the key.
func (v *verifier) checkAuthenticatedCall(ctx context.Context) (string, error) {
	if v.key == "" {
		return "", skipError{"no --key given"}
	}
	r, err := v.getStatus(ctx, "/v1/me", v.authHeader(), http.StatusOK)
	if err != nil {
		return "", err
	}
	var me gen.Me
	if err := json.Unmarshal(r.body, &me); err != nil || me.Account.Id == "" {
		return "", fmt.Errorf("GET /v1/me answered 200 without an account%s", snippet(r.body))
	}
	return fmt.Sprintf("GET /v1/me: 200, account %s (tier %s)", me.Account.Id, me.Account.Tier), nil
}

// checkRateLimitHeaders requires an authenticated response to carry the account's limit, what
// remains of it and when it resets, as non-negative integers.
func (v *verifier) checkRateLimitHeaders(ctx context.Context) (string, error) {
	if v.key == "" {
		return "", skipError{"no --key given (limits are per account)"}
	}
	r, err := v.getStatus(ctx, "/v1/me", v.authHeader(), http.StatusOK)
	if err != nil {
		return "", err
	}
	values := make(map[string]int64, 3)
	var missing []string
	for _, name := range []string{headerRateLimitLimit, headerRateLimitRemaining, headerRateLimitReset} {
		raw := r.header.Get(name)
		n, err := strconv.ParseInt(raw, 10, 64)
		if raw == "" || err != nil || n < 0 {
			missing = append(missing, name)
			continue
		}
		values[name] = n
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("GET /v1/me lacks %s (or they are not non-negative integers)", strings.Join(missing, ", "))
	}
	limit, remaining := values[headerRateLimitLimit], values[headerRateLimitRemaining]
	if remaining > limit {
		return "", fmt.Errorf("GET /v1/me: %s %d is above %s %d", headerRateLimitRemaining, remaining, headerRateLimitLimit, limit)
	}
	// The same budget in the IETF's structured form, which must agree with the X- headers.
	if want := fmt.Sprintf(`"requests";q=%d;`, limit); !strings.HasPrefix(r.header.Get("RateLimit-Policy"), want) {
		return "", fmt.Errorf("GET /v1/me: RateLimit-Policy %q does not start with %s", r.header.Get("RateLimit-Policy"), want)
	}
	if want := fmt.Sprintf(`"requests";r=%d;`, remaining); !strings.HasPrefix(r.header.Get("RateLimit"), want) {
		return "", fmt.Errorf("GET /v1/me: RateLimit %q does not start with %s", r.header.Get("RateLimit"), want)
	}
	return fmt.Sprintf("limit %d, remaining %d, reset %d; RateLimit-Policy and RateLimit agree", limit, remaining, values[headerRateLimitReset]), nil
}

// headerHasToken reports whether a comma-separated header lists token (case-insensitively).
func headerHasToken(h http.Header, name, token string) bool {
	for _, value := range h.Values(name) {
		for part := range strings.SplitSeq(value, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// gunzip undoes one layer of gzip.
func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, maxVerifyBodyBytes))
}

// snippet quotes what a response body said for an error message, so a FAIL line shows the
// deployment's answer: the detail of a problem document, otherwise the start of the body.
func snippet(body []byte) string {
	const maxLen = 120
	var problem struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &problem) == nil && problem.Detail != "" {
		body = []byte(problem.Detail)
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return ""
	}
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return ": " + strconv.Quote(s)
}
