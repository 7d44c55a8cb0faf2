package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// openRedis returns the process's one Redis client, shared by every package that needs Redis (the
// rate limiter, the cache), or nil when REDIS_URL is not set. It does not contact Redis: a Redis
// that is down at start is no error, the users of the client fall back until it answers.
func openRedis(cfg config, logger *slog.Logger) (*redis.Client, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		// validate() has parsed the URL, so go-redis's complaint is about a part of it (the
		// database number, an option) and does not repeat the URL and its password.
		return nil, usagef("REDIS_URL: %v", err)
	}
	// Each user's per-call timeout must bound socket reads and writes too, or a Redis that hangs
	// would hold a request for go-redis's own read timeout (seconds).
	opts.ContextTimeoutEnabled = true
	// One dial per attempt and one retry per command (for a pooled connection that went stale
	// when Redis restarted): go-redis would otherwise retry a refused dial with backoff until the
	// timeout, and every call that tries Redis while it is down would cost all of it.
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	redis.SetLogger(redisLog{logger})
	return redis.NewClient(opts), nil
}

// redisLog writes go-redis's own messages (such as failed dials while Redis is away) through the
// service's logger, so that every line on stderr is structured like the others.
type redisLog struct{ logger *slog.Logger }

// Printf logs one go-redis message as a warning.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
