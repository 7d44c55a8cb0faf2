package main

import (
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
)

// openCache returns the two-level cache the configuration asks for: in this process's memory, in
// front of Redis (the process's shared client) when there is one. Close it after the HTTP server
// has stopped and before the Redis client.
func openCache(cfg config, rdb *redis.Client, logger *slog.Logger) (*cache.Cache, error) {
	ccfg := cache.Config{L1MaxBytes: cfg.CacheL1MaxBytes, TTLs: cfg.CacheTTLs, RedisTimeout: cfg.CacheRedisTimeout, Logger: logger}
	if rdb != nil {
		ccfg.Redis = rdb
	}
	c, err := cache.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return c, nil
}
