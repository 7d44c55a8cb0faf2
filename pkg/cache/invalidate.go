package cache

import (
	"context"
	"fmt"
)

// formats are the ways an entry can be held; an invalidation covers both.
var formats = [...]format{formatJSON, formatBytes}

// Delete removes the entries of kind with the given keys from Redis and from the L1 of every
// instance: at once in this process, through Redis pub/sub elsewhere (milliseconds). A Delete of a
// generational kind removes the entry of the scope's current generation; to invalidate a whole
// scope, Bump it instead.
//
// Call it after the change is stored: a fill that read the source before the change and finishes
// after the Delete stores its value nowhere (see the package documentation). Delete fails only for
// an invalid kind or key. When Redis cannot be reached, the invalidation waits in this process
// and is sent when Redis is back, before this instance uses Redis again.
func (c *Cache) Delete(ctx context.Context, kind Kind, keys ...Key) error {
	for _, key := range keys {
		if err := key.Scope.check(kind); err != nil {
			return err
		}
	}
	var ids []string
	ops := make([]pendingOp, 0, len(keys))
	shared := true
	for _, key := range keys {
		g := fixed
		if kind.Generational() {
			g = c.generation(ctx, appendScopeID(nil, kind, key.Scope))
			// A generational entry that cannot be deleted in Redis now is invalidated with its
			// whole scope later.
			ops = append(ops, pendingOp{bump: true, kind: kind, key: Key{Scope: key.Scope}})
		} else {
			ops = append(ops, pendingOp{kind: kind, key: key})
		}
		shared = shared && !g.local
		for _, f := range formats {
			id := appendEntryID(nil, kind, f, key, g)
			c.dropL1(id)
			ids = append(ids, string(id))
		}
	}
	if c.client == nil {
		return nil
	}
	if !shared || !c.l2Usable() || c.invalidate(ctx, ids) != nil {
		c.addPending(ops...)
	}
	// A lookup that began between the first drop and the tombstone may have read the old value
	// from Redis and be about to store it in L1: dropping again moves the stripes past its
	// snapshot, and removes what it stored already.
	for _, id := range ids {
		c.dropL1([]byte(id))
	}
	return nil
}

// Bump moves the generation of the scope for the given kinds (every generational kind when none
// is given), which makes every entry of the scope of those kinds unreachable on every instance
// without finding them: the next read of each misses and fills. Call it after each write to the
// scope is stored. This instance sees the new generation at once, other instances within
// milliseconds (pub/sub) and at most GenerationTTL after.
//
// Bump fails only for an invalid scope or a kind without generations (KindAuth: use Delete).
// When Redis cannot be reached, the bump applies in this process at once and waits to be sent to
// Redis, like Delete's invalidations.
func (c *Cache) Bump(ctx context.Context, s Scope, kinds ...Kind) error {
	if len(kinds) == 0 {
		kinds = generationalKinds
	}
	sids := make([]string, len(kinds))
	for i, k := range kinds {
		if err := s.check(k); err != nil {
			return err
		}
		if !k.Generational() {
			return fmt.Errorf("cache: %s has no generations; use Delete", k)
		}
		sids[i] = string(appendScopeID(nil, k, s))
	}
	for _, sid := range sids {
		c.bumpLocal(sid)
	}
	if c.client == nil {
		return nil
	}
	if c.l2Usable() && c.bumpShared(ctx, sids) == nil {
		return nil
	}
	ops := make([]pendingOp, len(kinds))
	for i, k := range kinds {
		ops[i] = pendingOp{bump: true, kind: k, key: Key{Scope: s}}
	}
	c.addPending(ops...)
	return nil
}

// generationalKinds are the kinds with generations, Bump's default.
var generationalKinds = func() []Kind {
	var ks []Kind
	for _, k := range Kinds() {
		if k.Generational() {
			ks = append(ks, k)
		}
	}
	return ks
}()

// Generation returns the scope's current generation of kind, the one GetOrFill puts into the
// kind's keys. Its String suits a list's ETag; read it before GetOrFill, so that a Bump in
// between can only make the ETag older than the body, never newer. It fails only for an invalid
// scope or a kind without generations.
func (c *Cache) Generation(ctx context.Context, s Scope, kind Kind) (Generation, error) {
	if err := s.check(kind); err != nil {
		return Generation{}, err
	}
	if !kind.Generational() {
		return Generation{}, fmt.Errorf("cache: %s has no generations", kind)
	}
	var buf [keyBufSize]byte
	return c.generation(ctx, appendScopeID(buf[:0], kind, s)), nil
}
