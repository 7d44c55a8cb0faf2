// Package ratelimit limits what each account may do: API requests per minute and computed analyses
// per hour, the budgets of tier.Limits, by the limits in force for the account (its tier's, or its
// own; see tier.Resolve). The counters live in Redis when one is
// configured, so every instance of the service shares them; otherwise in the process's memory. When
// Redis is configured but does not answer within a short timeout, the call is counted in memory
// instead: a Redis outage costs the limits their sharing, never a request.
//
// The counting is ulule/limiter's fixed window: an account's window for a budget opens with its first
// counted event and lasts the budget's period (a minute, an hour); the limit is compared with the
// count on every call, so a new tier or limit applies to the very next call.
//
// A budget whose limit is tier.Unlimited is never refused, but it is still counted: GET /v1/me then
// reports the account's real use, and when an operator gives the limit back the window already
// holds what the account did. Counting costs the same one call as before, so lifting a limit saves
// nothing worth the blind spot.
package ratelimit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds each Redis call. The limiter sits in front of every request, so a Redis
	// that answers more slowly than this is treated as down.
	DefaultTimeout = 50 * time.Millisecond
	// DefaultRetryInterval is how long the limiter counts in memory after a Redis call failed
	// before it tries Redis again.
	DefaultRetryInterval = time.Second
	// DefaultPrefix starts every counter's key.
	DefaultPrefix = "ghld:ratelimit"
)

// Budget is one of the limits in force for an account: its tier grants it, or the account has its own.
type Budget string

// The budgets. Their names are part of the counters' keys and of the metrics' labels.
const (
	// Requests counts every authenticated API request, per minute.
	Requests Budget = "requests"
	// Analyses counts every analysis actually computed, per hour; a stored result that is reused
	// costs nothing.
	Analyses Budget = "analyses"
)

// Budgets returns every budget.
func Budgets() []Budget {
	return []Budget{Requests, Analyses}
}

// Describe names the budget as the product does, for messages: "requests per minute".
func (b Budget) Describe() string {
	switch b {
	case Requests:
		return "requests per minute"
	case Analyses:
		return "analyses per hour"
	default:
		return string(b)
	}
}

// window is the product's period of the budget; zero for an unknown budget.
func (b Budget) window() time.Duration {
	switch b {
	case Requests:
		return time.Minute
	case Analyses:
		return time.Hour
	default:
		return 0
	}
}

// limitIn returns the budget's limit among the limits in force, possibly tier.Unlimited.
func (b Budget) limitIn(l tier.Limits) int {
	if b == Analyses {
		return l.AnalysesPerHour
	}
	return l.RequestsPerMinute
}

// Mode says where the limiter counts.
type Mode string

// The modes.
const (
	// ModeRedis counts in Redis, shared by every instance.
	ModeRedis Mode = "redis"
	// ModeFallback counts in this instance's memory because Redis, though configured, did not
	// answer the last call in time.
	ModeFallback Mode = "memory-fallback"
	// ModeMemory counts in this instance's memory because no Redis is configured.
	ModeMemory Mode = "memory"
)

// RedisClient is what the limiter needs of a go-redis client: the commands of ulule's Redis store,
// and Ping for the health check. *redis.Client implements it. Create the client with
// ContextTimeoutEnabled, so that the limiter's per-call timeout also bounds socket reads and
// writes, not only dialling and waiting for a connection.
type RedisClient interface {
	redisstore.Client
	Ping(ctx context.Context) *redis.StatusCmd
}

// Config configures New. The zero value counts in memory with the product's windows.
type Config struct {
	// Redis is the client of the shared store; nil counts in this process's memory only.
	Redis RedisClient
	// Timeout bounds each Redis call, whatever the caller's context allows; a call that takes
	// longer is counted in memory instead. Zero means DefaultTimeout.
	Timeout time.Duration
	// RetryInterval is how long after a failed Redis call the limiter counts in memory without
	// trying Redis, so that a Redis that hangs costs one Timeout per interval rather than one per
	// request. Zero means DefaultRetryInterval.
	RetryInterval time.Duration
	// Prefix starts every counter's key, followed by the account id and the budget. Zero means
	// DefaultPrefix.
	Prefix string
	// Windows replaces the period of the given budgets. The product's are a minute for Requests
	// and an hour for Analyses; tests shorten them to see a window end without waiting for it.
	Windows map[Budget]time.Duration
	// Logger receives a line each time the limiter moves from Redis to memory and back; nil
	// discards them.
	Logger *slog.Logger
}

// Policy is what the limiter enforces for one account.
type Policy struct {
	// Tier is the account's plan. It labels the metric of refusals, so it must be a plan.
	Tier tier.Name
	// Limits are the limits in force for the account: its tier's, or its own. A limit of
	// tier.Unlimited is never refused; any other must be positive.
	Limits tier.Limits
}

// TierPolicy is the policy of an account of plan t that has no limits of its own. It returns false
// when t is not a plan.
func TierPolicy(t tier.Name) (Policy, bool) {
	l, ok := tier.LimitsFor(t)
	return Policy{Tier: t, Limits: l}, ok
}

// Result is the state of one account's budget after a call.
type Result struct {
	// Budget is the budget counted.
	Budget Budget
	// Unlimited is whether the account's limit of the budget is lifted: the event is allowed, and
	// Limit and Remaining are zero.
	Unlimited bool
	// Limit is what the limits in force allow per window.
	Limit int
	// Remaining is what is left of the limit in the current window.
	Remaining int
	// Window is the budget's period: how long a window lasts from its first event.
	Window time.Duration
	// Used is what the current window has counted, at most Limit: events refused for being over
	// the limit do not add to it beyond that. An unlimited budget counts every event.
	Used int
	// Reset is the first whole second at which the current window has surely ended.
	Reset time.Time
	// Allowed is false when the call went over the limit; the event must then be refused.
	Allowed bool
}

// RetryAfter is how long from now until the window ends and a refused event may be tried again,
// never negative.
func (r Result) RetryAfter(now time.Time) time.Duration {
	return max(r.Reset.Sub(now), 0)
}

// Status is the limiter's state for the health check.
type Status struct {
	// Mode is where the limiter counts now.
	Mode Mode
	// Redis is the state of Redis; nil when none is configured.
	Redis *RedisStatus
	// Fallbacks is how many calls this instance counted in memory because Redis did not answer.
	Fallbacks uint64
}

// RedisStatus is the outcome of pinging Redis.
type RedisStatus struct {
	// Reachable is whether Redis answered the ping within the limiter's timeout.
	Reachable bool
	// Latency is how long the ping took.
	Latency time.Duration
}

// Limiter counts each account's budgets. It is safe for concurrent use.
type Limiter struct {
	client        RedisClient
	memory        limiter.Store
	timeout       time.Duration
	retryInterval time.Duration
	prefix        string
	windows       map[Budget]time.Duration
	logger        *slog.Logger

	// mu guards the creation of redis, which needs Redis to answer.
	mu    sync.Mutex
	redis limiter.Store
	// retryAt is when, in Unix nanoseconds, Redis may be tried again after a failure; zero while
	// Redis answers.
	retryAt atomic.Int64
	// down is whether the last Redis call failed.
	down      atomic.Bool
	fallbacks atomic.Uint64
}

// New returns a limiter configured by cfg. It does not contact Redis: the first call does, so a
// Redis that is down when the service starts only means counting in memory until it answers.
func New(cfg Config) (*Limiter, error) {
	if cfg.Timeout < 0 || cfg.RetryInterval < 0 {
		return nil, errors.New("ratelimit: Timeout and RetryInterval must not be negative")
	}
	l := &Limiter{
		client:        cfg.Redis,
		timeout:       cmp.Or(cfg.Timeout, DefaultTimeout),
		retryInterval: cmp.Or(cfg.RetryInterval, DefaultRetryInterval),
		prefix:        cmp.Or(cfg.Prefix, DefaultPrefix),
		windows:       make(map[Budget]time.Duration, len(Budgets())),
		logger:        cfg.Logger,
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	for _, b := range Budgets() {
		l.windows[b] = b.window()
	}
	for b, d := range cfg.Windows {
		if b.window() == 0 {
			return nil, fmt.Errorf("ratelimit: Windows names unknown budget %q", b)
		}
		if d <= 0 {
			return nil, fmt.Errorf("ratelimit: the window of %s must be positive, got %s", b, d)
		}
		l.windows[b] = d
	}
	l.memory = memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: l.prefix, CleanUpInterval: limiter.DefaultCleanUpInterval})
	return l, nil
}

// Take counts one event of budget b for the account and reports whether it is allowed under policy
// p. It fails only for a policy or budget that does not exist (an unknown tier, a limit that is
// neither positive nor tier.Unlimited): when Redis does not answer, the event is counted in memory.
func (l *Limiter) Take(ctx context.Context, accountID string, p Policy, b Budget) (Result, error) {
	rate, err := l.rate(p, b)
	if err != nil {
		return Result{}, err
	}
	key := counterKey(accountID, b)
	lc, err := l.do(ctx, func(ctx context.Context, s limiter.Store) (limiter.Context, error) {
		return s.Get(ctx, key, rate)
	})
	if err != nil {
		return Result{}, fmt.Errorf("count %s of account %s: %w", b, accountID, err)
	}
	res := toResult(b, rate, lc)
	if !res.Allowed {
		exceeded(p.Tier, b).Inc()
	}
	return res, nil
}

// Refund gives back one event of budget b that Take counted for the account, for an event that did
// not happen after all: an analysis that was admitted and then failed. It never takes a window below
// zero, so a refund that arrives after the window ended (or on a store that did not count the
// event, across a Redis outage) gives nothing away. Like Take, it fails only for a policy or budget
// that does not exist.
func (l *Limiter) Refund(ctx context.Context, accountID string, p Policy, b Budget) error {
	rate, err := l.rate(p, b)
	if err != nil {
		return err
	}
	key := counterKey(accountID, b)
	_, err = l.do(ctx, func(ctx context.Context, s limiter.Store) (limiter.Context, error) {
		lc, err := s.Peek(ctx, key, rate)
		if err != nil || lc.Limit-lc.Remaining <= 0 {
			return lc, err
		}
		return s.Increment(ctx, key, -1, rate)
	})
	if err != nil {
		return fmt.Errorf("refund %s of account %s: %w", b, accountID, err)
	}
	return nil
}

// Peek reports the state of budget b for the account under policy p without counting anything. Its
// Allowed says whether the next event would be.
func (l *Limiter) Peek(ctx context.Context, accountID string, p Policy, b Budget) (Result, error) {
	rate, err := l.rate(p, b)
	if err != nil {
		return Result{}, err
	}
	key := counterKey(accountID, b)
	lc, err := l.do(ctx, func(ctx context.Context, s limiter.Store) (limiter.Context, error) {
		return s.Peek(ctx, key, rate)
	})
	if err != nil {
		return Result{}, fmt.Errorf("read %s of account %s: %w", b, accountID, err)
	}
	res := toResult(b, rate, lc)
	// Peek reports a count at the limit as still allowed; what matters to the caller is whether
	// anything is left.
	res.Allowed = res.Unlimited || res.Remaining > 0
	return res, nil
}

// Mode reports where the limiter counts now.
func (l *Limiter) Mode() Mode {
	switch {
	case l.client == nil:
		return ModeMemory
	case l.down.Load():
		return ModeFallback
	default:
		return ModeRedis
	}
}

// Fallbacks returns how many calls this limiter counted in memory because Redis did not answer.
func (l *Limiter) Fallbacks() uint64 {
	return l.fallbacks.Load()
}

// Status pings Redis, when one is configured, within the limiter's timeout, and reports the mode. A
// ping counts like a call: one that fails moves the limiter to memory, one that succeeds moves it
// back to Redis at once.
func (l *Limiter) Status(ctx context.Context) Status {
	st := Status{Fallbacks: l.Fallbacks()}
	if l.client != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
		defer cancel()
		start := time.Now()
		err := l.client.Ping(ctx).Err()
		st.Redis = &RedisStatus{Reachable: err == nil, Latency: time.Since(start)}
		if err != nil {
			l.markDown(fmt.Errorf("ping: %w", err))
		} else {
			l.markUp()
		}
	}
	st.Mode = l.Mode()
	return st
}

// unlimitedRate is the limit given to ulule for an unlimited budget: ulule refuses only a count
// above the limit, and no window counts to this, so the event is counted and never refused.
const unlimitedRate = math.MaxInt64

// rate is budget b's rate under policy p.
func (l *Limiter) rate(p Policy, b Budget) (limiter.Rate, error) {
	if !p.Tier.Valid() {
		return limiter.Rate{}, fmt.Errorf("ratelimit: unknown tier %q", p.Tier)
	}
	window, ok := l.windows[b]
	if !ok {
		return limiter.Rate{}, fmt.Errorf("ratelimit: unknown budget %q", b)
	}
	limit := int64(b.limitIn(p.Limits))
	switch {
	case limit == tier.Unlimited:
		limit = unlimitedRate
	case limit < 1:
		return limiter.Rate{}, fmt.Errorf("ratelimit: the limit of %s must be positive or unlimited, got %d", b, limit)
	}
	return limiter.Rate{Period: window, Limit: limit}, nil
}

// counterKey is the key of an account's budget, after the store's prefix: the account id and the
// budget's name, nothing else, so that a new tier, key or instance keeps counting the same window.
func counterKey(accountID string, b Budget) string {
	return accountID + ":" + string(b)
}

// toResult converts ulule's view of a window of budget b counted at rate.
func toResult(b Budget, rate limiter.Rate, c limiter.Context) Result {
	res := Result{
		Budget:    b,
		Limit:     int(c.Limit),
		Remaining: int(c.Remaining),
		Window:    rate.Period,
		Used:      int(c.Limit - c.Remaining),
		// ulule truncates the window's end to the second; the next second is the first whole
		// second by which the window has surely ended, so a client that waits until then is
		// never early.
		Reset:   time.Unix(c.Reset+1, 0),
		Allowed: !c.Reached,
	}
	if c.Limit == unlimitedRate {
		res.Unlimited, res.Limit, res.Remaining, res.Allowed = true, 0, 0, true
	}
	return res
}

// do runs op on Redis when one is configured and answering, and on the memory store otherwise or
// when Redis fails to answer within the timeout.
func (l *Limiter) do(ctx context.Context, op func(context.Context, limiter.Store) (limiter.Context, error)) (limiter.Context, error) {
	if l.client != nil {
		if time.Now().UnixNano() >= l.retryAt.Load() {
			c, err := l.onRedis(ctx, op)
			if err == nil {
				l.markUp()
				return c, nil
			}
			l.markDown(err)
		}
		l.fallbacks.Add(1)
		fallbackTotal.Inc()
	}
	return op(ctx, l.memory)
}

// onRedis runs op on the Redis store within the timeout. The caller's cancellation is not passed
// on: a client that goes away must not make Redis look down.
func (l *Limiter) onRedis(ctx context.Context, op func(context.Context, limiter.Store) (limiter.Context, error)) (limiter.Context, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	s, err := l.redisStore()
	if err != nil {
		return limiter.Context{}, err
	}
	return op(ctx, s)
}

// redisStore returns ulule's Redis store, creating it on first use. Creating it loads the store's
// Lua scripts into Redis, so it waits until Redis answers.
func (l *Limiter) redisStore() (limiter.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.redis != nil {
		return l.redis, nil
	}
	s, err := redisstore.NewStoreWithOptions(boundedScripts{RedisClient: l.client, timeout: l.timeout},
		limiter.StoreOptions{Prefix: l.prefix})
	if err != nil {
		return nil, fmt.Errorf("create Redis store: %w", err)
	}
	l.redis = s
	return s, nil
}

// markDown records a failed Redis call: Redis is not tried again for the retry interval.
func (l *Limiter) markDown(err error) {
	l.retryAt.Store(time.Now().Add(l.retryInterval).UnixNano())
	if !l.down.Swap(true) {
		l.logger.Warn("rate limiter: Redis did not answer; counting in this instance's memory until it does",
			slog.String("error", err.Error()))
	}
}

// markUp records a Redis call that succeeded.
func (l *Limiter) markUp() {
	if l.down.Swap(false) {
		l.retryAt.Store(0)
		l.logger.Info("rate limiter: Redis answers again; counting in Redis")
	}
}

// boundedScripts gives the timeout to ulule's loading of its scripts, which it does with
// context.Background() when the store is created.
type boundedScripts struct {
	RedisClient
	timeout time.Duration
}

// ScriptLoad loads script within the timeout, or the caller's earlier deadline.
func (c boundedScripts) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.RedisClient.ScriptLoad(ctx, script)
}
