package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// mustPair returns two caches sharing backend b's Redis under one prefix, as two instances of the
// service, each with a client of its own.
func mustPair(t *testing.T, b backend, cfg cache.Config) (*cache.Cache, *cache.Cache) {
	t.Helper()
	cfg.Prefix = redistest.Prefix()
	return mustCache(t, b, cfg), mustCache(t, b, cfg)
}

// seenWithin reads key on c until it returns want's version, and returns how long that took; it
// fails the test after a second.
func seenWithin(t *testing.T, c *cache.Cache, kind cache.Kind, key cache.Key, src *source, name string, want int64) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, func() bool { return mustGet(t, c, kind, key, src, name).Version == want },
		time.Second, time.Millisecond, "the other instance did not see version %d within a second", want)
	return time.Since(start)
}

func TestAcrossInstances(t *testing.T) {
	forEach(t, sharedBackends(t), func(t *testing.T, b backend) {
		t.Run("delete reaches the other instance within a second", func(t *testing.T) {
			a, other := mustPair(t, b, cache.Config{})
			src := newSource()
			mustGet(t, a, cache.KindAuth, authKey, src, "key")
			require.Equal(t, int64(1), mustGet(t, other, cache.KindAuth, authKey, src, "key").Version)
			mustGet(t, other, cache.KindAuth, authKey, src, "key")
			require.Equal(t, int64(1), src.fills.Load(), "both instances hold the entry")

			src.write("key")
			require.NoError(t, a.Delete(context.Background(), cache.KindAuth, authKey))
			require.Equal(t, int64(2), mustGet(t, a, cache.KindAuth, authKey, src, "key").Version, "at once on the deleting instance")
			t.Logf("the other instance saw the deletion after %s", seenWithin(t, other, cache.KindAuth, authKey, src, "key", 2))
		})

		t.Run("bump reaches the other instance within a second", func(t *testing.T) {
			a, other := mustPair(t, b, cache.Config{})
			src := newSource()
			mustGet(t, a, cache.KindWorkflowList, listKey, src, "list")
			mustGet(t, other, cache.KindWorkflowList, listKey, src, "list")
			require.Equal(t, int64(1), src.fills.Load())
			ga, err := a.Generation(context.Background(), scope1, cache.KindWorkflowList)
			require.NoError(t, err)
			gb, err := other.Generation(context.Background(), scope1, cache.KindWorkflowList)
			require.NoError(t, err)
			require.Equal(t, ga, gb, "instances agree on the generation, so a list's ETag is the same everywhere")

			src.write("list")
			require.NoError(t, a.Bump(context.Background(), scope1, cache.KindWorkflowList))
			require.Equal(t, int64(2), mustGet(t, a, cache.KindWorkflowList, listKey, src, "list").Version)
			t.Logf("the other instance saw the bump after %s", seenWithin(t, other, cache.KindWorkflowList, listKey, src, "list", 2))
			gb2, err := other.Generation(context.Background(), scope1, cache.KindWorkflowList)
			require.NoError(t, err)
			require.NotEqual(t, gb.String(), gb2.String())
		})

		t.Run("bump is seen within a second without its announcement", func(t *testing.T) {
			// Another client moves the generation in Redis behind the instance's back, as a bump
			// whose pub/sub message was lost: the copy's short life still bounds the delay.
			prefix := redistest.Prefix()
			c := mustCache(t, b, cache.Config{Prefix: prefix})
			src := newSource()
			mustGet(t, c, cache.KindWorkflowList, listKey, src, "list")
			mustGet(t, c, cache.KindWorkflowList, listKey, src, "list")
			require.Equal(t, int64(1), src.fills.Load())
			src.write("list")
			client := redistest.Client(t, b.url)
			require.NoError(t, client.Incr(context.Background(), prefix+":gen:workflow_list:acc_1:loc_1").Err())
			t.Logf("seen after %s", seenWithin(t, c, cache.KindWorkflowList, listKey, src, "list", 2))
		})

		t.Run("an expensive fill runs once across instances", func(t *testing.T) {
			a, other := mustPair(t, b, cache.Config{})
			const perInstance = 8
			var fills atomic.Int64
			started, release := make(chan struct{}), make(chan struct{})
			fill := func(context.Context) (item, error) {
				if fills.Add(1) == 1 {
					close(started)
				}
				<-release
				return item{Key: "analysis", Version: 1}, nil
			}
			results := make(chan item, 2*perInstance)
			var wg sync.WaitGroup
			for _, c := range []*cache.Cache{a, other} {
				for range perInstance {
					wg.Go(func() {
						v, err := cache.GetOrFill(context.Background(), c, cache.KindAnalysis, analysis, fill, cache.Expensive())
						require.NoError(t, err)
						results <- v
					})
				}
			}
			<-started
			// One instance fills; the other waits on the lock for its value.
			require.Eventually(t, func() bool { return a.Stats().L2.LockWaits+other.Stats().L2.LockWaits == 1 },
				5*time.Second, time.Millisecond)
			close(release)
			wg.Wait()
			close(results)
			for v := range results {
				require.Equal(t, item{Key: "analysis", Version: 1}, v)
			}
			require.Equal(t, int64(1), fills.Load(), "%d concurrent misses on two instances, one computation", 2*perInstance)
			require.Zero(t, a.Stats().L2.LockTimeouts+other.Stats().L2.LockTimeouts)
			t.Logf("fills %d; l2 hits %d (the waiting instance)", fills.Load(),
				kindStats(t, a, cache.KindAnalysis).L2.Hits+kindStats(t, other, cache.KindAnalysis).L2.Hits)
		})

		t.Run("a cheap fill runs once per instance", func(t *testing.T) {
			a, other := mustPair(t, b, cache.Config{})
			var fills atomic.Int64
			release := make(chan struct{})
			fill := func(context.Context) (item, error) {
				fills.Add(1)
				<-release
				return item{Key: "page", Version: 1}, nil
			}
			var wg sync.WaitGroup
			for _, c := range []*cache.Cache{a, other} {
				for range 4 {
					wg.Go(func() {
						_, err := cache.GetOrFill(context.Background(), c, cache.KindHistoryPage, listKey, fill)
						require.NoError(t, err)
					})
				}
			}
			require.Eventually(t, func() bool { return fills.Load() == 2 }, 5*time.Second, time.Millisecond,
				"without Expensive, each instance fills its own misses")
			close(release)
			wg.Wait()
			require.Equal(t, int64(2), fills.Load())
		})

		t.Run("a lock held too long is waited for only LockWait", func(t *testing.T) {
			a, other := mustPair(t, b, cache.Config{LockWait: 100 * time.Millisecond})
			started, release := make(chan struct{}), make(chan struct{})
			go func() {
				_, err := cache.GetOrFill(context.Background(), a, cache.KindAnalysis, analysis, func(context.Context) (item, error) {
					close(started)
					<-release
					return item{Key: "slow", Version: 1}, nil
				}, cache.Expensive())
				require.NoError(t, err)
			}()
			defer close(release)
			<-started
			start := time.Now()
			v, err := cache.GetOrFill(context.Background(), other, cache.KindAnalysis, analysis, func(context.Context) (item, error) {
				return item{Key: "own", Version: 1}, nil
			}, cache.Expensive())
			require.NoError(t, err)
			require.Equal(t, "own", v.Key, "filled anyway")
			require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
			require.Less(t, time.Since(start), 2*time.Second)
			require.Equal(t, uint64(1), other.Stats().L2.LockTimeouts)
		})
	})
}

func TestPartition(t *testing.T) {
	// Instance a reaches Redis through a proxy that the test cuts; instance other reaches it
	// directly. a's invalidations during the cut must reach other once a is back.
	forEach(t, sharedBackends(t), func(t *testing.T, b backend) {
		host := b.url[len("redis://"):]
		if i := len(host) - len("/0"); i > 0 && host[i:] == "/0" {
			host = host[:i]
		}
		p, err := tcpproxy.Listen("127.0.0.1:0", host)
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })

		prefix := redistest.Prefix()
		cfg := cache.Config{Prefix: prefix, RedisTimeout: 100 * time.Millisecond, BreakerOpenFor: 100 * time.Millisecond,
			DegradedTTL: 200 * time.Millisecond}
		acfg := cfg
		acfg.Redis = redistest.Client(t, "redis://"+p.Addr())
		a := mustCache(t, b, acfg)
		other := mustCache(t, b, cfg)
		src := newSource()
		mustGet(t, a, cache.KindAuth, authKey, src, "key")
		mustGet(t, a, cache.KindWorkflowList, listKey, src, "list")
		mustGet(t, other, cache.KindAuth, authKey, src, "key")
		mustGet(t, other, cache.KindWorkflowList, listKey, src, "list")
		require.Equal(t, int64(2), src.fills.Load())

		p.Cut()
		require.Eventually(t, func() bool { return a.Stats().L2.State != cache.L2Up }, 5*time.Second, time.Millisecond)
		src.write("key")
		src.write("list")
		require.NoError(t, a.Delete(context.Background(), cache.KindAuth, authKey))
		require.NoError(t, a.Bump(context.Background(), scope1, cache.KindWorkflowList))
		require.Equal(t, 2, a.Stats().L2.PendingInvalidations)
		require.Equal(t, int64(2), mustGet(t, a, cache.KindAuth, authKey, src, "key").Version, "a's own invalidations apply to it at once")
		require.Equal(t, int64(2), mustGet(t, a, cache.KindWorkflowList, listKey, src, "list").Version)
		t.Logf("during the cut, the other instance still reads versions %d and %d (it cannot hear a)",
			mustGet(t, other, cache.KindAuth, authKey, src, "key").Version, mustGet(t, other, cache.KindWorkflowList, listKey, src, "list").Version)

		require.NoError(t, p.Resume())
		mustUp(t, a)
		require.Zero(t, a.Stats().L2.PendingInvalidations)
		// a is up only after its invalidations reached Redis, so other sees them at once now.
		require.Equal(t, int64(2), mustGet(t, other, cache.KindAuth, authKey, src, "key").Version)
		require.Equal(t, int64(2), mustGet(t, other, cache.KindWorkflowList, listKey, src, "list").Version)
		require.Equal(t, int64(2), mustGet(t, a, cache.KindAuth, authKey, src, "key").Version)
	})
}

func TestRedisDown(t *testing.T) {
	mr := backends(t)[1]
	require.Equal(t, "miniredis", mr.name)
	c := mustCache(t, mr, cache.Config{RedisTimeout: 100 * time.Millisecond, BreakerOpenFor: 100 * time.Millisecond,
		DegradedTTL: time.Second})
	src := newSource()
	h := c.Health(context.Background())
	require.Equal(t, cache.L2Up, h.State)
	require.Equal(t, cache.BreakerClosed, h.Breaker)
	require.Positive(t, h.Latency)

	mr.mr.Close()
	start := time.Now()
	for i := 0; c.Stats().L2.State != cache.L2Down; i++ {
		require.Less(t, time.Since(start), 5*time.Second, "the breaker never opened: %+v", c.Stats().L2)
		// Each read fails on Redis (connection refused) and fills; none fails.
		mustGet(t, c, cache.KindAuth, cache.Scope{ID: "down"}.Key(string(rune('a'+i%26))), src, "down")
	}
	require.Equal(t, cache.BreakerOpen, c.Stats().L2.Breaker)
	h = c.Health(context.Background())
	require.Equal(t, cache.L2Down, h.State)
	require.NotEmpty(t, h.Error)

	// While Redis is down, L1 keeps entries for the degraded TTL only.
	fills := src.fills.Load()
	mustGet(t, c, cache.KindAnalysis, analysis, src, "an")
	mustGet(t, c, cache.KindAnalysis, analysis, src, "an")
	require.Equal(t, fills+1, src.fills.Load())
	time.Sleep(1200 * time.Millisecond)
	mustGet(t, c, cache.KindAnalysis, analysis, src, "an")
	require.Equal(t, fills+2, src.fills.Load(), "expired after the degraded TTL, not the kind's hour")

	// Generations are counted in process meanwhile, exactly.
	mustGet(t, c, cache.KindWorkflowList, listKey, src, "list")
	src.write("list")
	require.NoError(t, c.Bump(context.Background(), scope1, cache.KindWorkflowList))
	require.Equal(t, int64(2), mustGet(t, c, cache.KindWorkflowList, listKey, src, "list").Version)

	require.NoError(t, mr.mr.Restart())
	mustUp(t, c)
	require.Equal(t, cache.BreakerClosed, c.Stats().L2.Breaker)
	require.Zero(t, c.Stats().L2.PendingInvalidations, "the outage's bump was replayed")
	require.Equal(t, int64(2), mustGet(t, c, cache.KindWorkflowList, listKey, src, "list").Version)
	require.Equal(t, cache.L2Up, c.Health(context.Background()).State)
}
