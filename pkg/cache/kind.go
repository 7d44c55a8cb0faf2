package cache

import (
	"fmt"
	"time"
)

// Kind is one of the fixed set of data kinds the cache holds. Each kind has its own TTL, its own
// counters and metric series, and a fixed rule for invalidation: by Delete (KindAuth) or by
// generation (every other kind, see Bump). A Kind is also a label value of the cache's metrics, so
// the set is closed: the API adds a kind here, never at run time.
type Kind uint8

// The kinds. Their names (Kind.String) are the metrics' kind label, a part of every key, and what
// ParseKind accepts, for configuration.
const (
	// KindAuth is an API key's authentication: the key hash to the account, its tier and the key
	// itself. Its scope is the key hash, with no account (the account is what the lookup finds).
	// Revoking a key, or changing the account's tier or limits, must Delete the entries of the
	// account's key hashes.
	KindAuth Kind = iota + 1
	// KindAnalysis is a stored analysis by id, usually kept pre-encoded (GetOrFillBytes). Analyses
	// never change once stored, so the TTL is long; deleting a location must Bump the kind in the
	// scope the API keys analyses by (the account, as GET /v1/analyses/{id} has no location).
	KindAnalysis
	// KindWorkflowList is a page of a location's workflow list. Every write to the location
	// (import, delete, context change, new analysis) must Bump it.
	KindWorkflowList
	// KindHistoryPage is a page of a location's analysis history; invalidated like
	// KindWorkflowList.
	KindHistoryPage
	// KindGHLWorkflows is a location's workflow list as GHL's API returns it. GHL sends no
	// invalidation, so the TTL alone bounds how old it can be; the GHL sync Bumps it when it sees a
	// change.
	KindGHLWorkflows

	// numKinds is one more than the last kind, the length of per-kind arrays (index 0 unused).
	numKinds = iota + 1
)

// kindInfo is the fixed description of each kind, indexed by Kind.
var kindInfo = [numKinds]struct {
	name string
	// ttl is the default TTL. The reasons are on DefaultTTL.
	ttl time.Duration
	// generational kinds put their scope's generation into every key, so Bump makes every entry
	// of the scope unreachable at once.
	generational bool
}{
	KindAuth:         {name: "auth", ttl: 5 * time.Minute},
	KindAnalysis:     {name: "analysis", ttl: time.Hour, generational: true},
	KindWorkflowList: {name: "workflow_list", ttl: 10 * time.Minute, generational: true},
	KindHistoryPage:  {name: "history_page", ttl: 10 * time.Minute, generational: true},
	KindGHLWorkflows: {name: "ghl_workflows", ttl: 2 * time.Minute, generational: true},
}

// Kinds returns every kind, in a fixed order.
func Kinds() []Kind {
	return []Kind{KindAuth, KindAnalysis, KindWorkflowList, KindHistoryPage, KindGHLWorkflows}
}

// ParseKind returns the kind named s (as Kind.String writes it), for configuration such as a TTL
// override read from the environment.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if kindInfo[k].name == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("cache: unknown kind %q", s)
}

// valid reports whether k is one of the kinds.
func (k Kind) valid() bool { return k >= KindAuth && int(k) < numKinds }

// String returns the kind's name, such as "workflow_list".
func (k Kind) String() string {
	if !k.valid() {
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
	return kindInfo[k].name
}

// MarshalText writes the kind's name, so that Stats encode kinds by name.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, fmt.Errorf("cache: invalid kind %d", uint8(k))
	}
	return []byte(kindInfo[k].name), nil
}

// Generational reports whether the kind's keys carry their scope's generation (see Bump): every
// kind but KindAuth.
func (k Kind) Generational() bool { return k.valid() && kindInfo[k].generational }

// DefaultTTL is the kind's TTL when Config.TTLs does not set one:
//
//   - KindAuth, 5 minutes: revocations and tier changes are pushed to every instance (Delete), so
//     the TTL only bounds the life of an entry whose invalidation was lost, and keeps keys that are
//     no longer used from filling the cache.
//   - KindAnalysis, 1 hour: an analysis never changes, so only memory limits the TTL; an hour
//     covers the reads that follow an analysis (the client, a dashboard, a report) while keeping
//     Redis's share small (about 3.5 KB gzipped each).
//   - KindWorkflowList and KindHistoryPage, 10 minutes: every write bumps the generation, so the
//     TTL does not bound staleness; it frees the pages of locations nobody is looking at.
//   - KindGHLWorkflows, 2 minutes: GHL tells nobody about a change made in its own interface, so
//     this is how old GHL's list may be when shown; it still saves most of GHL's small rate limit
//     (100 calls per 10 s) when a user pages through a location.
func (k Kind) DefaultTTL() time.Duration {
	if !k.valid() {
		return 0
	}
	return kindInfo[k].ttl
}
