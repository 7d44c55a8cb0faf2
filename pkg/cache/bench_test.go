package cache_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
)

// sink and sinkBytes keep benchmark results alive (a []byte in an interface would allocate).
var (
	sink      any
	sinkBytes []byte
)

// benchValue is what the benchmarks cache: a pointer, as the API should cache structs.
var benchValue = &item{Key: "bench", Version: 1}

// BenchmarkGet measures a read on each path, beside a plain map read under a mutex as the
// reference of the same run: compare ns/op and allocs/op within one run, on one machine.
//
//	go test -run '^$' -bench BenchmarkGet -benchmem -count 6 ./pkg/cache/
//
// The l2 benchmarks give L1 no room (L1MaxBytes 1), so every read goes to Redis; set
// GHLD_TEST_REDIS_URL to measure a real Redis beside miniredis.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	fill := func(context.Context) (*item, error) { return benchValue, nil }
	body := []byte(`{"id":"an_1","findings":[]}`)
	fillBytes := func(context.Context) ([]byte, error) { return body, nil }
	l1Only := backend{name: "l1-only"}

	b.Run("reference=map+mutex", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]*item{"auth:keyhash_1": benchValue}
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			v := m["auth:keyhash_1"]
			mu.Unlock()
			sink = v
		}
	})
	b.Run("l1-hit/auth", func(b *testing.B) {
		c := mustCache(b, l1Only, cache.Config{})
		benchGet(b, c, cache.KindAuth, authKey, fill)
	})
	b.Run("l1-hit/workflow_list", func(b *testing.B) {
		// A generational kind also looks up its scope's generation.
		c := mustCache(b, l1Only, cache.Config{})
		benchGet(b, c, cache.KindWorkflowList, listKey, fill)
	})
	b.Run("l1-hit/workflow_list-with-redis", func(b *testing.B) {
		// With Redis, the generation comes from this instance's copy, refreshed every 500 ms.
		mr := miniredis.RunT(b)
		c := mustCache(b, backend{name: "miniredis", url: "redis://" + mr.Addr()}, cache.Config{})
		benchGet(b, c, cache.KindWorkflowList, listKey, fill)
	})
	b.Run("l1-hit/bytes", func(b *testing.B) {
		c := mustCache(b, l1Only, cache.Config{})
		_, _ = c.GetOrFillBytes(ctx, cache.KindAnalysis, analysis, fillBytes)
		b.ReportAllocs()
		for b.Loop() {
			v, err := c.GetOrFillBytes(ctx, cache.KindAnalysis, analysis, fillBytes)
			if err != nil {
				b.Fatal(err)
			}
			sinkBytes = v
		}
		benchRequireHits(b, c, cache.KindAnalysis)
	})

	l2 := []backend{}
	mr := miniredis.RunT(b)
	l2 = append(l2, backend{name: "miniredis", url: "redis://" + mr.Addr()})
	if url := os.Getenv(redistest.EnvURL); url != "" {
		l2 = append(l2, backend{name: "redis", url: url})
	}
	for _, be := range l2 {
		b.Run("l2-hit/"+be.name, func(b *testing.B) {
			c := mustCache(b, be, cache.Config{L1MaxBytes: 1})
			if _, err := cache.GetOrFill(ctx, c, cache.KindAuth, authKey, fill); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v, err := cache.GetOrFill(ctx, c, cache.KindAuth, authKey, fill)
				if err != nil {
					b.Fatal(err)
				}
				sink = v
			}
			ks := c.Stats().Kinds[0]
			if ks.Fills != 1 || ks.L2.Hits == 0 {
				b.Fatalf("not L2 hits: %+v", ks)
			}
		})
	}

	b.Run("parallel/reference=map+mutex", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]*item{"auth:keyhash_1": benchValue}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				v := m["auth:keyhash_1"]
				mu.Unlock()
				if v == nil {
					b.Error("missing")
				}
			}
		})
	})
	b.Run("parallel/l1-hit/auth", func(b *testing.B) {
		c := mustCache(b, l1Only, cache.Config{})
		if _, err := cache.GetOrFill(ctx, c, cache.KindAuth, authKey, fill); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v, err := cache.GetOrFill(ctx, c, cache.KindAuth, authKey, fill)
				if err != nil || v == nil {
					b.Error(err)
				}
			}
		})
	})
}

// benchGet measures L1 hits of key after one fill.
func benchGet(b *testing.B, c *cache.Cache, kind cache.Kind, key cache.Key, fill func(context.Context) (*item, error)) {
	ctx := context.Background()
	if _, err := cache.GetOrFill(ctx, c, kind, key, fill); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := cache.GetOrFill(ctx, c, kind, key, fill)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
	benchRequireHits(b, c, kind)
}

// benchRequireHits fails the benchmark unless it measured L1 hits after one fill.
func benchRequireHits(b *testing.B, c *cache.Cache, kind cache.Kind) {
	b.Helper()
	ks := kindStats(b, c, kind)
	if ks.Fills != 1 || ks.L1.Hits == 0 {
		b.Fatalf("not L1 hits: %+v", ks)
	}
}
