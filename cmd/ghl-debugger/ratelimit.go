package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
)

// openRateLimiter returns the rate limiter the configuration asks for: counting in Redis (the
// process's shared client), shared by every instance, when there is one, and in this process's
// memory otherwise. A Redis that does not answer at start is no error: the limiter counts in memory
// until it does.
func openRateLimiter(ctx context.Context, cfg config, rdb *redis.Client, logger *slog.Logger) (*ratelimit.Limiter, error) {
	rcfg := ratelimit.Config{Timeout: cfg.RateLimitRedisTimeout, Logger: logger}
	if rdb != nil {
		rcfg.Redis = rdb
	}
	lim, err := ratelimit.New(rcfg)
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	st := lim.Status(ctx)
	attrs := []slog.Attr{slog.String("mode", string(st.Mode))}
	if st.Redis != nil {
		attrs = append(attrs, slog.Bool("redis_reachable", st.Redis.Reachable))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "rate limiter ready", attrs...)
	return lim, nil
}
