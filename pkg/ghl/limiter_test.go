package ghl_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
)

// maxInWindow returns the most of times that fall within any half-open interval of length window.
func maxInWindow(times []time.Time, window time.Duration) int {
	best := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < window; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// mustLimiter returns a limiter of limit per window on client (nil: in memory), with a margin of
// 30 ms: the time between the count (in Redis) and the moment the test sees Wait return varies by
// a few milliseconds under the race detector, as the time to reach GHL does in production.
func mustLimiter(tb testing.TB, client *redis.Client, prefix string, limit int, window time.Duration) *ghl.Limiter {
	tb.Helper()
	cfg := ghl.LimiterConfig{Limit: limit, Window: window, Margin: 30 * time.Millisecond, Prefix: prefix}
	if client != nil {
		cfg.Redis = client
		cfg.Timeout = time.Second
	}
	l, err := ghl.NewLimiter(cfg)
	require.NoError(tb, err)
	return l
}

// limiterBackends returns the limiters' backends to test: memory always, Redis when configured.
func limiterBackends(t *testing.T) map[string]*redis.Client {
	backends := map[string]*redis.Client{"memory": nil}
	if url := redistest.URL(t); url != "" {
		backends["redis"] = redistest.Client(t, url)
	}
	return backends
}

// TestLimiterSlidingWindow takes slots from two limiters sharing a backend (two instances) and
// checks that no window's length ever holds more than the limit, across window boundaries too: a
// fixed window would let 2×limit through around a boundary.
func TestLimiterSlidingWindow(t *testing.T) {
	for name, client := range limiterBackends(t) {
		t.Run(name, func(t *testing.T) {
			const limit, window = 10, 300 * time.Millisecond
			prefix := redistest.Prefix()
			a := mustLimiter(t, client, prefix, limit, window)
			b := a
			if client != nil {
				b = mustLimiter(t, client, prefix, limit, window)
				t.Cleanup(func() { redistest.DeleteKeys(t, client, prefix) })
			}
			var mu sync.Mutex
			var times []time.Time
			var wg sync.WaitGroup
			start := time.Now()
			for i := range 35 {
				l := a
				if i%2 == 1 {
					l = b
				}
				wg.Go(func() {
					require.NoError(t, l.Wait(t.Context(), "loc-1"))
					mu.Lock()
					times = append(times, time.Now())
					mu.Unlock()
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			sortTimes(times)
			require.LessOrEqual(t, maxInWindow(times, window), limit)
			require.GreaterOrEqual(t, elapsed, 3*window, "35 slots at 10 per window need three more windows")
			require.Less(t, elapsed, 6*window, "and not much more")

			// Another key has its own window.
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			require.NoError(t, a.Wait(ctx, "loc-2"))
		})
	}
}

// sortTimes sorts times in place.
func sortTimes(times []time.Time) {
	for i := 1; i < len(times); i++ {
		for j := i; j > 0 && times[j].Before(times[j-1]); j-- {
			times[j], times[j-1] = times[j-1], times[j]
		}
	}
}

func TestLimiterCancelled(t *testing.T) {
	l := mustLimiter(t, nil, "", 1, time.Hour)
	require.NoError(t, l.Wait(t.Context(), "loc-1"))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Wait(ctx, "loc-1"), context.DeadlineExceeded)
}

// TestLimiterRedisDown counts in memory when Redis does not answer, and still holds the limit.
func TestLimiterRedisDown(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	l, err := ghl.NewLimiter(ghl.LimiterConfig{Redis: dead, Limit: 2, Window: time.Hour, Margin: -1, Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, l.Wait(t.Context(), "loc-1"))
	require.NoError(t, l.Wait(t.Context(), "loc-1"))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Wait(ctx, "loc-1"), context.DeadlineExceeded, "the third waits: memory counts too")
}

// TestRateLimitStorm sends many concurrent list calls from two clients (two instances) at a fake
// GHL that enforces its burst limit, as GHL does, and answers 429 to anything over it. With the
// shared limiter no request goes over; the calls are slowed down to the limit, not refused. The
// limit is scaled down (10 per 500 ms) so the test is quick; the algorithm does not depend on it.
func TestRateLimitStorm(t *testing.T) {
	for name, client := range limiterBackends(t) {
		t.Run(name, func(t *testing.T) {
			const limit, window = 10, 500 * time.Millisecond
			fake := ghltest.New(t)
			fake.EnforceLimit(limit, window)
			fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{{ID: "wf-a", Name: "A", Status: "draft", Version: 1}})
			prefix := redistest.Prefix()
			if client != nil {
				t.Cleanup(func() { redistest.DeleteKeys(t, client, prefix) })
			}
			newClient := func() *ghl.Client {
				cfg := ghl.LimiterConfig{Limit: limit, Window: window, Margin: 20 * time.Millisecond, Prefix: prefix}
				if client != nil {
					cfg.Redis, cfg.Timeout = client, time.Second
				}
				lim, err := ghl.NewLimiter(cfg)
				require.NoError(t, err)
				return mustClient(t, fake, func(c *ghl.ClientConfig) { c.Limiter = lim })
			}
			instances := []*ghl.Client{newClient(), newClient()}
			if client == nil {
				// Without Redis the count is per process: one client stands for the one instance.
				instances = instances[:1]
			}
			tok := mustExchange(t, fake, instances[0], "ghl-loc-1")

			var wg sync.WaitGroup
			const calls = 36
			errs := make(chan error, calls)
			start := time.Now()
			for i := range calls {
				c := instances[i%len(instances)]
				wg.Go(func() {
					_, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			var times []time.Time
			for _, r := range fake.Requests() {
				if r.Endpoint == "workflows" {
					require.Equal(t, http.StatusOK, r.Status)
					times = append(times, r.At)
				}
			}
			require.Len(t, times, calls, "no request was refused and sent again")
			require.Zero(t, fake.OverLimit(), "no request went over GHL's limit")
			require.LessOrEqual(t, maxInWindow(times, window), limit)
			require.GreaterOrEqual(t, time.Since(start), 3*window, "slowed down to the limit")
		})
	}
}

// TestRateLimitStormUnlimited shows what the limiter prevents: with a client that does not hold to
// GHL's limit, GHL refuses the excess with 429 and Retry-After, and the client recovers by waiting,
// within its attempts.
func TestRateLimitStormUnlimited(t *testing.T) {
	const limit, window = 5, 500 * time.Millisecond
	fake := ghltest.New(t)
	fake.EnforceLimit(limit, window)
	fake.SetWorkflows("ghl-loc-1", nil)
	c := mustClient(t, fake, func(cfg *ghl.ClientConfig) {
		lim, err := ghl.NewLimiter(ghl.LimiterConfig{Limit: 1000})
		require.NoError(t, err)
		cfg.Limiter = lim
		cfg.MaxAttempts = 6
	})
	tok := mustExchange(t, fake, c, "ghl-loc-1")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := c.ListWorkflows(t.Context(), "ghl-loc-1", tok.AccessToken)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Positive(t, fake.OverLimit(), "without the limiter GHL refuses some")
}

// TestLimiterBoundaryBurst sends the pattern that a fixed window lets through twice: one request
// opens a window, a burst comes just before the window ends and another just after. A fixed window
// of 10 per 500 ms (ulule/limiter's memory store, measured while choosing) grants 19 within 500 ms
// here; the sliding log grants none past the 10th until the first leaves the window.
func TestLimiterBoundaryBurst(t *testing.T) {
	for name, client := range limiterBackends(t) {
		t.Run(name, func(t *testing.T) {
			const limit, window = 10, 500 * time.Millisecond
			prefix := redistest.Prefix()
			if client != nil {
				t.Cleanup(func() { redistest.DeleteKeys(t, client, prefix) })
			}
			l := mustLimiter(t, client, prefix, limit, window)
			var granted []time.Time
			take := func() {
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
				defer cancel()
				if l.Wait(ctx, "loc-1") == nil {
					granted = append(granted, time.Now())
				}
			}
			take()
			time.Sleep(window - 50*time.Millisecond)
			for range 12 {
				take()
			}
			time.Sleep(60 * time.Millisecond)
			for range 12 {
				take()
			}
			// The bursts get what is left of the first window, and at most the one slot that the
			// first request frees while the second burst is still asking; a fixed window gives 19.
			require.LessOrEqual(t, len(granted), limit+1)
			require.LessOrEqual(t, maxInWindow(granted, window), limit)
		})
	}
}
