package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// errSkipped is returned by do when the breaker did not let the call through.
var errSkipped = errors.New("cache: Redis skipped while the breaker is open")

// The L2 value envelope: a marker byte, then for a value its expiry (Unix milliseconds, big
// endian, so that a copy promoted to L1 expires with it) and the encoded value.
const (
	envValue     = 'v'
	envTombstone = 't'
	envHeader    = 9
)

// The invalidation messages, after the sender's instance id: d<entry id> drops an entry,
// g<n>:<scope id> announces a scope's new generation, f<epoch> a new Redis epoch.
const (
	msgDelete     = 'd'
	msgGeneration = 'g'
	msgEpoch      = 'f'
)

// bumpScript moves a generation: INCR, but never below the clock in microseconds (ARGV[1]), so
// that a generation key that expired and starts again never repeats a number some entry still
// carries; and it keeps the key as long as its entries can live (ARGV[2], milliseconds).
const bumpScript = `
local v = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if v < floor then
  redis.call('SET', KEYS[1], ARGV[1])
  v = floor
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v`

// l2Usable reports whether L2 may be read and written: Redis configured, its epoch known, none
// of this instance's invalidations waiting to reach it, and the breaker not open. It takes no
// lock, as the read path asks it.
func (c *Cache) l2Usable() bool {
	return c.client != nil && c.epochKnown.Load() && !c.pendingAny.Load() &&
		gobreaker.State(c.breakerState.Load()) != gobreaker.StateOpen
}

// healthy reports whether L1 may keep entries for their full TTL: L2 usable, the breaker closed,
// and the invalidation channel subscribed, so that other instances' invalidations arrive.
func (c *Cache) healthy() bool {
	return c.l2Usable() && c.subscribed.Load() && gobreaker.State(c.breakerState.Load()) == gobreaker.StateClosed
}

// do runs op against Redis through the breaker, within RedisTimeout whatever ctx allows. The
// caller's cancellation is not passed on: a client that went away must not make Redis look down.
// op returns nil for outcomes that are not failures (a missing key).
func (c *Cache) do(ctx context.Context, op func(context.Context) error) error {
	_, err := c.breaker.Execute(func() (struct{}, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		return struct{}{}, op(ctx)
	})
	if err == nil {
		return nil
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return errSkipped
	}
	c.redisFailures.Add(1)
	redisFailuresTotal.Inc()
	c.lastErr.Store(err.Error())
	return err
}

// l2Key is the Redis key of an entry, in the current epoch.
func (c *Cache) l2Key(id string) string {
	return c.prefix + ":" + strconv.FormatUint(c.epoch.Load(), 16) + ":" + id
}

// lockKey is the Redis key of an entry's fill lock.
func (c *Cache) lockKey(id string) string {
	return c.prefix + ":lock:" + strconv.FormatUint(c.epoch.Load(), 16) + ":" + id
}

// genKey is the Redis key of a scope's generation. It does not depend on the epoch: generations
// only grow, whatever the epoch.
func (c *Cache) genKey(sid string) string { return c.prefix + ":gen:" + sid }

// message is an invalidation message from this instance.
func (c *Cache) message(op byte, body string) string {
	return c.instanceHex + string(op) + body
}

// readL2 reads the entry from Redis. On a hit it stores the value in L1, for no longer than Redis
// keeps it. A missing entry, a tombstone or a value that does not decode is a miss; err is set
// only when Redis failed or was skipped.
func (c *Cache) readL2(ctx context.Context, m miss, ld loader, key string) (v any, hit bool, err error) {
	var raw []byte
	err = c.do(ctx, func(ctx context.Context) error {
		b, err := c.client.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		raw = b
		return err
	})
	if err != nil || len(raw) == 0 || raw[0] == envTombstone {
		return nil, false, err
	}
	var remaining time.Duration
	if raw[0] == envValue && len(raw) >= envHeader {
		remaining = time.Until(time.UnixMilli(int64(binary.BigEndian.Uint64(raw[1:envHeader]))))
		v, err = ld.decode(raw[envHeader:])
	} else {
		err = errors.New("not a cache envelope")
	}
	if err != nil {
		// A value this release cannot read (written by another one, or by something else) is
		// deleted, so that the fill that follows can store one that it can.
		c.logger.LogAttrs(ctx, slog.LevelWarn, "cache entry in Redis does not decode",
			slog.String("kind", m.kind.String()), slog.String("error", err.Error()))
		_ = c.do(ctx, func(ctx context.Context) error { return c.client.Del(ctx, key).Err() })
		return nil, false, nil
	}
	if remaining <= 0 {
		return nil, false, nil
	}
	c.storeL1(m, v, len(raw)-envHeader, min(c.ttl[m.kind], remaining))
	return v, true, nil
}

// writeL2 stores a filled value in Redis unless the key exists: either another fill stored it
// first, or a Delete left a tombstone because this fill may have read its source before the
// change. A failure only costs the other instances a fill.
func (c *Cache) writeL2(ctx context.Context, kind Kind, key string, enc []byte) {
	ttl := c.ttl[kind]
	b := make([]byte, envHeader+len(enc))
	b[0] = envValue
	binary.BigEndian.PutUint64(b[1:envHeader], uint64(time.Now().Add(ttl).UnixMilli()))
	copy(b[envHeader:], enc)
	_ = c.do(ctx, func(ctx context.Context) error {
		err := c.client.SetArgs(ctx, key, b, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
}

// waitForFill makes one instance fill an expensive entry while the others wait for its value in
// L2. It returns the value when another instance filled it; otherwise, the caller fills, holding
// lock when it could be had (nil when the wait ran out or Redis failed).
func (c *Cache) waitForFill(ctx context.Context, m miss, ld loader, l2Key string) (v any, hit bool, lock *redislock.Lock) {
	key := c.lockKey(m.id)
	deadline := time.Now().Add(c.lockWait)
	pause := lockPollMin
	waited := false
	for {
		l, err := c.obtain(ctx, key)
		if err == nil {
			// The holder before may have stored the value between the first read and now.
			if v, hit, _ := c.readL2(ctx, m, ld, l2Key); hit {
				c.release(ctx, l)
				return v, true, nil
			}
			return nil, false, l
		}
		if !errors.Is(err, redislock.ErrNotObtained) {
			return nil, false, nil
		}
		if !waited {
			waited = true
			c.lockWaits.Add(1)
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			c.lockTimeouts.Add(1)
			return nil, false, nil
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		pause = min(2*pause, lockPollMax)
		v, hit, err := c.readL2(ctx, m, ld, l2Key)
		if hit {
			return v, true, nil
		}
		if err != nil {
			return nil, false, nil
		}
	}
}

// obtain takes the fill lock named key without waiting. It returns redislock.ErrNotObtained
// when another instance holds it.
func (c *Cache) obtain(ctx context.Context, key string) (*redislock.Lock, error) {
	var lock *redislock.Lock
	held := false
	err := c.do(ctx, func(ctx context.Context) error {
		l, err := c.locker.Obtain(ctx, key, c.fillTimeout, nil)
		if errors.Is(err, redislock.ErrNotObtained) {
			held = true
			return nil
		}
		lock = l
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case held:
		return nil, redislock.ErrNotObtained
	default:
		return lock, nil
	}
}

// release releases a fill lock, if any. A lock that cannot be released expires by itself.
func (c *Cache) release(ctx context.Context, lock *redislock.Lock) {
	if lock == nil {
		return
	}
	_ = c.do(ctx, func(ctx context.Context) error {
		err := lock.Release(ctx)
		if errors.Is(err, redislock.ErrLockNotHeld) {
			return nil
		}
		return err
	})
}

// invalidate leaves a tombstone in place of each entry in Redis and tells every instance to drop
// it from L1. The tombstone outlives any fill that may have read the source before the change
// (FillTimeout), so such a fill cannot store its value after the deletion.
func (c *Cache) invalidate(ctx context.Context, ids []string) error {
	const chunk = 64
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		err := c.do(ctx, func(ctx context.Context) error {
			_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, id := range part {
					p.Set(ctx, c.l2Key(id), []byte{envTombstone}, c.fillTimeout+time.Second)
					p.Publish(ctx, c.channel, c.message(msgDelete, id))
				}
				return nil
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("invalidate %d cache entries: %w", len(part), err)
		}
	}
	return nil
}

// bumpShared moves the generations of the scopes sids in Redis and announces them. Only the move
// must succeed: an announcement that is lost is made up for by GenerationTTL.
func (c *Cache) bumpShared(ctx context.Context, sids []string) error {
	floor := time.Now().UnixMicro()
	ns := make([]uint64, len(sids))
	err := c.do(ctx, func(ctx context.Context) error {
		p := c.client.Pipeline()
		cmds := make([]*redis.Cmd, len(sids))
		for i, sid := range sids {
			cmds[i] = p.Eval(ctx, bumpScript, []string{c.genKey(sid)}, floor, c.genKeyTTL.Milliseconds())
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
		for i, cmd := range cmds {
			n, err := cmd.Uint64()
			if err != nil {
				return err
			}
			ns[i] = n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bump %d cache generations: %w", len(sids), err)
	}
	ep := c.epoch.Load()
	for i, sid := range sids {
		c.setCopy(sid, ep, ns[i])
	}
	_ = c.do(ctx, func(ctx context.Context) error {
		_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, sid := range sids {
				p.Publish(ctx, c.channel, c.message(msgGeneration, strconv.FormatUint(ns[i], 10)+":"+sid))
			}
			return nil
		})
		return err
	})
	return nil
}

// generation returns the current generation of the scope identified by sid: the Redis one while
// L2 is usable (from this instance's copy for GenerationTTL), this process's own otherwise.
func (c *Cache) generation(ctx context.Context, sid []byte) Generation {
	if !c.l2Usable() {
		return c.localGeneration(sid)
	}
	ep := c.epoch.Load()
	c.genMu.RLock()
	cp, ok := c.genCopies[string(sid)]
	c.genMu.RUnlock()
	if ok && cp.epoch == ep && time.Since(cp.at) < c.genTTL {
		return Generation{base: ep, n: cp.n}
	}
	n, err := c.fetchGeneration(ctx, string(sid), ep)
	if err != nil {
		return c.localGeneration(sid)
	}
	return Generation{base: ep, n: n}
}

// fetchGeneration reads a generation from Redis, once for all the callers that need it at the
// same time, and keeps a copy.
func (c *Cache) fetchGeneration(ctx context.Context, sid string, ep uint64) (uint64, error) {
	v, err, _ := c.genFlights.Do(sid, func() (any, error) {
		var n uint64
		err := c.do(ctx, func(ctx context.Context) error {
			s, err := c.client.Get(ctx, c.genKey(sid)).Result()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err != nil {
				return err
			}
			n, err = strconv.ParseUint(s, 10, 64)
			return err
		})
		if err != nil {
			return uint64(0), err
		}
		return c.setCopy(sid, ep, n), nil
	})
	return v.(uint64), err
}

// setCopy records generation n of a scope and returns the generation in force. A copy younger
// than GenerationTTL is never moved back: a read that left Redis before a bump may arrive after
// the bump's announcement.
func (c *Cache) setCopy(sid string, ep, n uint64) uint64 {
	now := time.Now()
	c.genMu.Lock()
	defer c.genMu.Unlock()
	if cp, ok := c.genCopies[sid]; ok && cp.epoch == ep && cp.n > n && now.Sub(cp.at) < c.genTTL {
		n = cp.n
	}
	c.genCopies[sid] = genCopy{epoch: ep, n: n, at: now}
	return n
}

// pruneCopies forgets the copies too old to be used.
func (c *Cache) pruneCopies() {
	now := time.Now()
	c.genMu.Lock()
	defer c.genMu.Unlock()
	for sid, cp := range c.genCopies {
		if now.Sub(cp.at) >= c.genTTL {
			delete(c.genCopies, sid)
		}
	}
}

// localGeneration is the in-process generation of a scope: exact without Redis, and what a
// Redis outage falls back to.
func (c *Cache) localGeneration(sid []byte) Generation {
	c.localMu.RLock()
	n := c.localGens[string(sid)]
	c.localMu.RUnlock()
	return Generation{local: true, base: c.instance, n: n}
}

// bumpLocal moves the in-process generation of a scope to a number never used before in this
// process. Past maxLocalGenerations scopes they all start again, after a flush of L1 that makes
// every entry keyed by one of them unreachable.
func (c *Cache) bumpLocal(sid string) {
	c.localMu.Lock()
	defer c.localMu.Unlock()
	if len(c.localGens) >= maxLocalGenerations {
		clear(c.localGens)
		c.flush("too many in-process generations")
	}
	c.localGens[sid] = c.localSeq.Add(1)
}

// pendingOp is an invalidation that could not reach Redis: a Delete of a KindAuth entry, or a
// Bump (a Delete of a generational kind waits as a Bump of its scope).
type pendingOp struct {
	bump bool
	kind Kind
	key  Key
}

// addPending records invalidations that must reach Redis before this instance uses L2 again.
func (c *Cache) addPending(ops ...pendingOp) {
	c.mu.Lock()
	if !c.overflow {
		for _, op := range ops {
			c.pendingSeq++
			c.pending[op] = c.pendingSeq
		}
		if len(c.pending) > maxPending {
			// Recovery then moves the epoch, which invalidates every entry at once.
			c.overflow = true
			clear(c.pending)
		}
	}
	c.pendingAny.Store(true)
	c.mu.Unlock()
	c.reassess()
}

// pendingCount returns how many invalidations wait for Redis (maxPending+1 after an overflow).
func (c *Cache) pendingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overflow {
		return maxPending + 1
	}
	return len(c.pending)
}

// replay sends the invalidations that wait for Redis, in chunks, and stops at the first failure:
// the maintainer tries again on its next run.
func (c *Cache) replay(ctx context.Context) {
	c.mu.Lock()
	overflow := c.overflow
	ops := make([]pendingOp, 0, len(c.pending))
	seqs := make([]uint64, 0, len(c.pending))
	for op, seq := range c.pending {
		ops = append(ops, op)
		seqs = append(seqs, seq)
	}
	c.mu.Unlock()
	if overflow {
		c.replayOverflow(ctx)
		return
	}
	const chunk = 64
	sent := 0
	for start := 0; start < len(ops); start += chunk {
		part, partSeqs := ops[start:min(start+chunk, len(ops))], seqs[start:min(start+chunk, len(ops))]
		var sids, ids []string
		for _, op := range part {
			if op.bump || op.kind.Generational() {
				sids = append(sids, string(appendScopeID(nil, op.kind, op.key.Scope)))
				continue
			}
			for _, f := range formats {
				ids = append(ids, string(appendEntryID(nil, op.kind, f, op.key, fixed)))
			}
		}
		if len(sids) > 0 && c.bumpShared(ctx, sids) != nil {
			return
		}
		if len(ids) > 0 && c.invalidate(ctx, ids) != nil {
			return
		}
		c.mu.Lock()
		for i, op := range part {
			if c.pending[op] == partSeqs[i] {
				delete(c.pending, op)
			}
		}
		if len(c.pending) == 0 && !c.overflow {
			c.pendingAny.Store(false)
		}
		c.mu.Unlock()
		sent += len(part)
	}
	if sent > 0 {
		c.logger.LogAttrs(ctx, slog.LevelInfo, "cache invalidations replayed to Redis", slog.Int("count", sent))
	}
}

// replayOverflow moves the Redis epoch, for when more invalidations waited than were kept: every
// entry of the old epoch becomes unreachable, on every instance.
func (c *Cache) replayOverflow(ctx context.Context) {
	var e uint64
	err := c.do(ctx, func(ctx context.Context) error {
		v, err := c.client.Incr(ctx, c.epochKey).Uint64()
		e = v
		return err
	})
	if err != nil {
		return
	}
	// Instances that miss the announcement read the new epoch within epochCheckEvery.
	_ = c.do(ctx, func(ctx context.Context) error {
		return c.client.Publish(ctx, c.channel, c.message(msgEpoch, strconv.FormatUint(e, 10))).Err()
	})
	c.setEpoch(e)
	c.mu.Lock()
	c.overflow = false
	clear(c.pending)
	c.pendingAny.Store(false)
	c.mu.Unlock()
	c.logger.LogAttrs(ctx, slog.LevelWarn, "cache epoch moved: more invalidations waited for Redis than were kept",
		slog.Uint64("epoch", e))
}

// checkEpoch reads the Redis epoch, creating it when Redis has none: a new Redis, or one that lost
// its data, gets a random epoch that no earlier one used.
func (c *Cache) checkEpoch(ctx context.Context) error {
	var s string
	err := c.do(ctx, func(ctx context.Context) error {
		v, err := c.client.Get(ctx, c.epochKey).Result()
		if errors.Is(err, redis.Nil) {
			if err := c.client.SetNX(ctx, c.epochKey, strconv.FormatUint(randomUint64()>>2, 10), 0).Err(); err != nil {
				return err
			}
			v, err = c.client.Get(ctx, c.epochKey).Result()
		}
		s = v
		return err
	})
	if err != nil {
		return fmt.Errorf("read the cache epoch: %w", err)
	}
	e, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("read the cache epoch: %w", err)
	}
	c.setEpoch(e)
	return nil
}

// setEpoch records the Redis epoch. A change flushes L1: everything may have changed.
func (c *Cache) setEpoch(e uint64) {
	old := c.epoch.Swap(e)
	if known := c.epochKnown.Swap(true); known && old != e {
		c.flush("Redis epoch changed")
	}
	c.reassess()
}

// onBreakerChange follows the breaker's state. It runs under the breaker's lock, so it only
// records and wakes the maintainer.
func (c *Cache) onBreakerChange(_ string, from, to gobreaker.State) {
	c.breakerState.Store(int32(to))
	breakerGauge.Set(float64(to))
	level := slog.LevelInfo
	if to == gobreaker.StateOpen {
		c.breakerOpens.Add(1)
		breakerOpensTotal.Inc()
		level = slog.LevelWarn
	}
	last, _ := c.lastErr.Load().(string)
	c.logger.LogAttrs(context.Background(), level, "cache Redis breaker changed state",
		slog.String("from", from.String()), slog.String("to", to.String()), slog.String("last_error", last))
	c.wakeUp()
}

// reassess compares L2's health with the last one seen, and flushes L1 when it changed: entering
// an outage, because invalidations may already have been missed; leaving it, because entries
// filled during it were keyed by in-process generations and may have missed other instances'
// invalidations.
func (c *Cache) reassess() {
	h := c.healthy()
	c.mu.Lock()
	changed := h != c.wasHealthy
	c.wasHealthy = h
	c.mu.Unlock()
	if !changed {
		return
	}
	if h {
		c.logger.LogAttrs(context.Background(), slog.LevelInfo, "cache L2 available: full TTLs again")
		c.flush("L2 available again")
		return
	}
	last, _ := c.lastErr.Load().(string)
	c.logger.LogAttrs(context.Background(), slog.LevelWarn, "cache L2 unavailable: L1 TTLs cut to the degraded TTL",
		slog.String("state", string(c.l2State())), slog.Bool("subscribed", c.subscribed.Load()),
		slog.Bool("invalidations_pending", c.pendingAny.Load()), slog.String("last_error", last))
	c.flush("L2 unavailable")
}

// setSubscribed records the state of the invalidation channel.
func (c *Cache) setSubscribed(v bool) {
	was := c.subscribed.Swap(v)
	switch {
	case v && was:
		// go-redis subscribed again on a connection of its own: messages may have been lost.
		c.flush("invalidation channel subscribed again")
	case v:
		c.epochDue.Store(true)
		c.wakeUp()
	case was:
		last, _ := c.lastErr.Load().(string)
		c.logger.LogAttrs(context.Background(), slog.LevelWarn, "cache invalidation channel lost", slog.String("error", last))
	}
	c.reassess()
}

// subscribe receives invalidations until ctx ends, subscribing again whenever the connection is
// lost or stops answering pings.
func (c *Cache) subscribe(ctx context.Context) {
	defer c.wg.Done()
	ps := c.newSubscription(ctx)
	if ps == nil {
		return
	}
	defer func() { _ = ps.Close() }()
	pinged := false
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, pingEvery)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				pinged = true
				if ps.Ping(ctx) == nil {
					continue
				}
			}
			c.lastErr.Store("subscription: " + err.Error())
			c.setSubscribed(false)
			pinged = false
			_ = ps.Close()
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 2*time.Second)
			if ps = c.newSubscription(ctx); ps == nil {
				return
			}
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				backoff = 100 * time.Millisecond
				c.setSubscribed(true)
			}
		case *redis.Message:
			c.handleMessage(m.Payload)
		}
	}
}

// newSubscription subscribes to the invalidation channel, unless the cache is closing (nil).
// Close closes the subscription it records, which ends a read in progress at once.
func (c *Cache) newSubscription(ctx context.Context) *redis.PubSub {
	c.psMu.Lock()
	defer c.psMu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	c.ps = c.client.Subscribe(ctx, c.channel)
	return c.ps
}

// handleMessage applies another instance's invalidation.
func (c *Cache) handleMessage(p string) {
	const head = 16 + 1
	if len(p) < head || p[:16] == c.instanceHex {
		return
	}
	body := p[head:]
	switch p[16] {
	case msgDelete:
		c.dropL1([]byte(body))
	case msgGeneration:
		ns, sid, ok := strings.Cut(body, ":")
		if n, err := strconv.ParseUint(ns, 10, 64); ok && err == nil {
			c.setCopy(sid, c.epoch.Load(), n)
		}
	case msgEpoch:
		if e, err := strconv.ParseUint(body, 10, 64); err == nil {
			c.setEpoch(e)
		}
	}
}

// maintain runs the background work until ctx ends: probing Redis while the breaker is not
// closed, reading the epoch, replaying invalidations, forgetting old generation copies and
// sweeping flushed L1 entries.
func (c *Cache) maintain(ctx context.Context) {
	defer c.wg.Done()
	tick := time.NewTicker(maintainEvery)
	defer tick.Stop()
	var lastCheck time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.wake:
		}
		if c.client != nil {
			// The breaker moves from open to half-open only when asked; asking here lets it
			// probe Redis without waiting for a request.
			closed := c.breaker.State() == gobreaker.StateClosed
			if c.epochDue.Swap(false) || !closed || !c.epochKnown.Load() || time.Since(lastCheck) >= epochCheckEvery {
				if err := c.checkEpoch(ctx); err == nil {
					lastCheck = time.Now()
					c.pruneCopies()
				}
			}
			if c.pendingAny.Load() && c.epochKnown.Load() {
				c.replay(ctx)
			}
			c.reassess()
		}
		if c.sweepDue.Swap(false) {
			c.sweep()
		}
	}
}
