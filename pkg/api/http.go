package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/swaggest/swgui/v5emb"

	ghldebugger "github.com/ghl-debugger/ghl-debugger"
	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// DefaultMaxBodyBytes is the request body limit when Config leaves it zero: 10 MiB.
const DefaultMaxBodyBytes = 10 << 20

// DefaultGzipMinBytes is the smallest response that is compressed when Config leaves it zero.
const DefaultGzipMinBytes = 1024

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
}

// NewHandler builds the service's HTTP handler: the generated routes of openapi.yaml behind the
// request id, logging, panic recovery, gzip, body limit and spec gate (authentication and
// validation) middleware, plus the API docs: the spec as committed at /openapi.yaml, as JSON at
// /openapi.json, and Swagger UI, with its assets embedded, at /api-docs/.
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
	srv := NewServer(cfg.Store, cfg.Version, cfg.MaxBodyBytes)
	srv.documentLimits = importer.Options{MaxWorkflows: cfg.MaxWorkflowsPerImport, MaxStepsPerWorkflow: cfg.MaxStepsPerWorkflow}
	gate, err := newSpecGate(srv, cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		return nil, err
	}

	e := echo.NewWithConfig(echo.Config{Logger: cfg.Logger, HTTPErrorHandler: ErrorHandler(cfg.Logger)})
	// Order matters: the request id comes first so every later line and problem carries it; the
	// logger wraps everything else so it records the final status; recovery sits inside the
	// logger so a panic is logged as the 500 it becomes.
	e.Use(
		requestID(),
		requestLogger(cfg.Logger),
		recoverPanics(),
		middleware.GzipWithConfig(middleware.GzipConfig{
			MinLength: cfg.GzipMinBytes,
			Skipper: func(c *echo.Context) bool {
				// Swagger UI's assets are served pre-compressed, and Echo's gzip would compress
				// them a second time (labstack/echo#2788).
				return c.Request().Header.Get("X-No-Compression") != "" ||
					strings.HasPrefix(c.Request().URL.Path, "/api-docs/")
			},
		}),
		limitBody(cfg.MaxBodyBytes),
		gate.middleware,
	)
	gen.RegisterHandlers(e, gen.NewStrictHandler(srv, []gen.StrictMiddlewareFunc{keepDocumentBody}))

	e.GET("/openapi.yaml", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", ghldebugger.OpenAPIYAML)
	})
	e.GET("/openapi.json", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", specJSON)
	})
	e.GET("/api-docs", func(c *echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/api-docs/")
	})
	e.GET("/api-docs/*", echo.WrapHandler(v5emb.New("ghl-debugger API", "/openapi.json", "/api-docs/")))
	return e, nil
}
