package cache_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// faultKey is one entry of the fault test, with the version its readers must at least see: the
// writer sets it once a write and its invalidation are done.
type faultKey struct {
	name      string
	kind      cache.Kind
	key       cache.Key
	committed atomic.Int64
}

// redisHost returns the HOST:PORT of a redis:// URL.
func redisHost(url string) string {
	host := strings.TrimPrefix(url, "redis://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return host
}

// TestFaults runs a stream of reads and writes through a cache whose Redis is behind a proxy that
// slows, freezes and cuts it. Every read must succeed with its own key's data, never older than
// what was written and invalidated before the read began; the breaker must open during each fault
// and close again by itself.
func TestFaults(t *testing.T) {
	forEach(t, sharedBackends(t), func(t *testing.T, b backend) {
		p, err := tcpproxy.Listen("127.0.0.1:0", redisHost(b.url))
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		logs := &logtest.Buffer{}
		c := mustCache(t, b, cache.Config{
			Redis:          redistest.Client(t, "redis://"+p.Addr()),
			RedisTimeout:   cache.DefaultRedisTimeout,
			BreakerOpenFor: 200 * time.Millisecond,
			DegradedTTL:    500 * time.Millisecond,
			Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		})

		src := newSource()
		var keys []*faultKey
		for i := range 8 {
			keys = append(keys, &faultKey{name: fmt.Sprintf("auth-%d", i), kind: cache.KindAuth,
				key: cache.Scope{ID: fmt.Sprintf("hash_%d", i)}.Key("")})
		}
		for i := range 4 {
			for page := range 2 {
				keys = append(keys, &faultKey{name: fmt.Sprintf("list-%d-%d", i, page), kind: cache.KindWorkflowList,
					key: cache.Scope{Account: "acc_1", ID: fmt.Sprintf("loc_%d", i)}.Key(fmt.Sprintf("page=%d", page))})
			}
		}
		for _, k := range keys {
			k.committed.Store(1)
		}

		var calls, failures, stale atomic.Int64
		var firstProblem atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for r := range 4 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(r), 1))
				// About a thousand calls a second per reader: a busy service's stream, without
				// starving the machine's two cores (and so Redis's 50 ms) as a spinning loop would.
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					k := keys[rnd.IntN(len(keys))]
					floor := k.committed.Load()
					v, err := cache.GetOrFill(context.Background(), c, k.kind, k.key, src.fill(k.name))
					calls.Add(1)
					switch {
					case err != nil:
						failures.Add(1)
						firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: %v", k.name, err))
					case v.Key != k.name || v.Version < floor:
						stale.Add(1)
						firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: got %+v, want version %d or later", k.name, v, floor))
					}
				}
			})
		}
		var writes atomic.Int64
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(99, 1))
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				k := keys[rnd.IntN(len(keys))]
				v := src.write(k.name)
				var err error
				if k.kind == cache.KindAuth {
					err = c.Delete(context.Background(), k.kind, k.key)
				} else {
					err = c.Bump(context.Background(), k.key.Scope, k.kind)
				}
				if err != nil {
					failures.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("invalidate %s: %v", k.name, err))
				}
				k.committed.Store(v)
				writes.Add(1)
			}
		})

		report := func(phase string) {
			st := c.Stats()
			t.Logf("%-22s calls %6d writes %4d | l1 %6d/%-5d l2 %5d/%-5d fills %5d | redis failures %4d, breaker %-9s opens %d, state %-8s flushes %d pending %d",
				phase, calls.Load(), writes.Load(), st.L1.Counts.Hits, st.L1.Counts.Misses, st.L2.Counts.Hits, st.L2.Counts.Misses,
				src.fills.Load(), st.L2.Failures, st.L2.Breaker, st.L2.BreakerOpens, st.L2.State, st.L1.Flushes, st.L2.PendingInvalidations)
		}
		faults := []struct {
			name  string
			start func()
			d     time.Duration
		}{
			{name: "slow (100 ms each way)", start: func() { p.Slow(100 * time.Millisecond) }, d: 1500 * time.Millisecond},
			{name: "frozen", start: p.Freeze, d: 2500 * time.Millisecond},
			{name: "cut", start: p.Cut, d: 1500 * time.Millisecond},
		}
		time.Sleep(time.Second)
		report("normal")
		for _, f := range faults {
			opens := c.Stats().L2.BreakerOpens
			f.start()
			time.Sleep(f.d)
			report(f.name)
			require.Greater(t, c.Stats().L2.BreakerOpens, opens, "the breaker opened during %s", f.name)
			require.NoError(t, p.Resume())
			start := time.Now()
			mustUp(t, c)
			report(fmt.Sprintf("recovered in %s", time.Since(start).Round(time.Millisecond)))
			require.Equal(t, cache.BreakerClosed, c.Stats().L2.Breaker)
			time.Sleep(500 * time.Millisecond)
		}
		report("normal again")
		close(stop)
		wg.Wait()

		problem, _ := firstProblem.Load().(string)
		require.Zero(t, failures.Load(), "failed calls; first: %s", problem)
		require.Zero(t, stale.Load(), "stale or wrong values; first: %s", problem)
		require.Positive(t, kindStats(t, c, cache.KindAuth).L1.Hits)
		require.Positive(t, c.Stats().L2.Counts.Hits+c.Stats().L2.Counts.Misses, "Redis was used between the faults")
		t.Logf("%d calls and %d writes, none failed, none stale; breaker opened %d times; log lines: %d",
			calls.Load(), writes.Load(), c.Stats().L2.BreakerOpens, strings.Count(logs.String(), "\n"))
	})
}
