package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
)

func TestMain(m *testing.M) {
	// go-redis reports failed dials on its own logger; the fault tests cause hundreds of them.
	redis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}

// quietRedis discards go-redis's own messages.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// testTimeout is the Redis timeout of the tests that check caching rather than failover: long
// enough that a loaded machine never makes a call fail.
const testTimeout = 2 * time.Second

// backend is where a cache keeps its L2.
type backend struct {
	name string
	// url is the Redis every cache of a test connects to; empty for L1 only.
	url string
	// mr is the miniredis server, for tests that stop it.
	mr *miniredis.Miniredis
}

// shared reports whether caches on the backend share L2 and invalidations, as instances do.
func (b backend) shared() bool { return b.url != "" }

// backends returns L1 only, miniredis and, when one is configured, a real Redis (see redistest.URL).
func backends(t *testing.T) []backend {
	t.Helper()
	mr := miniredis.RunT(t)
	out := []backend{
		{name: "l1-only"},
		{name: "miniredis", url: "redis://" + mr.Addr(), mr: mr},
	}
	out = append(out, realRedis(t)...)
	return out
}

// sharedBackends returns the backends with Redis.
func sharedBackends(t *testing.T) []backend {
	t.Helper()
	var out []backend
	for _, b := range backends(t) {
		if b.shared() {
			out = append(out, b)
		}
	}
	return out
}

// realRedis returns the real Redis backend when one is configured (redistest.URL fails the test
// in CI when it is not).
func realRedis(t *testing.T) []backend {
	t.Helper()
	if url := redistest.URL(t); url != "" {
		return []backend{{name: "redis", url: url}}
	}
	return nil
}

// forEach runs fn once per backend as a subtest named after it.
func forEach(t *testing.T, bs []backend, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// mustCache returns a cache on backend b with cfg, with a client of its own (as another instance
// would have), closed when the test ends; the prefix's keys are deleted then. cfg.Prefix must be
// set for caches that share Redis; the Redis timeout is testTimeout unless cfg sets one.
func mustCache(tb testing.TB, b backend, cfg cache.Config) *cache.Cache {
	tb.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = redistest.Prefix()
	}
	if cfg.RedisTimeout == 0 {
		cfg.RedisTimeout = testTimeout
	}
	if b.shared() && cfg.Redis == nil {
		client := redistest.Client(tb, b.url)
		cfg.Redis = client
		tb.Cleanup(func() { redistest.DeleteKeys(tb, client, cfg.Prefix) })
	}
	c, err := cache.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(c.Close)
	if b.shared() {
		mustUp(tb, c)
	}
	return c
}

// mustUp waits until the cache uses Redis with full TTLs: subscribed, epoch read, breaker closed.
func mustUp(tb testing.TB, c *cache.Cache) {
	tb.Helper()
	require.Eventually(tb, func() bool { return c.Stats().L2.State == cache.L2Up }, 10*time.Second, 5*time.Millisecond,
		"the cache never got to use Redis: %+v", c.Stats().L2)
}

// item is a cached value as the API would cache one: a struct that survives JSON.
type item struct {
	Key     string `json:"key"`
	Version int64  `json:"version"`
}

// source is a store of versioned items, the cache's source in tests. It counts its fills.
type source struct {
	fills atomic.Int64
	mu    sync.Mutex
	// versions are each key's current version (1 until set).
	versions map[string]int64
}

func newSource() *source { return &source{versions: map[string]int64{}} }

// version returns name's version.
func (s *source) version(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.versions[name], 1)
}

// write moves name to its next version and returns it.
func (s *source) write(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[name] = max(s.versions[name], 1) + 1
	return s.versions[name]
}

// fill returns the fill of name, which reads its current version.
func (s *source) fill(name string) func(context.Context) (item, error) {
	return func(context.Context) (item, error) {
		s.fills.Add(1)
		return item{Key: name, Version: s.version(name)}, nil
	}
}

// mustGet reads key of kind through the cache, filling from src, and checks that the value is
// name's.
func mustGet(tb testing.TB, c *cache.Cache, kind cache.Kind, key cache.Key, src *source, name string) item {
	tb.Helper()
	v, err := cache.GetOrFill(context.Background(), c, kind, key, src.fill(name))
	require.NoError(tb, err)
	require.Equal(tb, name, v.Key)
	return v
}

// kindStats returns the cache's counts of kind.
func kindStats(tb testing.TB, c *cache.Cache, kind cache.Kind) cache.KindStats {
	tb.Helper()
	for _, ks := range c.Stats().Kinds {
		if ks.Kind == kind {
			return ks
		}
	}
	tb.Fatalf("no stats for %s", kind)
	return cache.KindStats{}
}

// The keys of the tests: one per kind of invalidation.
var (
	scope1   = cache.Scope{Account: "acc_1", ID: "loc_1"}
	listKey  = scope1.Key("page=1")
	authKey  = cache.Scope{ID: "keyhash_1"}.Key("")
	analysis = cache.Scope{Account: "acc_1"}.Key("an_1")
)

func TestGetOrFill(t *testing.T) {
	forEach(t, backends(t), func(t *testing.T, b backend) {
		t.Run("hits and misses per level", func(t *testing.T) {
			prefix := redistest.Prefix()
			c := mustCache(t, b, cache.Config{Prefix: prefix})
			src := newSource()

			require.Equal(t, int64(1), mustGet(t, c, cache.KindWorkflowList, listKey, src, "list").Version)
			require.Equal(t, int64(1), src.fills.Load())
			ks := kindStats(t, c, cache.KindWorkflowList)
			require.Equal(t, cache.LevelStats{Misses: 1}, ks.L1)
			require.Equal(t, uint64(1), ks.Fills)
			if b.shared() {
				require.Equal(t, cache.LevelStats{Misses: 1}, ks.L2)
			}

			mustGet(t, c, cache.KindWorkflowList, listKey, src, "list")
			require.Equal(t, int64(1), src.fills.Load(), "the second read is an L1 hit")
			ks = kindStats(t, c, cache.KindWorkflowList)
			require.Equal(t, cache.LevelStats{Hits: 1, Misses: 1, HitRatio: 0.5}, ks.L1)
			require.Equal(t, uint64(1), ks.Fills)

			if !b.shared() {
				return
			}
			other := mustCache(t, b, cache.Config{Prefix: prefix})
			require.Equal(t, int64(1), mustGet(t, other, cache.KindWorkflowList, listKey, src, "list").Version)
			require.Equal(t, int64(1), src.fills.Load(), "another instance reads L2")
			ks = kindStats(t, other, cache.KindWorkflowList)
			require.Equal(t, cache.LevelStats{Misses: 1}, ks.L1)
			require.Equal(t, cache.LevelStats{Hits: 1, HitRatio: 1}, ks.L2)
			require.Zero(t, ks.Fills)
			mustGet(t, other, cache.KindWorkflowList, listKey, src, "list")
			require.Equal(t, cache.LevelStats{Hits: 1, Misses: 1, HitRatio: 0.5}, kindStats(t, other, cache.KindWorkflowList).L1,
				"the L2 hit was copied into L1")
		})

		t.Run("bytes are served as stored", func(t *testing.T) {
			prefix := redistest.Prefix()
			c := mustCache(t, b, cache.Config{Prefix: prefix})
			body := []byte("\x1f\x8b\x08\x00 pre-encoded and gzipped")
			var fills atomic.Int64
			fill := func(context.Context) ([]byte, error) { fills.Add(1); return body, nil }
			for range 2 {
				got, err := c.GetOrFillBytes(context.Background(), cache.KindAnalysis, analysis, fill)
				require.NoError(t, err)
				require.Equal(t, body, got)
			}
			require.Equal(t, int64(1), fills.Load())
			if b.shared() {
				other := mustCache(t, b, cache.Config{Prefix: prefix})
				got, err := other.GetOrFillBytes(context.Background(), cache.KindAnalysis, analysis, fill)
				require.NoError(t, err)
				require.Equal(t, body, got)
				require.Equal(t, int64(1), fills.Load(), "from L2, byte for byte")
			}
			// A typed read of the same key is another entry: it fills, and never decodes the bytes.
			src := newSource()
			mustGet(t, c, cache.KindAnalysis, analysis, src, "typed")
			require.Equal(t, int64(1), src.fills.Load())
		})

		t.Run("fill error is returned and not cached", func(t *testing.T) {
			prefix := redistest.Prefix()
			c := mustCache(t, b, cache.Config{Prefix: prefix})
			errBoom := errors.New("boom")
			var calls atomic.Int64
			fill := func(context.Context) (item, error) {
				if calls.Add(1) == 1 {
					return item{}, fmt.Errorf("read item: %w", errBoom)
				}
				return item{Key: "x", Version: 7}, nil
			}
			_, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, fill)
			require.ErrorIs(t, err, errBoom)
			require.Equal(t, "read item: boom", err.Error(), "the fill's error as it is")
			ks := kindStats(t, c, cache.KindAuth)
			require.Equal(t, uint64(1), ks.Fills)
			require.Equal(t, uint64(1), ks.FillErrors)

			if b.shared() {
				other := mustCache(t, b, cache.Config{Prefix: prefix})
				v, err := cache.GetOrFill(context.Background(), other, cache.KindAuth, authKey, fill)
				require.NoError(t, err)
				require.Equal(t, int64(7), v.Version)
				require.Equal(t, int64(2), calls.Load(), "nothing was stored in L2 either")
			}
			v, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, fill)
			require.NoError(t, err)
			require.Equal(t, int64(7), v.Version)
			want := int64(2)
			if b.shared() {
				want = 2 // The other instance's fill reached L2.
			}
			require.Equal(t, want, calls.Load())
			_, err = cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, fill)
			require.NoError(t, err)
			require.Equal(t, want, calls.Load(), "a success is cached")
		})

		t.Run("a panicking fill is an error", func(t *testing.T) {
			logs := &logtest.Buffer{}
			c := mustCache(t, b, cache.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			_, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, func(context.Context) (item, error) {
				panic("fill broke")
			})
			require.ErrorContains(t, err, "fill broke")
			require.Contains(t, logs.String(), "cache fill panicked")
			require.Equal(t, uint64(1), kindStats(t, c, cache.KindAuth).FillErrors)
		})

		t.Run("invalid keys are refused before any fill", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			src := newSource()
			tests := []struct {
				name string
				kind cache.Kind
				key  cache.Key
				want string
			}{
				{name: "list without account", kind: cache.KindWorkflowList, key: cache.Scope{ID: "loc"}.Key("p"), want: "needs an account"},
				{name: "auth without key hash", kind: cache.KindAuth, key: cache.Scope{Account: "acc"}.Key(""), want: "API key hash"},
				{name: "unknown kind", kind: cache.Kind(99), key: listKey, want: "invalid kind"},
				{name: "key too long", kind: cache.KindHistoryPage, key: scope1.Key(strings.Repeat("x", 2000)), want: "longer than"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := cache.GetOrFill(context.Background(), c, tt.kind, tt.key, src.fill("x"))
					require.ErrorContains(t, err, tt.want)
				})
			}
			require.Zero(t, src.fills.Load())
		})

		t.Run("one kind and key read as two types is an error", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			src := newSource()
			mustGet(t, c, cache.KindAuth, authKey, src, "x")
			_, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, func(context.Context) (string, error) {
				return "other", nil
			})
			require.ErrorContains(t, err, "holds cache_test.item, not string")
		})
	})
}

func TestFillOnceInProcess(t *testing.T) {
	forEach(t, backends(t), func(t *testing.T, b backend) {
		for _, expensive := range []bool{false, true} {
			t.Run(fmt.Sprintf("expensive=%t", expensive), func(t *testing.T) {
				c := mustCache(t, b, cache.Config{})
				const n = 32
				var fills atomic.Int64
				started, release := make(chan struct{}), make(chan struct{})
				fill := func(context.Context) (item, error) {
					if fills.Add(1) == 1 {
						close(started)
					}
					<-release
					return item{Key: "hot", Version: 1}, nil
				}
				var opts []cache.Option
				if expensive {
					opts = append(opts, cache.Expensive())
				}
				results := make([]item, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						results[i], errs[i] = cache.GetOrFill(context.Background(), c, cache.KindHistoryPage, listKey, fill, opts...)
					})
				}
				<-started
				// Every caller has missed L1 before the fill may end: they all overlap.
				require.Eventually(t, func() bool { return kindStats(t, c, cache.KindHistoryPage).L1.Misses == n },
					5*time.Second, time.Millisecond)
				close(release)
				wg.Wait()
				for i := range n {
					require.NoError(t, errs[i])
					require.Equal(t, item{Key: "hot", Version: 1}, results[i])
				}
				require.Equal(t, int64(1), fills.Load(), "%d concurrent misses, one fill", n)
			})
		}

		t.Run("waiters share a failure", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			const n = 16
			errBoom := errors.New("boom")
			var fills atomic.Int64
			started, release := make(chan struct{}), make(chan struct{})
			fill := func(context.Context) (item, error) {
				if fills.Add(1) == 1 {
					close(started)
				}
				<-release
				return item{}, errBoom
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { _, errs[i] = cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, fill) })
			}
			<-started
			require.Eventually(t, func() bool { return kindStats(t, c, cache.KindAuth).L1.Misses == n }, 5*time.Second, time.Millisecond)
			close(release)
			wg.Wait()
			for _, err := range errs {
				require.ErrorIs(t, err, errBoom)
			}
			require.Equal(t, int64(1), fills.Load())
		})

		t.Run("a caller that goes away leaves the fill to the others", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			started, release := make(chan struct{}), make(chan struct{})
			var fillCtxErr atomic.Value
			fill := func(ctx context.Context) (item, error) {
				close(started)
				<-release
				fillCtxErr.Store(fmt.Sprint(ctx.Err()))
				return item{Key: "k", Version: 1}, nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := cache.GetOrFill(ctx, c, cache.KindAuth, authKey, fill)
				done <- err
			}()
			<-started
			cancel()
			require.ErrorIs(t, <-done, context.Canceled, "the caller stops waiting at once")
			close(release)
			require.Eventually(t, func() bool {
				v, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, func(context.Context) (item, error) {
					return item{}, errors.New("must not fill again")
				})
				return err == nil && v.Version == 1
			}, 5*time.Second, 5*time.Millisecond, "the fill went on and its value was cached")
			require.Equal(t, "<nil>", fillCtxErr.Load(), "the fill's context was not canceled with the caller's")
		})
	})
}

func TestInvalidation(t *testing.T) {
	forEach(t, backends(t), func(t *testing.T, b backend) {
		t.Run("delete on this instance", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			src := newSource()
			require.Equal(t, int64(1), mustGet(t, c, cache.KindAuth, authKey, src, "auth").Version)
			src.write("auth")
			require.Equal(t, int64(1), mustGet(t, c, cache.KindAuth, authKey, src, "auth").Version, "cached until deleted")
			require.NoError(t, c.Delete(context.Background(), cache.KindAuth, authKey))
			require.Equal(t, int64(2), mustGet(t, c, cache.KindAuth, authKey, src, "auth").Version)
			require.Equal(t, int64(2), src.fills.Load())
		})

		t.Run("bump on this instance", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			src := newSource()
			other := scope1.Key("page=2")
			before, err := c.Generation(context.Background(), scope1, cache.KindWorkflowList)
			require.NoError(t, err)
			mustGet(t, c, cache.KindWorkflowList, listKey, src, "page1")
			mustGet(t, c, cache.KindWorkflowList, other, src, "page2")
			mustGet(t, c, cache.KindHistoryPage, listKey, src, "history")
			src.write("page1")
			src.write("page2")
			require.NoError(t, c.Bump(context.Background(), scope1, cache.KindWorkflowList))
			after, err := c.Generation(context.Background(), scope1, cache.KindWorkflowList)
			require.NoError(t, err)
			require.NotEqual(t, before.String(), after.String())

			require.Equal(t, int64(2), mustGet(t, c, cache.KindWorkflowList, listKey, src, "page1").Version)
			require.Equal(t, int64(2), mustGet(t, c, cache.KindWorkflowList, other, src, "page2").Version, "every page of the scope")
			require.Equal(t, int64(5), src.fills.Load())
			mustGet(t, c, cache.KindHistoryPage, listKey, src, "history")
			require.Equal(t, int64(5), src.fills.Load(), "other kinds keep their generation")
			require.NoError(t, c.Bump(context.Background(), scope1))
			mustGet(t, c, cache.KindHistoryPage, listKey, src, "history")
			require.Equal(t, int64(6), src.fills.Load(), "a Bump without kinds moves them all")
		})

		t.Run("invalid invalidations", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			require.ErrorContains(t, c.Bump(context.Background(), cache.Scope{ID: "h"}, cache.KindAuth), "use Delete")
			require.ErrorContains(t, c.Delete(context.Background(), cache.KindAnalysis, cache.Scope{ID: "x"}.Key("y")), "needs an account")
			_, err := c.Generation(context.Background(), cache.Scope{ID: "h"}, cache.KindAuth)
			require.ErrorContains(t, err, "no generations")
		})

		t.Run("a fill that read before a delete stores nothing", func(t *testing.T) {
			c := mustCache(t, b, cache.Config{})
			src := newSource()
			read, finish := make(chan struct{}), make(chan struct{})
			stale := func(context.Context) (item, error) {
				v := item{Key: "auth", Version: src.version("auth")}
				close(read)
				<-finish
				return v, nil
			}
			done := make(chan item, 1)
			go func() {
				v, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, authKey, stale)
				require.NoError(t, err)
				done <- v
			}()
			<-read
			src.write("auth")
			require.NoError(t, c.Delete(context.Background(), cache.KindAuth, authKey))
			close(finish)
			require.Equal(t, int64(1), (<-done).Version, "the caller that started before the write gets what was read")
			require.Equal(t, int64(2), mustGet(t, c, cache.KindAuth, authKey, src, "auth").Version, "but it was not cached")
		})
	})
}

func TestTenantIsolation(t *testing.T) {
	forEach(t, backends(t), func(t *testing.T, b backend) {
		prefix := redistest.Prefix()
		c := mustCache(t, b, cache.Config{Prefix: prefix})
		accA := cache.Scope{Account: "acc_a", ID: "loc_1"}
		accB := cache.Scope{Account: "acc_b", ID: "loc_1"}
		same := item{Key: "workflow", Version: 1}
		var fills [2]atomic.Int64
		fill := func(i int) func(context.Context) (item, error) {
			return func(context.Context) (item, error) { fills[i].Add(1); return same, nil }
		}
		for _, kind := range []cache.Kind{cache.KindWorkflowList, cache.KindAnalysis} {
			for range 2 {
				va, err := cache.GetOrFill(context.Background(), c, kind, accA.Key("wf_1"), fill(0))
				require.NoError(t, err)
				vb, err := cache.GetOrFill(context.Background(), c, kind, accB.Key("wf_1"), fill(1))
				require.NoError(t, err)
				require.Equal(t, same, va)
				require.Equal(t, same, vb)
			}
		}
		require.Equal(t, int64(2), fills[0].Load(), "account A filled each kind once")
		require.Equal(t, int64(2), fills[1].Load(), "account B filled its own entries, identical content notwithstanding")

		require.NoError(t, c.Bump(context.Background(), accA))
		for _, kind := range []cache.Kind{cache.KindWorkflowList, cache.KindAnalysis} {
			_, err := cache.GetOrFill(context.Background(), c, kind, accA.Key("wf_1"), fill(0))
			require.NoError(t, err)
			_, err = cache.GetOrFill(context.Background(), c, kind, accB.Key("wf_1"), fill(1))
			require.NoError(t, err)
		}
		require.Equal(t, int64(4), fills[0].Load(), "A's bump invalidated A's entries")
		require.Equal(t, int64(2), fills[1].Load(), "and none of B's")

		if b.shared() {
			client := redistest.Client(t, b.url)
			var a, bb int
			for _, k := range redistest.Keys(t, client, prefix) {
				switch {
				case strings.Contains(k, ":acc_a:loc_1:"):
					a++
				case strings.Contains(k, ":acc_b:loc_1:"):
					bb++
				}
			}
			require.Equal(t, 4, a, "A's entries of two generations and A's two generation keys")
			require.Equal(t, 2, bb, "B's entries, apart from A's")
		}
	})
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  cache.Config
		want string
	}{
		{name: "negative duration", cfg: cache.Config{RedisTimeout: -1}, want: "must not be negative"},
		{name: "TTL of an unknown kind", cfg: cache.Config{TTLs: map[cache.Kind]time.Duration{cache.Kind(42): time.Second}}, want: "invalid kind"},
		{name: "zero TTL", cfg: cache.Config{TTLs: map[cache.Kind]time.Duration{cache.KindAuth: 0}}, want: "must be positive"},
		{name: "client without context timeouts", cfg: cache.Config{Redis: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})}, want: "ContextTimeoutEnabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cache.New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}

	t.Run("a nil *redis.Client is no Redis", func(t *testing.T) {
		var client *redis.Client
		c, err := cache.New(cache.Config{Redis: client})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		require.Equal(t, cache.L2Disabled, c.Stats().L2.State)
		require.Equal(t, cache.Health{State: cache.L2Disabled}, c.Health(context.Background()))
	})

	t.Run("kinds", func(t *testing.T) {
		for _, k := range cache.Kinds() {
			got, err := cache.ParseKind(k.String())
			require.NoError(t, err)
			require.Equal(t, k, got)
			require.Positive(t, k.DefaultTTL())
			require.Equal(t, k != cache.KindAuth, k.Generational())
		}
		_, err := cache.ParseKind("nope")
		require.Error(t, err)
	})

	t.Run("TTL overrides are in force", func(t *testing.T) {
		c, err := cache.New(cache.Config{TTLs: map[cache.Kind]time.Duration{cache.KindAuth: 100 * time.Millisecond}})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		require.Equal(t, 100*time.Millisecond, kindStats(t, c, cache.KindAuth).TTL)
		require.Equal(t, time.Hour, kindStats(t, c, cache.KindAnalysis).TTL)
		src := newSource()
		mustGet(t, c, cache.KindAuth, authKey, src, "a")
		mustGet(t, c, cache.KindAuth, authKey, src, "a")
		require.Equal(t, int64(1), src.fills.Load())
		time.Sleep(150 * time.Millisecond)
		mustGet(t, c, cache.KindAuth, authKey, src, "a")
		require.Equal(t, int64(2), src.fills.Load(), "expired after its TTL")
	})
}

// TestNoStaleReadAfterInvalidation races readers against a writer on one instance: once a write
// and its invalidation are done, no read that begins afterwards may return an older version, from
// either level. (It found a lookup that read Redis between Delete's first L1 drop and its
// tombstone, and cached the old value.)
func TestNoStaleReadAfterInvalidation(t *testing.T) {
	forEach(t, backends(t), func(t *testing.T, b backend) {
		c := mustCache(t, b, cache.Config{})
		src := newSource()
		var keys []*faultKey
		for i := range 3 {
			keys = append(keys,
				&faultKey{name: fmt.Sprintf("auth-%d", i), kind: cache.KindAuth, key: cache.Scope{ID: fmt.Sprintf("hash_%d", i)}.Key("")},
				&faultKey{name: fmt.Sprintf("list-%d", i), kind: cache.KindWorkflowList, key: cache.Scope{Account: "acc", ID: fmt.Sprintf("loc_%d", i)}.Key("p")})
		}
		for _, k := range keys {
			k.committed.Store(1)
		}
		var reads, stale atomic.Int64
		var first atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for r := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					k := keys[(i+r)%len(keys)]
					floor := k.committed.Load()
					v, err := cache.GetOrFill(context.Background(), c, k.kind, k.key, src.fill(k.name))
					reads.Add(1)
					if err != nil || v.Version < floor {
						stale.Add(1)
						first.CompareAndSwap(nil, fmt.Sprintf("%s: got %+v (%v), want version %d or later", k.name, v, err, floor))
					}
					time.Sleep(100 * time.Microsecond)
				}
			})
		}
		for i := range 300 {
			k := keys[i%len(keys)]
			v := src.write(k.name)
			if k.kind == cache.KindAuth {
				require.NoError(t, c.Delete(context.Background(), k.kind, k.key))
			} else {
				require.NoError(t, c.Bump(context.Background(), k.key.Scope, k.kind))
			}
			k.committed.Store(v)
			time.Sleep(time.Millisecond)
		}
		close(stop)
		wg.Wait()
		problem, _ := first.Load().(string)
		require.Zero(t, stale.Load(), "of %d reads; first: %s", reads.Load(), problem)
		t.Logf("%d reads, %d fills, none stale", reads.Load(), src.fills.Load())
	})
}

func TestL1Bound(t *testing.T) {
	const maxBytes = 16 << 10
	c := mustCache(t, backend{name: "l1-only"}, cache.Config{L1MaxBytes: maxBytes})
	value := strings.Repeat("x", 400)
	for i := range 200 {
		_, err := cache.GetOrFill(context.Background(), c, cache.KindAuth, cache.Scope{ID: fmt.Sprintf("hash_%d", i)}.Key(""),
			func(context.Context) (string, error) { return value, nil })
		require.NoError(t, err)
	}
	st := c.Stats()
	require.LessOrEqual(t, st.L1.Bytes, int64(maxBytes))
	require.Less(t, st.L1.Entries, uint64(200))
	require.Positive(t, st.L1.Evictions)
	require.Equal(t, st.L1.Evictions, kindStats(t, c, cache.KindAuth).Evictions)
	t.Logf("200 entries of about 500 bytes in %d bytes: %d kept, %d evicted", maxBytes, st.L1.Entries, st.L1.Evictions)
}
