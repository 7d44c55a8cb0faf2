package cache

import (
	"context"
	"time"

	"github.com/sony/gobreaker/v2"
)

// level is a cache level, an index of the per-level counters.
type level int

const (
	levelL1 level = iota
	levelL2
	numLevels
)

// levelNames are the levels' names, the metrics' level label.
var levelNames = [numLevels]string{levelL1: "l1", levelL2: "l2"}

// L2State is the state of Redis as the cache sees it.
type L2State string

// The L2 states.
const (
	// L2Disabled: no Redis is configured; the cache runs on L1 alone, exactly.
	L2Disabled L2State = "disabled"
	// L2Up: Redis answers, the breaker is closed, invalidations arrive: full TTLs.
	L2Up L2State = "up"
	// L2Degraded: Redis is used, but not everything works: the breaker is half-open, the
	// invalidation channel is down, or invalidations of this instance wait to be sent. L1 keeps
	// entries for the degraded TTL only.
	L2Degraded L2State = "degraded"
	// L2Down: Redis is skipped (breaker open, or never reached): L1 with the degraded TTL, and
	// the sources.
	L2Down L2State = "down"
)

// BreakerState is the state of the circuit breaker around Redis.
type BreakerState string

// The breaker states.
const (
	// BreakerClosed: calls go to Redis.
	BreakerClosed BreakerState = "closed"
	// BreakerHalfOpen: a few probes go to Redis; they close the breaker or open it again.
	BreakerHalfOpen BreakerState = "half-open"
	// BreakerOpen: calls skip Redis until the breaker half-opens.
	BreakerOpen BreakerState = "open"
)

// breakerNames are the breaker states by gobreaker's.
var breakerNames = map[gobreaker.State]BreakerState{
	gobreaker.StateClosed:   BreakerClosed,
	gobreaker.StateHalfOpen: BreakerHalfOpen,
	gobreaker.StateOpen:     BreakerOpen,
}

// Stats are the cache's counts since New, for an admin endpoint. They are this Cache's (the
// metrics add up every Cache of the process, which in the service is one).
type Stats struct {
	// L1 is the in-process level.
	L1 L1Stats
	// L2 is Redis.
	L2 L2Stats
	// Kinds are the counts of each kind, in the order of Kinds().
	Kinds []KindStats
}

// L1Stats describe the in-process level.
type L1Stats struct {
	// Entries is the number of entries held, including those that a flush made unreachable and
	// the sweep has not yet removed.
	Entries uint64
	// Bytes is their cost (values, keys and an estimate of the overhead), at most MaxBytes.
	Bytes int64
	// MaxBytes is Config.L1MaxBytes.
	MaxBytes int64
	// Counts add up every kind's.
	Counts LevelStats
	// Evictions are entries removed to make room, of every kind.
	Evictions uint64
	// Flushes count the times L1 was emptied at once: each start and end of a Redis outage, a
	// lost subscription, a new Redis epoch.
	Flushes uint64
}

// L2Stats describe Redis.
type L2Stats struct {
	// State is Redis's state; L2Disabled without Redis.
	State L2State
	// Breaker is the circuit breaker's state; empty without Redis.
	Breaker BreakerState
	// Subscribed is whether invalidations from other instances arrive.
	Subscribed bool
	// Counts add up every kind's.
	Counts LevelStats
	// Skipped counts the fills that did not look in Redis because it was unavailable.
	Skipped uint64
	// Failures count Redis calls that failed or took longer than RedisTimeout.
	Failures uint64
	// BreakerOpens counts the times the breaker opened.
	BreakerOpens uint64
	// PendingInvalidations are this instance's deletions and bumps waiting for Redis.
	PendingInvalidations int
	// LockWaits count expensive fills that waited for another instance's fill.
	LockWaits uint64
	// LockTimeouts count those that stopped waiting after LockWait and filled anyway.
	LockTimeouts uint64
}

// LevelStats are one level's hits and misses.
type LevelStats struct {
	// Hits are lookups the level answered.
	Hits uint64
	// Misses are lookups it could not answer.
	Misses uint64
	// HitRatio is Hits / (Hits + Misses), 0 before any lookup.
	HitRatio float64
}

// KindStats are one kind's counts.
type KindStats struct {
	// Kind is the kind counted.
	Kind Kind
	// TTL is the kind's TTL in force (before the degraded TTL).
	TTL time.Duration
	// L1 counts every lookup.
	L1 LevelStats
	// L2 counts each shared fill's one look at Redis: callers that share a fill count once.
	L2 LevelStats
	// Fills count calls of the fill functions.
	Fills uint64
	// FillErrors count the fills that failed, and so cached nothing.
	FillErrors uint64
	// Evictions are entries removed from L1 to make room.
	Evictions uint64
	// Expirations are entries removed from L1 at the end of their TTL.
	Expirations uint64
}

// levelStats builds a LevelStats with its ratio.
func levelStats(hits, misses uint64) LevelStats {
	s := LevelStats{Hits: hits, Misses: misses}
	if hits+misses > 0 {
		s.HitRatio = float64(hits) / float64(hits+misses)
	}
	return s
}

// Stats returns the counts so far. It does not contact Redis.
func (c *Cache) Stats() Stats {
	st := Stats{
		L1: L1Stats{MaxBytes: c.l1MaxBytes, Flushes: c.flushes.Load()},
		L2: L2Stats{State: c.l2State()},
	}
	if !c.closed.Load() {
		st.L1.Entries = c.l1Entries()
		st.L1.Bytes = c.l1Bytes()
	}
	var l1h, l1m, l2h, l2m uint64
	for _, k := range Kinds() {
		n := &c.counters[k]
		ks := KindStats{
			Kind:        k,
			TTL:         c.ttl[k],
			L1:          levelStats(n.hits[levelL1].Load(), n.misses[levelL1].Load()),
			L2:          levelStats(n.hits[levelL2].Load(), n.misses[levelL2].Load()),
			Fills:       n.fills.Load(),
			FillErrors:  n.fillErrors.Load(),
			Evictions:   n.evictions.Load(),
			Expirations: n.expirations.Load(),
		}
		l1h, l1m = l1h+ks.L1.Hits, l1m+ks.L1.Misses
		l2h, l2m = l2h+ks.L2.Hits, l2m+ks.L2.Misses
		st.L1.Evictions += ks.Evictions
		st.L2.Skipped += n.l2Skips.Load()
		st.Kinds = append(st.Kinds, ks)
	}
	st.L1.Counts = levelStats(l1h, l1m)
	st.L2.Counts = levelStats(l2h, l2m)
	if c.client != nil {
		st.L2.Breaker = breakerNames[gobreaker.State(c.breakerState.Load())]
		st.L2.Subscribed = c.subscribed.Load()
		st.L2.Failures = c.redisFailures.Load()
		st.L2.BreakerOpens = c.breakerOpens.Load()
		st.L2.PendingInvalidations = c.pendingCount()
		st.L2.LockWaits = c.lockWaits.Load()
		st.L2.LockTimeouts = c.lockTimeouts.Load()
	}
	return st
}

// l1Entries is the number of entries L1 holds, from ristretto's counters.
func (c *Cache) l1Entries() uint64 {
	m := c.l1.Metrics
	return m.KeysAdded() - min(m.KeysEvicted(), m.KeysAdded())
}

// l1Bytes is the cost of the entries L1 holds.
func (c *Cache) l1Bytes() int64 { return c.l1.MaxCost() - c.l1.RemainingCost() }

// l2State is Redis's state from what the cache knows, without contacting it.
func (c *Cache) l2State() L2State {
	switch {
	case c.client == nil:
		return L2Disabled
	case c.healthy():
		return L2Up
	case !c.epochKnown.Load() || gobreaker.State(c.breakerState.Load()) == gobreaker.StateOpen:
		return L2Down
	default:
		return L2Degraded
	}
}

// Health is the cache's part of a detailed health check. A Redis that is down degrades the cache;
// it never makes the service unhealthy.
type Health struct {
	// State is Redis's state: L2Disabled, L2Up, L2Degraded or L2Down.
	State L2State
	// Breaker is the breaker's state; empty without Redis.
	Breaker BreakerState
	// Latency is how long Redis took to answer a ping (or to fail it); zero without Redis.
	Latency time.Duration
	// Error says why Redis is not up: the ping's failure, or the last Redis failure. It holds
	// go-redis's message, with addresses but no credentials.
	Error string
}

// Health pings Redis within RedisTimeout and reports its state. The ping is not counted by the
// breaker: a health check must not open it. A failed ping reports L2Down even while the breaker
// has not noticed yet.
func (c *Cache) Health(ctx context.Context) Health {
	h := Health{State: c.l2State()}
	if c.client == nil {
		return h
	}
	h.Breaker = breakerNames[gobreaker.State(c.breakerState.Load())]
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	start := time.Now()
	err := c.client.Ping(ctx).Err()
	h.Latency = time.Since(start)
	switch {
	case err != nil:
		h.State = L2Down
		h.Error = "ping: " + err.Error()
	case h.State != L2Up:
		h.Error, _ = c.lastErr.Load().(string)
	}
	return h
}
