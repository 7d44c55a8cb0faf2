package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
)

// openRateLimiter returns the rate limiter the configuration asks for: counting in Redis, shared by
// every instance, when REDIS_URL is set, and in this process's memory otherwise. A Redis that does
// not answer at start is no error: the limiter counts in memory until it does. close releases the
// Redis client.
func openRateLimiter(ctx context.Context, cfg config, logger *slog.Logger) (lim *ratelimit.Limiter, close func() error, err error) {
	rcfg := ratelimit.Config{Timeout: cfg.RateLimitRedisTimeout, Logger: logger}
	close = func() error { return nil }
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			// validate() has parsed the URL, so go-redis's complaint is about a part of it (the
			// database number, an option) and does not repeat the URL and its password.
			return nil, nil, usagef("REDIS_URL: %v", err)
		}
		// The limiter's per-call timeout must bound socket reads and writes too, or a Redis that
		// hangs would hold a request for go-redis's own read timeout (seconds).
		opts.ContextTimeoutEnabled = true
		// One dial per attempt and one retry per command (for a pooled connection that went stale
		// when Redis restarted): go-redis would otherwise retry a refused dial with backoff until
		// the timeout, and every call that tries Redis while it is down would cost all of it.
		opts.DialerRetries = 1
		opts.MaxRetries = 1
		redis.SetLogger(redisLog{logger})
		client := redis.NewClient(opts)
		rcfg.Redis, close = client, client.Close
	}
	lim, err = ratelimit.New(rcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("rate limiter: %w", err)
	}
	st := lim.Status(ctx)
	attrs := []slog.Attr{slog.String("mode", string(st.Mode))}
	if st.Redis != nil {
		attrs = append(attrs, slog.Bool("redis_reachable", st.Redis.Reachable))
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "rate limiter ready", attrs...)
	return lim, close, nil
}

// redisLog writes go-redis's own messages (such as failed dials while Redis is away) through the
// service's logger, so that every line on stderr is structured like the others.
type redisLog struct{ logger *slog.Logger }

// Printf logs one go-redis message as a warning.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
