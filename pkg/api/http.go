package api

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v5"

	ghldebugger "github.com/ghl-debugger/ghl-debugger"
	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
)

// DefaultMaxBodyBytes is the request body limit when Config leaves it zero: 10 MiB.
const DefaultMaxBodyBytes = 10 << 20

// DefaultGzipMinBytes is the smallest response that is compressed when Config leaves it zero.
const DefaultGzipMinBytes = 1024

// compression returns the middleware that gzips response bodies of at least minBytes for clients
// that accept gzip (klauspost/compress's gzhttp). It takes a compressor only once a body reaches
// minBytes, so a request that waits (for a computation slot, for the database) holds none; it
// leaves alone a body the handler already encoded (Content-Encoding set: the pre-compressed Swagger
// UI assets); and a request that sends X-No-Compression gets its body as it is.
func compression(minBytes int) (echo.MiddlewareFunc, error) {
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(minBytes), gzhttp.CompressionLevel(gzipLevel), gzhttp.EnableZstd(false))
	if err != nil {
		return nil, fmt.Errorf("gzip middleware: %w", err)
	}
	return echo.WrapMiddleware(func(next http.Handler) http.Handler {
		zipped := gz(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-No-Compression") != "" {
				next.ServeHTTP(w, r)
				return
			}
			zipped.ServeHTTP(w, r)
		})
	}), nil
}

// gzipLevel is the compression level of responses. On a large analysis report (165 KB) level 4
// sends 5% more bytes than the default level 6 for about 60% of its CPU time (README, Compression).
const gzipLevel = 4

// Config configures NewHandler.
type Config struct {
	// Store holds the data; required.
	Store Store
	// Logger receives one line per request and every server error; required.
	Logger *slog.Logger
	// Version is the build version reported by /health/detailed.
	Version string
	// MaxBodyBytes is the largest request body accepted; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// GzipMinBytes is the smallest response body that is gzip-compressed for callers that accept
	// it. Zero means DefaultGzipMinBytes.
	GzipMinBytes int
	// MaxWorkflowsPerImport is the most workflows one document may hold, imported or analysed;
	// more get 422. Zero means importer.DefaultMaxWorkflows.
	MaxWorkflowsPerImport int
	// MaxStepsPerWorkflow is the most steps one workflow of a document may hold; more get 422.
	// Zero means importer.DefaultMaxStepsPerWorkflow.
	MaxStepsPerWorkflow int
	// CORSOrigins are the origins (scheme://host[:port]) whose pages a browser lets call the API;
	// "*" allows every origin. Empty allows none: browsers then refuse cross-origin calls.
	CORSOrigins []string
	// HSTS adds Strict-Transport-Security to every response. Set it when clients reach the
	// service over HTTPS only (at the service or at a proxy in front of it).
	HSTS bool
	// MetricsToken, when set, must be sent as "Authorization: Bearer TOKEN" to GET /metrics.
	MetricsToken string
	// RateLimiter counts each account's requests and analyses against its tier's limits. Nil
	// means a limiter in this process's memory (ratelimit.New with no Redis).
	RateLimiter RateLimiter
	// UpgradeURL is the page a free account over a rate limit is sent to (the upgradeUrl of its
	// 429). Empty means DefaultUpgradeURL.
	UpgradeURL string
	// MaxContextObjects is the most context objects (tags, custom fields, calendars, ...) one
	// document may hold; more get 422. Zero means importer.DefaultMaxContextObjects.
	MaxContextObjects int
	// AnalysisTimeout is the deadline of one analysis; one that runs past it gets 503. Keep it
	// under the server's write timeout. Zero means DefaultAnalysisTimeout.
	AnalysisTimeout time.Duration
	// MaxConcurrentComputations is how many imports and analyses may run at once; the others wait
	// up to ComputeWait for a slot, then get 503. Zero means one per CPU (GOMAXPROCS).
	MaxConcurrentComputations int
	// ComputeWait is how long a request waits for a computation slot. Zero means
	// DefaultComputeWait.
	ComputeWait time.Duration
	// Cache is the two-level cache the reads go through (authentication, analyses, lists). Nil
	// means an in-process cache with the defaults, which NewHandler creates.
	Cache *cache.Cache
	// Jobs is the background job queue; nil means none, and every analysis runs in its request.
	// JobAnalyzer, when set, is bound to the handler's server: it is the analyzer the queue's
	// analyze_location jobs run with (see NewJobAnalyzer).
	Jobs        JobQueue
	JobAnalyzer *JobAnalyzer
	// AsyncWorkflows and AsyncSteps are the sizes of a location (stored workflows, steps in all)
	// above which its analysis is done in the background; zero means DefaultAsyncWorkflows and
	// DefaultAsyncSteps.
	AsyncWorkflows int
	AsyncSteps     int
	// GHL connects locations to GoHighLevel (a *ghl.Service built with the deployment's settings).
	// Nil means a service without settings over Store when Store is a *store.DB (the GHL routes
	// that need settings answer 501 naming them, disconnecting works), and otherwise none.
	GHL GHLService
}

// NewHandler builds the service's HTTP handler: the generated routes of openapi.yaml behind the
// request id, security headers, metrics, logging, panic recovery, CORS, gzip, body limit and spec
// gate (authentication, rate limiting and validation) middleware, plus the Prometheus metrics at
// /metrics and the API docs: the spec as committed at /openapi.yaml, as JSON at /openapi.json, and
// Swagger UI, with its assets embedded, at /api-docs/.
func NewHandler(cfg Config) (*echo.Echo, error) {
	if cfg.Store == nil || cfg.Logger == nil {
		return nil, errors.New("api: Config.Store and Config.Logger are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.GzipMinBytes <= 0 {
		cfg.GzipMinBytes = DefaultGzipMinBytes
	}
	var err error
	if cfg.Cache == nil {
		if cfg.Cache, err = cache.New(cache.Config{Logger: cfg.Logger}); err != nil {
			return nil, fmt.Errorf("in-process cache: %w", err)
		}
	}
	srv := NewServer(cachedStore{Store: cfg.Store, cache: cfg.Cache}, cfg.Version, cfg.MaxBodyBytes)
	srv.cache = cfg.Cache
	srv.documentLimits = importer.Options{MaxWorkflows: cfg.MaxWorkflowsPerImport, MaxStepsPerWorkflow: cfg.MaxStepsPerWorkflow,
		MaxContextObjects: cfg.MaxContextObjects}
	srv.upgradeURL = cmp.Or(cfg.UpgradeURL, DefaultUpgradeURL)
	srv.analysisTimeout = cmp.Or(cfg.AnalysisTimeout, DefaultAnalysisTimeout)
	srv.gzipMinBytes = cfg.GzipMinBytes
	srv.jobs = cfg.Jobs
	srv.asyncWorkflows = cmp.Or(cfg.AsyncWorkflows, DefaultAsyncWorkflows)
	srv.asyncSteps = cmp.Or(cfg.AsyncSteps, DefaultAsyncSteps)
	srv.logger = cfg.Logger
	if srv.ghl = cfg.GHL; srv.ghl == nil {
		if st, ok := cfg.Store.(ghl.Store); ok {
			if srv.ghl, err = ghl.NewService(ghl.ServiceConfig{Store: st, Cache: cfg.Cache, Logger: cfg.Logger}); err != nil {
				return nil, fmt.Errorf("GHL service without settings: %w", err)
			}
		}
	}
	if cfg.JobAnalyzer != nil {
		cfg.JobAnalyzer.srv.Store(srv)
	}
	srv.compute = newComputeLimiter(cmp.Or(cfg.MaxConcurrentComputations, runtime.GOMAXPROCS(0)), cmp.Or(cfg.ComputeWait, DefaultComputeWait))
	if srv.limiter = cfg.RateLimiter; srv.limiter == nil {
		if srv.limiter, err = ratelimit.New(ratelimit.Config{Logger: cfg.Logger}); err != nil {
			return nil, err
		}
	}
	gate, err := newSpecGate(srv, cfg.MaxBodyBytes, "/openapi.yaml", "/openapi.json", "/api-docs", "/api-docs/*", "/metrics")
	if err != nil {
		return nil, err
	}
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		return nil, err
	}
	docs := newDocs("ghl-debugger API", "/openapi.json", "/api-docs/")
	headers, err := newSecurityHeaders(docs, cfg.HSTS)
	if err != nil {
		return nil, err
	}
	cors, err := corsMiddleware(cfg.CORSOrigins)
	if err != nil {
		return nil, err
	}
	subscriptions := &subscriptionCounter{store: cfg.Store, logger: cfg.Logger}

	compress, err := compression(cfg.GzipMinBytes)
	if err != nil {
		return nil, err
	}

	e := echo.NewWithConfig(echo.Config{Logger: cfg.Logger, HTTPErrorHandler: ErrorHandler(cfg.Logger)})
	// Order matters: the request id comes first so every later line and problem carries it; the
	// security headers are set before anything can answer, so errors carry them too; the metrics
	// and the logger wrap everything else so they see the final status (the logger renders
	// errors); compression wraps the logger, so the problem documents it renders are compressed
	// like any other body; recovery sits inside the logger so a panic is logged as the 500 it
	// becomes; CORS answers preflight requests before the spec gate asks them for a key.
	e.Use(
		requestID(),
		headers.middleware,
		metrics.HTTP(),
		compress,
		requestLogger(cfg.Logger),
		recoverPanics(),
		cors,
		limitBody(cfg.MaxBodyBytes),
		gate.middleware,
	)
	gen.RegisterHandlers(e, gen.NewStrictHandler(srv, []gen.StrictMiddlewareFunc{srv.limitCompute, keepDocumentBody, negotiateGzip, negotiateReport}))

	e.GET("/openapi.yaml", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", ghldebugger.OpenAPIYAML)
	})
	e.GET("/openapi.json", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", specJSON)
	})
	e.GET("/api-docs", func(c *echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/api-docs/")
	})
	e.GET("/api-docs/*", echo.WrapHandler(docs))
	e.GET("/metrics", metrics.Handler(metrics.HandlerConfig{Token: cfg.MetricsToken, Refresh: subscriptions.refresh}))
	return e, nil
}
