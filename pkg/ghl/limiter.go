package ghl

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The per-location limit of GHL calls.
//
// GHL allows 100 requests per 10 s per app and location, and answers 429 beyond. The limiter keeps
// every instance of the service under that, together, with a sliding log: each key (a GHL location)
// has the times of its requests in the last window, and a request is let through only while fewer
// than the limit are there. Unlike a fixed window (ulule/limiter's, used for the API's own tiers),
// which lets a full window's worth through at the end of one window and another at the start of
// the next (up to twice the limit within one window's length), the log guarantees that no interval
// of the window's length ever holds more than the limit.
//
// With Redis, the log is a sorted set per key, updated by one Lua script that reads Redis's own
// clock, so instances whose clocks differ still share one timeline. A Redis that fails or does not
// answer within the timeout is skipped: the request is counted in this instance's log instead (the
// same algorithm), and a warning is logged once per outage.

// Defaults of LimiterConfig.
const (
	// DefaultLimit and DefaultWindow are GHL's burst limit: 100 requests per 10 s per location.
	DefaultLimit  = 100
	DefaultWindow = 10 * time.Second
	// DefaultMargin lengthens the window the limiter counts in beyond GHL's: a request is counted
	// when it leaves, and two requests sent a window apart can arrive closer together when the
	// first one was slower on the way. A quarter of a second covers that and costs 2.5% of the
	// budget.
	DefaultMargin = 250 * time.Millisecond
	// DefaultLimiterTimeout bounds each Redis call of the limiter.
	DefaultLimiterTimeout = 50 * time.Millisecond
	// DefaultLimiterPrefix starts the limiter's Redis keys.
	DefaultLimiterPrefix = "ghld:ghl:rl"
)

// LimiterConfig configures NewLimiter. The zero value counts GHL's limit in this process only.
type LimiterConfig struct {
	// Redis is the process's shared client (cmd/ghl-debugger opens one); nil counts in memory.
	Redis redis.Scripter
	// Limit requests per Window, per key; zero means DefaultLimit and DefaultWindow.
	Limit  int
	Window time.Duration
	// Margin is added to Window (see DefaultMargin); zero means DefaultMargin, negative none.
	Margin time.Duration
	// Timeout bounds each Redis call; zero means DefaultLimiterTimeout.
	Timeout time.Duration
	// Prefix starts every key; zero means DefaultLimiterPrefix.
	Prefix string
	// Logger receives a line when Redis stops and starts answering; nil discards.
	Logger *slog.Logger
}

// Limiter holds each key's requests to its limit per window. It is safe for concurrent use.
type Limiter struct {
	redis   redis.Scripter
	limit   int
	window  time.Duration
	timeout time.Duration
	prefix  string
	logger  *slog.Logger
	down    atomic.Bool

	mu   sync.Mutex
	logs map[string][]time.Time
	// holds are the keys that GHL asked to wait (429 with Retry-After), until when.
	holds map[string]time.Time
}

// NewLimiter returns a limiter configured by cfg.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if cfg.Limit < 0 || cfg.Window < 0 || cfg.Timeout < 0 {
		return nil, fmt.Errorf("ghl: limiter limit, window and timeout must not be negative")
	}
	margin := cmp.Or(cfg.Margin, DefaultMargin)
	if margin < 0 {
		margin = 0
	}
	l := &Limiter{
		redis:   cfg.Redis,
		limit:   cmp.Or(cfg.Limit, DefaultLimit),
		window:  cmp.Or(cfg.Window, DefaultWindow) + margin,
		timeout: cmp.Or(cfg.Timeout, DefaultLimiterTimeout),
		prefix:  cmp.Or(cfg.Prefix, DefaultLimiterPrefix),
		logger:  cfg.Logger,
		logs:    map[string][]time.Time{},
		holds:   map[string]time.Time{},
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// slidingLog is the Redis side: it drops the key's entries older than the window, and either adds
// this request (returning 0) or returns the microseconds until the oldest entry leaves the window.
// TIME makes every instance count on Redis's clock; Redis 7 replicates the script's effects, so a
// script that reads the clock may write.
var slidingLog = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(math.floor(tonumber(oldest[2]) + window - now), 1)
`)

// Wait blocks until key may make one more request, and counts it. It returns the context's error,
// wrapped, when ctx ends first.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	start := time.Now()
	defer func() { limiterWait.UpdateDuration(start) }()
	for {
		if hold := l.holdFor(key); hold > 0 {
			if err := sleep(ctx, hold); err != nil {
				return fmt.Errorf("wait for GHL's rate limit: %w", err)
			}
			continue
		}
		wait := l.take(ctx, key)
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait for GHL's rate limit: %w", err)
		}
	}
}

// Hold makes every request of key wait until d from now: GHL answered 429 with Retry-After, and a
// request sent before then would only be refused again. It is kept in this process only: the other
// instances learn it from their own 429s.
func (l *Limiter) Hold(key string, d time.Duration) {
	until := time.Now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.holds[key]) {
		l.holds[key] = until
	}
}

// holdFor returns how long key must still wait after a Hold.
func (l *Limiter) holdFor(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.holds[key]
	if !ok {
		return 0
	}
	d := time.Until(until)
	if d <= 0 {
		delete(l.holds, key)
	}
	return d
}

// take counts a request of key when the window has room and returns 0, or returns how long to
// wait before trying again.
func (l *Limiter) take(ctx context.Context, key string) time.Duration {
	if l.redis != nil {
		wait, err := l.takeRedis(ctx, key)
		if err == nil {
			if l.down.Swap(false) {
				l.logger.Info("GHL rate limiter: Redis answers again; counting in Redis")
			}
			return wait
		}
		limiterFallback.Inc()
		if !l.down.Swap(true) {
			l.logger.Warn("GHL rate limiter: Redis did not answer; counting in this instance's memory",
				slog.String("error", err.Error()))
		}
	}
	return l.takeMemory(key, time.Now())
}

// takeRedis runs the sliding log in Redis within the timeout. The caller's cancellation is not
// passed on: a caller that goes away must not make Redis look down.
func (l *Limiter) takeRedis(ctx context.Context, key string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	member := rand.Text()
	res, err := slidingLog.Run(ctx, l.redis, []string{l.prefix + ":" + key},
		l.window.Microseconds(), l.limit, member).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(res) * time.Microsecond, nil
}

// takeMemory is the sliding log in this process's memory.
func (l *Limiter) takeMemory(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.logs[key]
	cut := 0
	for cut < len(log) && !log[cut].After(now.Add(-l.window)) {
		cut++
	}
	log = log[cut:]
	if len(log) < l.limit {
		l.logs[key] = append(log, now)
		return 0
	}
	l.logs[key] = log
	return log[0].Add(l.window).Sub(now)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
