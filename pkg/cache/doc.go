// Package cache is ghl-debugger's two-level read-through cache: an in-process L1 (ristretto, a
// bounded LFU) in front of Redis (L2, shared by every instance) in front of the source (the
// database, GHL), which the caller gives as a fill function.
//
// # Reading
//
// GetOrFill (typed values, JSON in Redis) and GetOrFillBytes (values the caller keeps encoded, such
// as a gzipped analysis served as it is) look in L1, then in Redis, whose hit is copied into L1,
// then call the fill and store its value in Redis and L1. Concurrent misses of one entry in the
// process share one fill (singleflight). With Redis and the Expensive option, concurrent misses on
// every instance share one fill too: the first takes a Redis lock (bsm/redislock), the others poll
// Redis for its value for at most Config.LockWait and then fill anyway. A fill's error is returned
// to every caller that shared it, and nothing is cached.
//
// # Keys and tenants
//
// A Key is a Scope (the account, then a location, or the API key hash for KindAuth) and an item.
// The account, the scope and the kind are all part of the entry's identity, in L1 and in Redis, so
// two accounts never share an entry, even for byte-identical content. L1 is keyed by a 64-bit hash
// of that identity and compares the whole identity on every hit, so a hash collision is a miss,
// never another tenant's value.
//
// # Invalidation
//
// Each Kind has a TTL (Kind.DefaultTTL, overridden by Config.TTLs) and one way to be invalidated
// before it:
//
//   - KindAuth entries by Delete: the entry is replaced in Redis by a tombstone and every instance
//     drops it from L1 on a message of the invalidation channel (Redis pub/sub, one channel).
//   - Every other kind by generation: each scope has a counter per kind in Redis (Bump runs INCR),
//     and the counter is part of every key of the kind, so a Bump makes all the scope's entries of
//     the kind unreachable without finding them. Instances keep a copy of a generation for
//     Config.GenerationTTL (500 ms), and a Bump announces the new generation on the channel, so
//     other instances see it within milliseconds, and at most GenerationTTL later when an
//     announcement is lost.
//
// A fill that read its source before a change and finishes after the change's invalidation must
// not store what it read. In this process, each Delete moves a counter (one of 1024 stripes) that a
// fill compares before storing in L1, and a caller arriving after the Delete never joins a fill that
// started before it. In Redis, fills store with SET NX, and a Delete leaves a tombstone that lasts
// longer than any fill can (Config.FillTimeout), so a late fill's SET does nothing; a generation
// is read before the fill, so a late fill stores under the generation its data belongs to, which a
// Bump has already made unreachable. Callers must therefore invalidate after the change is stored.
//
// Without Redis, all of this is in-process and exact: Delete and Bump apply before they return.
//
// # Redis failing
//
// Redis never fails a call. Every Redis call runs within Config.RedisTimeout (50 ms: a slower
// Redis counts as failing) through a circuit breaker (sony/gobreaker): after
// Config.BreakerFailures failures in a row it opens and calls skip Redis at once; after
// Config.BreakerOpenFor it lets a probe through (the background loop probes even when no request
// comes), and closes again when the probe succeeds. While Redis is skipped, calls are answered by
// L1 and the fill; expensive fills are shared in the process only.
//
// What an outage does to invalidation, and how it is made safe:
//
//   - L1 keeps full TTLs only while the instance is "up": Redis usable, breaker closed, and the
//     invalidation channel subscribed (pinged every second, so a Redis that hangs is noticed
//     within two). When it stops being up, L1 is flushed (every entry made unreachable at once,
//     by moving an epoch mixed into L1's keys), because invalidations may already be missed; from
//     then on, new L1 entries live at most Config.DegradedTTL (1 s). That, plus the time to notice
//     the outage (at once for a refused connection, five timed-out calls or two seconds of
//     silence on the channel for a Redis that hangs), bounds how long this instance can serve
//     data that another instance changed during the outage.
//   - During the outage, generations are counted in process: this instance's own Bumps and
//     Deletes apply to it at once, exactly, as without Redis. Its entries are keyed by these local
//     generations, which never reach Redis.
//   - Invalidations that could not reach Redis (a failed Delete or Bump, or any made during the
//     outage) wait in the process (at most 10,000; beyond that, recovery moves the Redis epoch,
//     which is part of every Redis key, and so invalidates everything on every instance at once).
//     While any wait, this instance does not use Redis at all, so it never reads an entry that one
//     of its own invalidations should have removed.
//   - When Redis answers again, the waiting invalidations are sent first (tombstones and bumps,
//     announced to every instance); then, once subscribed again, the instance is up: it flushes
//     L1 again (its entries were keyed by local generations and may have missed other instances'
//     invalidations) and uses Redis and full TTLs.
//   - A Redis that lost its data (a restart without persistence, FLUSHDB) loses the epoch key;
//     the next instance to look (each reads it every second) creates a new random epoch, every
//     instance flushes L1, and no old generation number can come back.
//
// What stays possible: while an instance cannot reach Redis, other instances that can do not hear
// its invalidations and may serve the entries it invalidated, from Redis and their L1, until it
// reaches Redis again (then within milliseconds), or until those entries' TTL. An instance that
// dies during an outage with invalidations waiting loses them; their entries live until their TTL.
// When every instance loses Redis at once, which is the usual outage, each flushes and uses the
// degraded TTL: a change made anywhere is seen everywhere within DegradedTTL of the change (or of
// the outage being noticed, if that is later).
//
// What an outage costs: two L1 flushes per instance (one when it starts, one when it ends), L1
// hits only within DegradedTTL of a fill meanwhile, and the fills that Redis would have saved.
// A single Redis call that fails while the breaker stays closed costs the same when it was an
// invalidation (which must wait), and only that call's use of Redis when it was a read.
//
// # Observability
//
// Stats returns per-level and per-kind counts, L1's entries and bytes, L2's state (up, degraded,
// down, disabled) and the breaker's; Health pings Redis. The metrics (metrics.go) are
// cache_hits_total and cache_misses_total by level and kind, cache_fills_total by kind and result,
// cache_fill_duration_seconds by kind, cache_evictions_total by kind, cache_redis_failures_total,
// cache_redis_breaker_opens_total, cache_redis_breaker_state (0 closed, 1 half-open, 2 open),
// cache_l1_bytes, cache_l1_entries and cache_invalidations_pending.
package cache
