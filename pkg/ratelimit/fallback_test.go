package ratelimit_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
)

// fallbackTimeout is the Redis timeout of the fallback tests: the service's default.
const fallbackTimeout = ratelimit.DefaultTimeout

// closedAddr returns a local address nothing listens on: connections to it are refused.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return addr
}

// silentAddr returns a local address that accepts connections and never answers, like a Redis
// that hangs. The listener and its connections close when the test ends.
func silentAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func TestFallbackWhenRedisIsUnreachable(t *testing.T) {
	logs := &logtest.Buffer{}
	l, err := ratelimit.New(ratelimit.Config{
		Redis:   redistest.Client(t, "redis://"+closedAddr(t)),
		Timeout: fallbackTimeout,
		Prefix:  redistest.Prefix(),
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})
	require.NoError(t, err)
	metricBefore := ratelimit.FallbackCount()

	start := time.Now()
	mustExhaust(t, l, "acc_1", free, ratelimit.Requests, 20)
	require.Less(t, time.Since(start), 2*time.Second, "each call waits at most the timeout, and only while Redis is retried")
	require.Equal(t, ratelimit.ModeFallback, l.Mode())
	require.Equal(t, uint64(21), l.Fallbacks())
	require.Equal(t, metricBefore+21, ratelimit.FallbackCount())

	st := l.Status(context.Background())
	require.Equal(t, ratelimit.ModeFallback, st.Mode)
	require.NotNil(t, st.Redis)
	require.False(t, st.Redis.Reachable)
	require.Equal(t, uint64(21), st.Fallbacks)
	require.Equal(t, 1, countLines(logs.String(), "Redis did not answer"), "one line per outage, not per call: %s", logs)
}

func TestFallbackWhenRedisHangs(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{
		Redis:         redistest.Client(t, "redis://"+silentAddr(t)),
		Timeout:       fallbackTimeout,
		RetryInterval: time.Hour,
		Prefix:        redistest.Prefix(),
	})
	require.NoError(t, err)

	start := time.Now()
	res := mustTake(t, l, "acc_1", free, ratelimit.Requests)
	first := time.Since(start)
	require.True(t, res.Allowed)
	require.GreaterOrEqual(t, first, fallbackTimeout, "the first call waited for Redis")
	require.Less(t, first, time.Second, "but no longer than the timeout allows")
	require.Equal(t, ratelimit.ModeFallback, l.Mode())

	start = time.Now()
	for range 19 {
		require.True(t, mustTake(t, l, "acc_1", free, ratelimit.Requests).Allowed)
	}
	require.Less(t, time.Since(start), 19*fallbackTimeout/2, "within the retry interval Redis is not waited for again")
	require.False(t, mustTake(t, l, "acc_1", free, ratelimit.Requests).Allowed, "memory still enforces the limit")

	start = time.Now()
	st := l.Status(context.Background())
	require.Less(t, time.Since(start), time.Second)
	require.False(t, st.Redis.Reachable)
	require.Equal(t, ratelimit.ModeFallback, st.Mode)
}

func TestRecoveryWhenRedisReturns(t *testing.T) {
	mr := miniredis.RunT(t)
	logs := &logtest.Buffer{}
	prefix := redistest.Prefix()
	l, err := ratelimit.New(ratelimit.Config{
		Redis:         redistest.Client(t, "redis://"+mr.Addr()),
		Timeout:       time.Second,
		RetryInterval: 50 * time.Millisecond,
		Prefix:        prefix,
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
	})
	require.NoError(t, err)

	require.Equal(t, 1, mustTake(t, l, "acc_1", free, ratelimit.Requests).Used)
	require.Equal(t, ratelimit.ModeRedis, l.Mode())

	mr.Close()
	for range 3 {
		require.True(t, mustTake(t, l, "acc_1", free, ratelimit.Requests).Allowed)
	}
	require.Equal(t, ratelimit.ModeFallback, l.Mode())
	require.Equal(t, uint64(3), l.Fallbacks())

	require.NoError(t, mr.Restart())
	var last ratelimit.Result
	require.Eventually(t, func() bool {
		last = mustTake(t, l, "acc_1", free, ratelimit.Requests)
		return l.Mode() == ratelimit.ModeRedis
	}, 10*time.Second, 50*time.Millisecond, "go-redis reconnects by itself")
	require.Equal(t, 2, last.Used, "Redis kept counting where it stopped; the outage's calls were counted in memory")
	require.Equal(t, "2", mustGet(t, mr, prefix+":acc_1:requests"))
	require.Equal(t, 1, countLines(logs.String(), "Redis did not answer"), "logs: %s", logs)
	require.Equal(t, 1, countLines(logs.String(), "Redis answers again"), "logs: %s", logs)
	require.True(t, l.Status(context.Background()).Redis.Reachable)
}

// mustGet reads a key from miniredis.
func mustGet(tb testing.TB, mr *miniredis.Miniredis, key string) string {
	tb.Helper()
	v, err := mr.Get(key)
	require.NoError(tb, err)
	return v
}

// countLines counts the lines of logs that contain s.
func countLines(logs, s string) int {
	n := 0
	for line := range strings.Lines(logs) {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}
