package cache

import (
	"sync"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// The results of a fill, as the cache_fills_total label.
const (
	resultOK = iota
	resultError
	numResults
)

// resultNames are the fill results' label values.
var resultNames = [numResults]string{resultOK: "ok", resultError: "error"}

// fillBuckets are the upper bounds of the fill time histogram, in seconds: from an indexed read
// (tens of microseconds) to a large location's analysis or a call to GHL (seconds).
var fillBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// The cache's metrics. Labels come from fixed sets: level (l1, l2), kind (Kinds), result (ok,
// error).
var (
	hitsTotal = metrics.NewCounterVec("cache_hits_total",
		"Cache lookups answered by a level, by level (l1: in process, l2: Redis) and data kind. An L2 lookup happens once per fill shared by concurrent callers.",
		"level", "kind")
	missesTotal = metrics.NewCounterVec("cache_misses_total",
		"Cache lookups a level could not answer, by level (l1, l2) and data kind. A miss of both levels is a fill.",
		"level", "kind")
	fillsTotal = metrics.NewCounterVec("cache_fills_total",
		"Calls of the source (database, GHL) on a cache miss, by data kind and result (ok, error); failed fills are not cached.",
		"kind", "result")
	fillSeconds = metrics.NewHistogramVec("cache_fill_duration_seconds",
		"Time the source took to fill a cache miss, by data kind.",
		fillBuckets, "kind")
	evictionsTotal = metrics.NewCounterVec("cache_evictions_total",
		"Entries removed from the in-process cache (L1) to make room for others, by data kind; expired entries are not counted.",
		"kind")
	redisFailuresTotal = metrics.NewCounter("cache_redis_failures_total",
		"Cache calls to Redis that failed or took longer than the cache's Redis timeout; each went on without Redis.")
	breakerOpensTotal = metrics.NewCounter("cache_redis_breaker_opens_total",
		"Times the circuit breaker around Redis opened after repeated failures.")
	breakerGauge = metrics.NewGauge("cache_redis_breaker_state",
		"State of the circuit breaker around the cache's Redis: 0 closed (Redis used), 1 half-open (probing), 2 open (Redis skipped).",
		nil)
	_ = metrics.NewGauge("cache_l1_bytes",
		"Memory held by the in-process cache (L1): values, keys and an estimate of the overhead.",
		func() float64 { return live.sum(func(c *Cache) float64 { return float64(c.l1Bytes()) }) })
	_ = metrics.NewGauge("cache_l1_entries",
		"Entries held by the in-process cache (L1).",
		func() float64 { return live.sum(func(c *Cache) float64 { return float64(c.l1Entries()) }) })
	_ = metrics.NewGauge("cache_invalidations_pending",
		"Cache invalidations (deletions, generation bumps) of this instance waiting for Redis to come back.",
		func() float64 { return live.sum(func(c *Cache) float64 { return float64(c.pendingCount()) }) })
)

// The series, resolved once: the read path increments them without building a series name.
var (
	hitCounter      [numLevels][numKinds]*vm.Counter
	missCounter     [numLevels][numKinds]*vm.Counter
	fillCounter     [numKinds][numResults]*vm.Counter
	fillDuration    [numKinds]*vm.PrometheusHistogram
	evictionCounter [numKinds]*vm.Counter
)

func init() {
	// Every series exists from the start, at zero, so that a dashboard's rate() sees the first
	// event instead of a series appearing from nowhere.
	for _, k := range Kinds() {
		for l := range numLevels {
			hitCounter[l][k] = hitsTotal.With(levelNames[l], k.String())
			missCounter[l][k] = missesTotal.With(levelNames[l], k.String())
		}
		for r := range numResults {
			fillCounter[k][r] = fillsTotal.With(k.String(), resultNames[r])
		}
		fillDuration[k] = fillSeconds.With(k.String())
		evictionCounter[k] = evictionsTotal.With(k.String())
	}
}

// live is the set of open caches, whose L1 the gauges measure. The service has one; tests open
// several.
var live liveSet

// liveSet is a set of caches safe for concurrent use.
type liveSet struct {
	mu     sync.Mutex
	caches map[*Cache]struct{}
}

func (s *liveSet) add(c *Cache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.caches == nil {
		s.caches = map[*Cache]struct{}{}
	}
	s.caches[c] = struct{}{}
}

func (s *liveSet) remove(c *Cache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.caches, c)
}

// sum adds up f over the open caches.
func (s *liveSet) sum(f func(*Cache) float64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total float64
	for c := range s.caches {
		total += f(c)
	}
	return total
}
