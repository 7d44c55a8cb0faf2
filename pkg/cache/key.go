package cache

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// maxKeyLen bounds the encoded length of a key. Keys are built from ids and cursors that requests
// carry, and a key longer than this is a caller's mistake that must not reach Redis.
const maxKeyLen = 1024

// Scope is the part of one tenant's data that an entry belongs to, and the unit of invalidation by
// generation (Bump): an account and, within it, a location. For KindAuth the account is empty and
// ID is the API key's hash, which already belongs to one key of one account.
type Scope struct {
	// Account is the tenant, the account id. It is required for every kind but KindAuth, so two
	// accounts never share an entry, even for byte-identical content.
	Account string
	// ID narrows the scope within the account: a location id, or the API key hash for KindAuth
	// (where it is required). Empty means the whole account, such as analyses looked up by id.
	ID string
}

// Key names one entry: its scope and the item within it.
type Key struct {
	Scope
	// Item is the entry within the scope: an analysis id, a page's cursor and size. It may be
	// empty when the scope holds a single entry of the kind.
	Item string
}

// Key returns the key of item in the scope.
func (s Scope) Key(item string) Key { return Key{Scope: s, Item: item} }

// errInvalidKind is wrapped by every error about a kind outside the fixed set.
var errInvalidKind = errors.New("cache: invalid kind")

// check validates the scope for kind k.
func (s Scope) check(k Kind) error {
	if !k.valid() {
		return fmt.Errorf("%w %d", errInvalidKind, uint8(k))
	}
	if k == KindAuth {
		if s.ID == "" {
			return errors.New("cache: an auth key needs the API key hash as its scope ID")
		}
		return nil
	}
	if s.Account == "" {
		return fmt.Errorf("cache: a %s key needs an account", k)
	}
	return nil
}

// The separators of the encoded forms. Parts are escaped (see appendPart), so a separator inside
// an id can never make two different keys encode alike.
const sep = ':'

// appendPart appends s with '%' and ':' percent-escaped.
func appendPart(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b = append(b, "%25"...)
		case sep:
			b = append(b, "%3A"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendScopeID appends the scope's encoded identity for kind k: kind:account:scope. It names the
// scope's generation of k, in Redis and in the invalidation messages.
func appendScopeID(b []byte, k Kind, s Scope) []byte {
	b = append(b, kindInfo[k].name...)
	b = append(b, sep)
	b = appendPart(b, s.Account)
	b = append(b, sep)
	return appendPart(b, s.ID)
}

// format tells how an entry's value is held: a typed value encoded as JSON (GetOrFill) or bytes as
// they are (GetOrFillBytes). It is part of the key, so the two can never read each other's entries.
type format byte

const (
	formatJSON  format = 'j'
	formatBytes format = 'b'
)

// appendEntryID appends the canonical identity of an entry: the scope's identity, the format, the
// generation and the item. The same bytes name the entry in L1 (hashed), in Redis (after the prefix
// and epoch) and in invalidation messages.
func appendEntryID(b []byte, k Kind, f format, key Key, g Generation) []byte {
	b = appendScopeID(b, k, key.Scope)
	b = append(b, sep, byte(f), sep)
	b = g.append(b)
	b = append(b, sep)
	return appendPart(b, key.Item)
}

// hashID is the 64-bit hash of an entry's identity. L1 mixes in its flush epoch (l1Key); the
// invalidation stripes use it as it is.
func hashID(id []byte) uint64 { return xxhash.Sum64(id) }

// l1Key is the L1 key of an entry whose identity hashes to h, in L1 epoch e. A new epoch makes
// every older entry unreachable at once (a flush), without waiting for ristretto.
func l1Key(h, e uint64) uint64 { return h ^ (e * 0x9E3779B97F4A7C15) }

// Generation is the state of one scope's data of one generational kind, as Bump moves it. It goes
// into the kind's keys, so that a Bump makes the older entries unreachable, and its String is fit
// for a list's ETag: it names one state of the data, across instances and restarts.
type Generation struct {
	// local is set for a generation counted in this process (no Redis, or Redis unavailable).
	local bool
	// base is the Redis epoch for a shared generation, the instance's id for a local one, so that
	// neither repeats after a Redis data loss or a restart.
	base uint64
	// n is the generation's counter.
	n uint64
}

// fixed is the Generation of a kind that has none (KindAuth).
var fixed = Generation{}

// append appends the generation's token: r<base>.<n> for a shared one, l<base>.<n> for a local
// one, and "-" for none.
func (g Generation) append(b []byte) []byte {
	if g == fixed {
		return append(b, '-')
	}
	if g.local {
		b = append(b, 'l')
	} else {
		b = append(b, 'r')
	}
	b = strconv.AppendUint(b, g.base, 16)
	b = append(b, '.')
	return strconv.AppendUint(b, g.n, 10)
}

// String returns the generation's token, such as r3f9a27c1d2e4b5a6.1780000000000000. Two
// generations with the same String hold the same data.
func (g Generation) String() string { return string(g.append(nil)) }
