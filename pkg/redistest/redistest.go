// Package redistest gives the test suites that run against Redis (the rate limiter's, the cache's,
// the API's) one way to reach it: the real Redis named by GHLD_TEST_REDIS_URL, which CI always sets
// and must never skip by accident, clients configured like the service's, and key prefixes of their
// own that are cleaned up afterwards.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// EnvURL names the variable that holds the URL of a real Redis for tests.
const EnvURL = "GHLD_TEST_REDIS_URL"

// URL returns the real Redis's URL, or "" when none is configured. When the CI variable is set and
// EnvURL is not, it fails the test: CI must run every Redis suite on a real Redis.
func URL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvURL)
	if url == "" && os.Getenv("CI") != "" {
		tb.Fatalf("%s is not set: CI must run the Redis suites on a real Redis", EnvURL)
	}
	return url
}

// Client returns a client of the Redis at url, configured like the service's (context timeouts
// bound socket reads and writes; one dial and one retry per command), closed when the test ends.
func Client(tb testing.TB, url string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(url)
	require.NoError(tb, err)
	opts.ContextTimeoutEnabled = true
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix no other test uses.
func Prefix() string {
	return "ghld-test:" + strings.ToLower(rand.Text()[:12])
}

// DeleteKeys deletes every key under prefix.
func DeleteKeys(tb testing.TB, c *redis.Client, prefix string) {
	tb.Helper()
	if keys := Keys(tb, c, prefix); len(keys) > 0 {
		require.NoError(tb, c.Del(context.Background(), keys...).Err())
	}
}

// Keys lists the keys under prefix.
func Keys(tb testing.TB, c *redis.Client, prefix string) []string {
	tb.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, prefix+":*", 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	require.NoError(tb, iter.Err())
	return keys
}
