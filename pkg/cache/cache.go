package cache

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bsm/redislock"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"
)

// Defaults of Config.
const (
	// DefaultL1MaxBytes is the memory L1 may hold: values, keys and ristretto's own bookkeeping.
	DefaultL1MaxBytes = 64 << 20
	// DefaultRedisTimeout bounds each Redis call. The cache sits in front of every authenticated
	// request, so a Redis slower than this counts as failing: the call goes on without it.
	DefaultRedisTimeout = 50 * time.Millisecond
	// DefaultBreakerFailures is how many Redis calls in a row must fail before the breaker opens
	// and calls stop waiting for Redis.
	DefaultBreakerFailures = 5
	// DefaultBreakerOpenFor is how long the breaker stays open before it lets probes through.
	DefaultBreakerOpenFor = 2 * time.Second
	// DefaultBreakerProbes is how many probes in a row must succeed, half-open, to close it.
	DefaultBreakerProbes = 1
	// DefaultLockWait is how long an expensive fill waits for the instance that holds its lock
	// before it fills anyway. A location analysis takes up to a quarter of a second.
	DefaultLockWait = 2 * time.Second
	// DefaultDegradedTTL is L1's TTL, for every kind, while invalidations from other instances
	// cannot arrive (see the package documentation). One second keeps the product's promise that
	// a revoked key is refused everywhere within a second, Redis or not, while still answering a
	// burst of requests for one key from memory.
	DefaultDegradedTTL = time.Second
	// DefaultGenerationTTL is how long an instance uses its copy of a Redis generation without
	// asking Redis again. Bumps are also pushed to every instance; this bounds the delay when such
	// a message is lost, and must stay under the product's one second.
	DefaultGenerationTTL = 500 * time.Millisecond
	// DefaultFillTimeout bounds a fill that has no earlier deadline of its own. It also bounds how
	// long a fill may hold its cross-instance lock and how long a deletion's tombstone stays.
	DefaultFillTimeout = 30 * time.Second
	// DefaultPrefix starts every Redis key and the invalidation channel. Change it (ghld:cache2)
	// when a cached type changes shape, so that instances of the new release never decode entries
	// written by the old one.
	DefaultPrefix = "ghld:cache"
)

// Internal timings that are not worth configuring.
const (
	// maintainEvery is the period of the background loop: replaying invalidations, probing a
	// half-open breaker, sweeping flushed entries.
	maintainEvery = 250 * time.Millisecond
	// epochCheckEvery is how often the Redis epoch is read again, which notices a Redis that lost
	// its data (FLUSHDB, a restart without persistence) without a broken connection.
	epochCheckEvery = time.Second
	// pingEvery is how long the subscription may stay silent before it is pinged; an unanswered
	// ping means a connection that hangs.
	pingEvery = time.Second
	// lockPollMin and lockPollMax bound the pause between two looks at L2 while another instance
	// fills.
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 50 * time.Millisecond
	// maxPending bounds the invalidations waiting for Redis; beyond it, recovery moves the Redis
	// epoch instead, which invalidates everything at once.
	maxPending = 10000
	// maxLocalGenerations bounds the in-process generations; beyond it L1 is flushed and they
	// start again.
	maxLocalGenerations = 100000
	// numStripes is the number of invalidation counters that guard L1 against a fill finishing
	// after a deletion of its key (a power of two).
	numStripes = 1024
	// entryOverhead approximates an L1 entry's memory besides its value and identity: the entry
	// struct, the interface, ristretto's item.
	entryOverhead = 128
	// keyBufSize is the stack buffer for an entry identity, enough for every realistic key.
	keyBufSize = 256
)

// Config configures New. The zero value is an L1-only cache with the defaults above.
type Config struct {
	// Redis is the process's one Redis client, shared with the rate limiter; the cache never
	// creates its own and never closes it. Nil (or a nil *redis.Client) runs on L1 alone. It must
	// be created with ContextTimeoutEnabled, so that RedisTimeout bounds socket reads and writes.
	Redis redis.UniversalClient
	// L1MaxBytes bounds L1's memory. Zero means DefaultL1MaxBytes.
	L1MaxBytes int64
	// TTLs overrides the TTL of the given kinds (see Kind.DefaultTTL). Each must be positive.
	TTLs map[Kind]time.Duration
	// RedisTimeout bounds each Redis call; a slower call counts as a failure. Zero means
	// DefaultRedisTimeout.
	RedisTimeout time.Duration
	// BreakerFailures is how many Redis calls in a row must fail to open the breaker. Zero means
	// DefaultBreakerFailures.
	BreakerFailures uint32
	// BreakerOpenFor is how long the breaker stays open before probing Redis. Zero means
	// DefaultBreakerOpenFor.
	BreakerOpenFor time.Duration
	// BreakerProbes is how many probes must succeed to close the breaker. Zero means
	// DefaultBreakerProbes.
	BreakerProbes uint32
	// LockWait bounds how long an expensive fill waits for another instance's fill of the same
	// entry; after it, it fills anyway. Zero means DefaultLockWait.
	LockWait time.Duration
	// DegradedTTL is L1's TTL while Redis or the invalidation channel is unavailable. Zero means
	// DefaultDegradedTTL.
	DegradedTTL time.Duration
	// GenerationTTL is how long a copy of a Redis generation is used without asking Redis. Zero
	// means DefaultGenerationTTL.
	GenerationTTL time.Duration
	// FillTimeout bounds a fill whose caller set no earlier deadline. Zero means
	// DefaultFillTimeout.
	FillTimeout time.Duration
	// Prefix starts every Redis key and the channel name. Zero means DefaultPrefix.
	Prefix string
	// Logger receives a line for each change of Redis's state (breaker opened or closed,
	// subscription lost or back, L1 flushed) and for fills that panic; nil discards them.
	Logger *slog.Logger
}

// Cache is the two-level read-through cache. It is safe for concurrent use. See the package
// documentation for how it reads, invalidates and survives Redis outages.
type Cache struct {
	client      redis.UniversalClient
	locker      *redislock.Client
	breaker     *gobreaker.CircuitBreaker[struct{}]
	l1          *ristretto.Cache[uint64, *entry]
	l1MaxBytes  int64
	ttl         [numKinds]time.Duration
	genKeyTTL   time.Duration
	timeout     time.Duration
	lockWait    time.Duration
	degradedTTL time.Duration
	genTTL      time.Duration
	fillTimeout time.Duration
	logger      *slog.Logger

	// The Redis names, built once.
	prefix   string
	channel  string
	epochKey string

	// instance identifies this Cache in its own messages (so it skips them) and in local
	// generations (so they never repeat across restarts).
	instance    uint64
	instanceHex string

	flights    singleflight.Group
	genFlights singleflight.Group

	// l1Epoch is mixed into every L1 key: a flush moves it, which makes every entry unreachable
	// at once; the maintainer then sweeps them out.
	l1Epoch  atomic.Uint64
	sweepDue atomic.Bool
	// stripes count the invalidations of the entries whose identity hashes to them: a fill that
	// saw another count when it started does not store its value in L1.
	stripes [numStripes]atomic.Uint64

	// The state of L2, each part an atomic so that the read path takes no lock.
	epoch        atomic.Uint64
	epochKnown   atomic.Bool
	epochDue     atomic.Bool
	subscribed   atomic.Bool
	breakerState atomic.Int32
	pendingAny   atomic.Bool
	lastErr      atomic.Value // string: the last Redis failure, for the logs and Health

	// mu guards the invalidations waiting for Redis and the last assessed health.
	mu         sync.Mutex
	pending    map[pendingOp]uint64
	pendingSeq uint64
	overflow   bool
	wasHealthy bool

	// genMu guards copies of Redis generations, by scope identity.
	genMu     sync.RWMutex
	genCopies map[string]genCopy
	// localMu guards the in-process generations, by scope identity.
	localMu   sync.RWMutex
	localGens map[string]uint64
	localSeq  atomic.Uint64

	counters      [numKinds]kindCounters
	redisFailures atomic.Uint64
	breakerOpens  atomic.Uint64
	lockWaits     atomic.Uint64
	lockTimeouts  atomic.Uint64
	flushes       atomic.Uint64

	// psMu guards ps, the subscription in use, which Close closes.
	psMu sync.Mutex
	ps   *redis.PubSub

	wake      chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	// closeMu makes Close wait for L1 writes in progress: ristretto panics on a write racing its
	// Close.
	closeMu sync.RWMutex
	closed  atomic.Bool
}

// entry is one L1 value with what identifies it.
type entry struct {
	// id is the entry identity (appendEntryID), compared on every hit: L1 is keyed by a 64-bit
	// hash, and a collision must never serve one tenant another's value.
	id    string
	kind  Kind
	epoch uint64
	// key is the ristretto key, for sweeping.
	key uint64
	val any
}

// genCopy is this instance's copy of a Redis generation.
type genCopy struct {
	epoch uint64
	n     uint64
	at    time.Time
}

// kindCounters are one kind's counts for Stats.
type kindCounters struct {
	hits, misses [numLevels]atomic.Uint64
	l2Skips      atomic.Uint64
	fills        atomic.Uint64
	fillErrors   atomic.Uint64
	evictions    atomic.Uint64
	expirations  atomic.Uint64
}

// New returns a cache configured by cfg. It does not wait for Redis: with a Redis that is down
// at start, the cache runs on L1 with the degraded TTL until Redis answers.
func New(cfg Config) (*Cache, error) {
	if cfg.L1MaxBytes < 0 || cfg.RedisTimeout < 0 || cfg.BreakerOpenFor < 0 || cfg.LockWait < 0 ||
		cfg.DegradedTTL < 0 || cfg.GenerationTTL < 0 || cfg.FillTimeout < 0 {
		return nil, errors.New("cache: sizes and durations must not be negative")
	}
	client := cfg.Redis
	if isNil(client) {
		client = nil
	}
	if err := checkClient(client); err != nil {
		return nil, err
	}
	c := &Cache{
		client:      client,
		l1MaxBytes:  cmp.Or(cfg.L1MaxBytes, DefaultL1MaxBytes),
		timeout:     cmp.Or(cfg.RedisTimeout, DefaultRedisTimeout),
		lockWait:    cmp.Or(cfg.LockWait, DefaultLockWait),
		degradedTTL: cmp.Or(cfg.DegradedTTL, DefaultDegradedTTL),
		genTTL:      cmp.Or(cfg.GenerationTTL, DefaultGenerationTTL),
		fillTimeout: cmp.Or(cfg.FillTimeout, DefaultFillTimeout),
		logger:      cfg.Logger,
		prefix:      cmp.Or(cfg.Prefix, DefaultPrefix),
		pending:     map[pendingOp]uint64{},
		genCopies:   map[string]genCopy{},
		localGens:   map[string]uint64{},
		wake:        make(chan struct{}, 1),
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	var maxTTL time.Duration
	for _, k := range Kinds() {
		c.ttl[k] = k.DefaultTTL()
	}
	for k, d := range cfg.TTLs {
		if !k.valid() {
			return nil, fmt.Errorf("cache: TTLs names %w %d", errInvalidKind, uint8(k))
		}
		if d <= 0 {
			return nil, fmt.Errorf("cache: the TTL of %s must be positive, got %s", k, d)
		}
		c.ttl[k] = d
	}
	for _, k := range Kinds() {
		maxTTL = max(maxTTL, c.ttl[k])
	}
	// A generation key outlives every entry keyed by it, so that when it expires and starts
	// again no entry of an older generation with the same number can still be alive (Bump also
	// never lets a generation go below the clock, see bumpScript).
	c.genKeyTTL = 2*maxTTL + c.fillTimeout
	c.channel = c.prefix + ":invalidate"
	c.epochKey = c.prefix + ":epoch"
	c.instance = randomUint64()
	c.instanceHex = fmt.Sprintf("%016x", c.instance)

	l1, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		// About ten counters per entry that fits, for entries of a few hundred bytes, as
		// ristretto advises; bounded so that a large L1 does not spend megabytes on counters.
		NumCounters: min(max(c.l1MaxBytes/64, 1024), 8<<20),
		MaxCost:     c.l1MaxBytes,
		BufferItems: 64,
		// Ristretto's counters give the entries and bytes of Stats.
		Metrics: true,
		OnEvict: c.onEvict,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: create L1: %w", err)
	}
	c.l1 = l1

	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if c.client != nil {
		c.locker = redislock.New(c.client)
		failures := cmp.Or(cfg.BreakerFailures, DefaultBreakerFailures)
		c.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        "redis",
			MaxRequests: cmp.Or(cfg.BreakerProbes, DefaultBreakerProbes),
			// Failures far apart do not add up: counts start again every ten seconds.
			Interval:      10 * time.Second,
			Timeout:       cmp.Or(cfg.BreakerOpenFor, DefaultBreakerOpenFor),
			ReadyToTrip:   func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
			OnStateChange: c.onBreakerChange,
		})
		c.wg.Add(1)
		go c.subscribe(ctx)
	}
	c.wg.Add(1)
	go c.maintain(ctx)
	live.add(c)
	return c, nil
}

// isNil reports whether client is nil or a typed nil pointer, as cmd's openRedis returns when
// no REDIS_URL is set.
func isNil(client redis.UniversalClient) bool {
	if client == nil {
		return true
	}
	v := reflect.ValueOf(client)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// checkClient refuses a client whose socket reads and writes ignore the context's deadline: with
// it, a Redis that hangs would hold each call for go-redis's read timeout (seconds), not
// RedisTimeout.
func checkClient(client redis.UniversalClient) error {
	var enabled bool
	switch c := client.(type) {
	case nil:
		return nil
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return nil
	}
	if !enabled {
		return errors.New("cache: the Redis client must be created with ContextTimeoutEnabled")
	}
	return nil
}

// randomUint64 returns 64 random bits.
func randomUint64() uint64 {
	var b [8]byte
	// crypto/rand.Read never fails (it panics instead, on a broken system).
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// Close stops the cache's background work and frees L1. It does not close the Redis client, which
// belongs to the caller. Calls after Close go straight to their fill. Closing twice is harmless.
func (c *Cache) Close() {
	c.closeOnce.Do(func() {
		c.cancel()
		// The subscriber's read does not end with the context (go-redis only applies deadlines);
		// closing its subscription ends it.
		c.psMu.Lock()
		if c.ps != nil {
			_ = c.ps.Close()
		}
		c.psMu.Unlock()
		c.wg.Wait()
		live.remove(c)
		c.closeMu.Lock()
		c.closed.Store(true)
		c.closeMu.Unlock()
		c.l1.Close()
	})
}

// Option changes how one GetOrFill call fills a miss.
type Option func(*callOptions)

// callOptions are the options of one call.
type callOptions struct {
	expensive bool
}

// Expensive marks the fill as expensive (a location analysis, a large history page): with Redis,
// concurrent misses on every instance then wait for one fill, under a Redis lock, instead of one
// fill per instance. The wait is bounded by Config.LockWait; after it, or when Redis fails, the
// fill runs anyway. Cheap fills are shared within the process only.
func Expensive() Option {
	return func(o *callOptions) { o.expensive = true }
}

// GetOrFill returns the value of key, of the given kind: from L1, else from Redis (copied into
// L1), else from fill, whose value is stored in both. Concurrent misses of one key in the process
// share one fill; with Expensive, also across instances. T must survive a JSON round trip, which
// is how Redis holds it.
//
// The value is shared: every caller that hits the entry gets the same value (the same slice,
// map or pointer), so callers must treat it as read-only. Use a pointer type for large structs,
// which L1 would otherwise copy on every hit.
//
// fill runs with a context that keeps ctx's values and deadline but not its cancellation, bounded
// by Config.FillTimeout: callers that share the fill wait for it, and its result is cached even
// when the caller that started it went away. A caller whose ctx ends stops waiting and gets the
// context's error. fill's error is returned as it is (unwrapped) to every caller sharing the fill,
// and nothing is cached. GetOrFill fails otherwise only for an invalid kind or key, when ctx ends
// while it waits for a fill, or when the same kind and key were used with another type T: Redis
// failing never fails a call.
func GetOrFill[T any](ctx context.Context, c *Cache, kind Kind, key Key, fill func(context.Context) (T, error), opts ...Option) (T, error) {
	var zero T
	var buf [keyBufSize]byte
	q, err := c.prepare(ctx, buf[:0], kind, formatJSON, key)
	if err != nil {
		return zero, err
	}
	if v, ok := c.getL1(q.id, q.h); ok {
		c.count(kind, levelL1, true)
		if t, ok := v.(T); ok {
			return t, nil
		}
		return zero, typeError[T](kind, v)
	}
	c.count(kind, levelL1, false)
	v, err := c.load(ctx, q.miss(c, opts), jsonLoader[T]{fill: fill})
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, typeError[T](kind, v)
	}
	return t, nil
}

// GetOrFillBytes is GetOrFill for values the caller keeps encoded, such as an analysis already
// serialised and gzipped, which is then written out as it is. The bytes are stored and returned as
// they are, in L1 and in Redis; callers must not modify them.
func (c *Cache) GetOrFillBytes(ctx context.Context, kind Kind, key Key, fill func(context.Context) ([]byte, error), opts ...Option) ([]byte, error) {
	var buf [keyBufSize]byte
	q, err := c.prepare(ctx, buf[:0], kind, formatBytes, key)
	if err != nil {
		return nil, err
	}
	if v, ok := c.getL1(q.id, q.h); ok {
		c.count(kind, levelL1, true)
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		return nil, typeError[[]byte](kind, v)
	}
	c.count(kind, levelL1, false)
	v, err := c.load(ctx, q.miss(c, opts), bytesLoader{fill: fill})
	if err != nil {
		return nil, err
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, typeError[[]byte](kind, v)
	}
	return b, nil
}

// typeError reports an entry of kind that holds another type than T: two call sites use one kind
// and key for different types, a programming error.
func typeError[T any](kind Kind, v any) error {
	return fmt.Errorf("cache: a %s entry holds %T, not %s", kind, v, reflect.TypeFor[T]())
}

// query is one lookup's entry, as the read path computes it before touching L1.
type query struct {
	kind Kind
	// id is the entry identity, in the caller's stack buffer.
	id []byte
	// h is hashID(id).
	h uint64
	// local is set when the generation is this process's own, so L2 must not be used.
	local bool
}

// prepare validates the key and computes the entry's identity into b, reading the scope's
// generation for a generational kind.
func (c *Cache) prepare(ctx context.Context, b []byte, kind Kind, f format, key Key) (query, error) {
	if err := key.Scope.check(kind); err != nil {
		return query{}, err
	}
	g := fixed
	if kind.Generational() {
		b = appendScopeID(b, kind, key.Scope)
		g = c.generation(ctx, b)
		b = b[:0]
	}
	b = appendEntryID(b, kind, f, key, g)
	if len(b) > maxKeyLen {
		return query{}, fmt.Errorf("cache: a %s key of %d bytes is longer than %d", kind, len(b), maxKeyLen)
	}
	return query{kind: kind, id: b, h: hashID(b), local: g.local}, nil
}

// miss is a lookup that missed L1, with what its fill needs: unlike query, it owns its identity.
type miss struct {
	kind      Kind
	id        string
	h         uint64
	local     bool
	expensive bool
	// epoch and stripe are the L1 epoch and the key's invalidation count when the lookup missed:
	// if either moved by the time the value is ready, the value may predate an invalidation and is
	// not stored in L1.
	epoch  uint64
	stripe uint64
}

// miss copies the query out of the caller's buffer, for the slow path.
func (q query) miss(c *Cache, opts []Option) miss {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return miss{
		kind: q.kind, id: string(q.id), h: q.h, local: q.local, expensive: o.expensive,
		epoch: c.l1Epoch.Load(), stripe: c.stripe(q.h).Load(),
	}
}

// flightKey names the shared fill of the miss. It carries the epoch and invalidation count, so a
// caller that comes after a Delete or a flush never joins a fill that started before it.
func (m miss) flightKey() string {
	b := make([]byte, 0, len(m.id)+34)
	b = append(b, m.id...)
	b = append(b, '|')
	b = strconv.AppendUint(b, m.epoch, 16)
	b = append(b, '|')
	b = strconv.AppendUint(b, m.stripe, 16)
	return string(b)
}

// stripe is the invalidation counter of the entries whose identity hashes to h.
func (c *Cache) stripe(h uint64) *atomic.Uint64 { return &c.stripes[h&(numStripes-1)] }

// getL1 returns the L1 value of the entry identified by id, whose hash is h.
func (c *Cache) getL1(id []byte, h uint64) (any, bool) {
	e := c.l1Entry(h)
	if e == nil || e.id != string(id) {
		return nil, false
	}
	return e.val, true
}

// l1Entry returns the L1 entry stored for the identity hash h in the current L1 epoch, if any; the
// caller compares its id.
func (c *Cache) l1Entry(h uint64) *entry {
	e, _ := c.l1.Get(l1Key(h, c.l1Epoch.Load()))
	return e
}

// loader fills a miss and decodes what Redis holds, for one value type.
type loader interface {
	// run calls the fill and returns its value and the value's encoding for Redis (also its
	// size in L1).
	run(ctx context.Context) (val any, enc []byte, err error)
	// decode turns what fill encoded back into a value.
	decode(enc []byte) (any, error)
}

// jsonLoader is the loader of GetOrFill.
type jsonLoader[T any] struct {
	fill func(context.Context) (T, error)
}

func (l jsonLoader[T]) run(ctx context.Context) (any, []byte, error) {
	v, err := l.fill(ctx)
	if err != nil {
		return nil, nil, err
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("cache: encode %T: %w", v, err)
	}
	return v, enc, nil
}

func (l jsonLoader[T]) decode(enc []byte) (any, error) {
	var v T
	if err := json.Unmarshal(enc, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", reflect.TypeFor[T](), err)
	}
	return v, nil
}

// bytesLoader is the loader of GetOrFillBytes.
type bytesLoader struct {
	fill func(context.Context) ([]byte, error)
}

func (l bytesLoader) run(ctx context.Context) (any, []byte, error) {
	b, err := l.fill(ctx)
	if err != nil {
		return nil, nil, err
	}
	return b, b, nil
}

func (bytesLoader) decode(enc []byte) (any, error) { return enc, nil }

// load resolves a miss: the caller joins the process's one flight for the entry and waits for
// it, or for its own context to end.
func (c *Cache) load(ctx context.Context, m miss, ld loader) (any, error) {
	if c.closed.Load() {
		v, _, err := c.fill(ctx, m.kind, ld)
		return v, err
	}
	ch := c.flights.DoChan(m.flightKey(), func() (any, error) {
		return c.resolve(ctx, m, ld)
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("cache: wait for the %s fill: %w", m.kind, context.Cause(ctx))
	}
}

// resolve is one flight: L1 again, L2, the cross-instance lock for an expensive fill, the fill.
func (c *Cache) resolve(ctx context.Context, m miss, ld loader) (any, error) {
	// A caller that missed L1 just before the previous flight stored its value finds it here.
	if e := c.l1Entry(m.h); e != nil && e.id == m.id {
		return e.val, nil
	}
	ctx, cancel := c.detach(ctx)
	defer cancel()

	useL2 := c.client != nil && !m.local && c.l2Usable()
	var l2Key string
	var lock *redislock.Lock
	if useL2 {
		l2Key = c.l2Key(m.id)
		v, hit, err := c.readL2(ctx, m, ld, l2Key)
		if hit {
			c.count(m.kind, levelL2, true)
			return v, nil
		}
		useL2 = err == nil
		if useL2 && m.expensive {
			v, hit, lock = c.waitForFill(ctx, m, ld, l2Key)
			if hit {
				c.count(m.kind, levelL2, true)
				return v, nil
			}
		}
	}
	if useL2 {
		c.count(m.kind, levelL2, false)
	} else if c.client != nil {
		c.counters[m.kind].l2Skips.Add(1)
	}

	start := time.Now()
	v, enc, err := c.fill(ctx, m.kind, ld)
	if err != nil {
		c.release(ctx, lock)
		return nil, err
	}
	// A fill that outlived FillTimeout may have read its source before a deletion whose
	// tombstone is gone by now; it is returned but not shared through Redis.
	if useL2 && time.Since(start) <= c.fillTimeout {
		c.writeL2(ctx, m.kind, l2Key, enc)
	}
	c.release(ctx, lock)
	c.storeL1(m, v, len(enc), c.ttl[m.kind])
	return v, nil
}

// detach returns the context of a shared fill: ctx's values and deadline without its
// cancellation, bounded by FillTimeout.
func (c *Cache) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(c.fillTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

// fill runs the caller's fill, counts and times it, and turns a panic into an error: the fill
// runs on a goroutine of its own, where a panic would end the process.
func (c *Cache) fill(ctx context.Context, kind Kind, ld loader) (v any, enc []byte, err error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			c.logger.LogAttrs(ctx, slog.LevelError, "cache fill panicked",
				slog.String("kind", kind.String()), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			v, enc, err = nil, nil, fmt.Errorf("cache: the %s fill panicked: %v", kind, r)
		}
		fillDuration[kind].UpdateDuration(start)
		c.counters[kind].fills.Add(1)
		if err != nil {
			c.counters[kind].fillErrors.Add(1)
			fillCounter[kind][resultError].Inc()
		} else {
			fillCounter[kind][resultOK].Inc()
		}
	}()
	return ld.run(ctx)
}

// storeL1 stores a value in L1 unless the entry was invalidated or L1 flushed since the lookup
// missed. While invalidations cannot arrive, the TTL is at most the degraded one.
func (c *Cache) storeL1(m miss, v any, size int, ttl time.Duration) {
	if c.client != nil && !c.healthy() {
		ttl = min(ttl, c.degradedTTL)
	}
	if ttl <= 0 || c.l1Epoch.Load() != m.epoch || c.stripe(m.h).Load() != m.stripe {
		return
	}
	k := l1Key(m.h, m.epoch)
	e := &entry{id: m.id, kind: m.kind, epoch: m.epoch, key: k, val: v}
	cost := int64(size + len(m.id) + entryOverhead)
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed.Load() {
		return
	}
	if c.l1.SetWithTTL(k, e, cost, ttl) {
		// Ristretto applies new entries asynchronously; waiting makes the entry visible to the
		// next lookup, so that a caller arriving just after this flight does not fill again.
		c.l1.Wait()
	}
	// An invalidation between the check above and the write would have deleted nothing; it
	// moved the count, so the entry is deleted here instead.
	if c.stripe(m.h).Load() != m.stripe {
		c.l1.Del(k)
	}
}

// dropL1 deletes the entry identified by id from L1 and moves its invalidation count, so a fill in
// progress does not store a value read before.
func (c *Cache) dropL1(id []byte) {
	h := hashID(id)
	c.stripe(h).Add(1)
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if !c.closed.Load() {
		c.l1.Del(l1Key(h, c.l1Epoch.Load()))
	}
}

// flush makes every L1 entry unreachable at once, for when invalidations may have been missed;
// the maintainer sweeps them out of memory.
func (c *Cache) flush(reason string) {
	c.l1Epoch.Add(1)
	c.flushes.Add(1)
	c.sweepDue.Store(true)
	c.wakeUp()
	c.logger.LogAttrs(context.Background(), slog.LevelInfo, "cache L1 flushed", slog.String("reason", reason))
}

// sweep deletes the entries of older L1 epochs.
func (c *Cache) sweep() {
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed.Load() {
		return
	}
	cur := c.l1Epoch.Load()
	var stale []uint64
	c.l1.IterValues(func(e *entry) bool {
		if e != nil && e.epoch != cur {
			stale = append(stale, e.key)
		}
		return false
	})
	for _, k := range stale {
		c.l1.Del(k)
	}
}

// onEvict counts an entry that ristretto removed: expired, or evicted to make room.
func (c *Cache) onEvict(item *ristretto.Item[*entry]) {
	if c.closed.Load() || item.Value == nil || !item.Value.kind.valid() {
		return
	}
	k := item.Value.kind
	if !item.Expiration.IsZero() && !item.Expiration.After(time.Now()) {
		c.counters[k].expirations.Add(1)
		return
	}
	c.counters[k].evictions.Add(1)
	evictionCounter[k].Inc()
}

// count counts a hit or a miss of kind at level.
func (c *Cache) count(kind Kind, l level, hit bool) {
	if hit {
		c.counters[kind].hits[l].Add(1)
		hitCounter[l][kind].Inc()
		return
	}
	c.counters[kind].misses[l].Add(1)
	missCounter[l][kind].Inc()
}

// wakeUp asks the maintainer to run now.
func (c *Cache) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}
