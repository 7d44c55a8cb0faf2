package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// apiPolicy is the Content-Security-Policy of everything but the docs: the API answers JSON, which
// a browser must never run or frame, so nothing is allowed.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// hstsValue asks browsers to use HTTPS only for a year, subdomains included.
const hstsValue = "max-age=31536000; includeSubDomains"

// securityHeaders sets the headers OWASP asks of every API response, before the handler runs, so
// that error responses carry them too.
type securityHeaders struct {
	// docsPolicy is the Content-Security-Policy of Swagger UI's pages under /api-docs/.
	docsPolicy string
	hsts       bool
}

// newSecurityHeaders builds the middleware. docs is the Swagger UI handler; its page has inline
// scripts, whose hashes the docs policy allows instead of every inline script.
func newSecurityHeaders(docs http.Handler, hsts bool) (*securityHeaders, error) {
	policy, err := docsPolicy(docs)
	if err != nil {
		return nil, err
	}
	return &securityHeaders{docsPolicy: policy, hsts: hsts}, nil
}

func (s *securityHeaders) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		policy := apiPolicy
		if strings.HasPrefix(c.Request().URL.Path, "/api-docs/") {
			policy = s.docsPolicy
		}
		h.Set("Content-Security-Policy", policy)
		if s.hsts {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		return next(c)
	}
}

// inlineScript finds the scripts written into a page (those without a src attribute). It is
// compiled when the server is built, not when any command of the binary starts.
var inlineScript = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<script>(.*?)</script>`) })

// docsPolicy renders the Swagger UI page once and returns a Content-Security-Policy that lets it
// work and nothing more: scripts, styles, images and calls from this origin only, plus the page's
// own inline scripts by hash. Swagger UI styles elements inline and uses data: images, which the
// policy allows; it never needs eval.
func docsPolicy(docs http.Handler) (string, error) {
	rec := httptest.NewRecorder()
	docs.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api-docs/", nil))
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("render the API docs page for its security policy: status %d", rec.Code)
	}
	scripts := []string{"'self'"}
	for _, m := range inlineScript().FindAllStringSubmatch(rec.Body.String(), -1) {
		sum := sha256.Sum256([]byte(m[1]))
		scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return "default-src 'none'; script-src " + strings.Join(scripts, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'" +
		"; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", nil
}

// corsMiddleware lets browsers on the given origins call the API. Without origins it does nothing,
// and browsers keep refusing cross-origin calls (no Access-Control-Allow-Origin is ever sent). A
// refused origin's preflight gets an empty 204 without CORS headers, which browsers treat as a no.
func corsMiddleware(origins []string) (echo.MiddlewareFunc, error) {
	if len(origins) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }, nil
	}
	mw, err := middleware.CORSConfig{
		AllowOrigins: origins,
		AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, HeaderRequestID, "X-No-Compression", "If-None-Match"},
		// Scripts may read these response headers; the rest stay hidden.
		ExposeHeaders: []string{HeaderRequestID, "Location", "ETag", "Retry-After",
			"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", HeaderRateLimitPolicy, HeaderRateLimit},
		// Browsers cache an answered preflight for ten minutes.
		MaxAge: 600,
	}.ToMiddleware()
	if err != nil {
		return nil, fmt.Errorf("CORS origins: %w", err)
	}
	return mw, nil
}

// acceptsGzip reports whether an Accept-Encoding value accepts gzip: it lists gzip without q=0
// (RFC 9110, section 12.5.3).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		name, value, _ := strings.Cut(strings.TrimSpace(params), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") && isZeroQuality(strings.TrimSpace(value)) {
			return false
		}
		return true
	}
	return false
}

// isZeroQuality reports whether a qvalue is zero: "0", "0.", "0.0", "0.00" or "0.000".
func isZeroQuality(q string) bool {
	frac, ok := strings.CutPrefix(q, "0")
	if !ok {
		return false
	}
	frac, _ = strings.CutPrefix(frac, ".")
	return strings.Trim(frac, "0") == "" && len(frac) <= 3
}
