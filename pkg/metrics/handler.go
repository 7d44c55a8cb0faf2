package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// ContentType is the media type of the Prometheus text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// ErrUnauthorized is returned by the handler when a token is configured and the request does not
// send it. The caller's error handler renders it (as a 401).
var ErrUnauthorized = errors.New("metrics: missing or wrong bearer token")

// HandlerConfig configures Handler.
type HandlerConfig struct {
	// Token, when set, must be sent as "Authorization: Bearer TOKEN" by every scrape.
	Token string
	// Refresh, when set, runs before each scrape is written, to update the gauges that are read
	// from elsewhere (counts in the database). It should bound its own work; the context ends when
	// the scrape's request does.
	Refresh func(ctx context.Context)
}

// Handler serves every registered metric in the Prometheus text format.
func Handler(cfg HandlerConfig) echo.HandlerFunc {
	var want [sha256.Size]byte
	if cfg.Token != "" {
		want = sha256.Sum256([]byte(cfg.Token))
	}
	return func(c *echo.Context) error {
		if cfg.Token != "" && !bearerMatches(c.Request().Header.Get(echo.HeaderAuthorization), want) {
			return ErrUnauthorized
		}
		if cfg.Refresh != nil {
			cfg.Refresh(c.Request().Context())
		}
		c.Response().Header().Set(echo.HeaderContentType, ContentType)
		c.Response().Header().Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
		if c.Request().Method == http.MethodHead {
			return nil
		}
		return WritePrometheus(c.Response())
	}
}

// bearerMatches reports whether header is "Bearer TOKEN" with the token whose SHA-256 is want. The
// hashes are compared in constant time, so neither the token's bytes nor its length leak through
// the time a wrong guess takes.
func bearerMatches(header string, want [sha256.Size]byte) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
