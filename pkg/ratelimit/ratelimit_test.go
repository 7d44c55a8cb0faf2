package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/redistest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// testTimeout is the Redis timeout of the tests that check counting rather than timeouts: long
// enough that a loaded machine never makes them fall back.
const testTimeout = 5 * time.Second

// backend is a store the limiter can count in.
type backend struct {
	name string
	// client is nil for the memory store.
	client *redis.Client
	// advance lets d pass for the backend's windows: miniredis's keys expire only when told to.
	advance func(tb testing.TB, d time.Duration)
}

// shared reports whether limiters on the backend share their counters, as instances do on Redis.
func (b backend) shared() bool { return b.client != nil }

// backends returns the memory store, miniredis and, when redistest.EnvURL is set, a real Redis. When the
// CI variable is set and redistest.EnvURL is not, it fails the test: CI must never skip Redis by
// accident.
func backends(t *testing.T) []backend {
	t.Helper()
	sleep := func(_ testing.TB, d time.Duration) { time.Sleep(d) }
	mr := miniredis.RunT(t)
	out := []backend{
		{name: "memory", advance: sleep},
		{name: "miniredis", client: redistest.Client(t, "redis://"+mr.Addr()), advance: func(_ testing.TB, d time.Duration) { mr.FastForward(d) }},
	}
	if url := redistest.URL(t); url != "" {
		out = append(out, backend{name: "redis", client: redistest.Client(t, url), advance: sleep})
	}
	return out
}

// forEachBackend runs fn once per backend as a subtest named after it.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// mustLimiter returns a limiter on backend b with cfg, under a prefix of its own unless cfg names
// one, and deletes the prefix's keys from Redis when the test ends.
func mustLimiter(tb testing.TB, b backend, cfg ratelimit.Config) *ratelimit.Limiter {
	tb.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = redistest.Prefix()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = testTimeout
	}
	if b.client != nil {
		cfg.Redis = b.client
		tb.Cleanup(func() { redistest.DeleteKeys(tb, b.client, cfg.Prefix) })
	}
	l, err := ratelimit.New(cfg)
	require.NoError(tb, err)
	return l
}

// The policies of accounts that have no limits of their own.
var (
	free       = mustTierPolicy(tier.Free)
	pro        = mustTierPolicy(tier.Pro)
	enterprise = mustTierPolicy(tier.Enterprise)
)

// mustTierPolicy is the policy of plan t; it panics for a name that is not a plan, which would be a
// mistake in the test itself.
func mustTierPolicy(t tier.Name) ratelimit.Policy {
	p, ok := ratelimit.TierPolicy(t)
	if !ok {
		panic("no plan " + string(t))
	}
	return p
}

// withLimits is p with the limits in force replaced, as an account's own limits replace its tier's.
func withLimits(p ratelimit.Policy, requestsPerMinute, analysesPerHour int) ratelimit.Policy {
	p.Limits = tier.Limits{RequestsPerMinute: requestsPerMinute, AnalysesPerHour: analysesPerHour}
	return p
}

// mustTake counts one event and returns the result.
func mustTake(tb testing.TB, l *ratelimit.Limiter, account string, p ratelimit.Policy, b ratelimit.Budget) ratelimit.Result {
	tb.Helper()
	res, err := l.Take(context.Background(), account, p, b)
	require.NoError(tb, err)
	require.Equal(tb, b, res.Budget)
	return res
}

// mustExhaust takes every event the policy allows the account in budget b, checking each result,
// and one more, which must be refused.
func mustExhaust(tb testing.TB, l *ratelimit.Limiter, account string, p ratelimit.Policy, b ratelimit.Budget, limit int) ratelimit.Result {
	tb.Helper()
	for i := 1; i <= limit; i++ {
		res := mustTake(tb, l, account, p, b)
		require.True(tb, res.Allowed, "event %d of %d", i, limit)
		require.Equal(tb, limit, res.Limit)
		require.Equal(tb, limit-i, res.Remaining)
		require.Equal(tb, i, res.Used)
	}
	res := mustTake(tb, l, account, p, b)
	require.False(tb, res.Allowed, "event %d of %d", limit+1, limit)
	require.Equal(tb, 0, res.Remaining)
	require.Equal(tb, limit, res.Used)
	return res
}

func TestLimiter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Run("counts up to the tier's limit", func(t *testing.T) {
			tests := []struct {
				name   string
				policy ratelimit.Policy
				budget ratelimit.Budget
				limit  int
				window time.Duration
			}{
				{name: "free requests", policy: free, budget: ratelimit.Requests, limit: 20, window: time.Minute},
				{name: "free analyses", policy: free, budget: ratelimit.Analyses, limit: 10, window: time.Hour},
				{name: "pro requests", policy: pro, budget: ratelimit.Requests, limit: 100, window: time.Minute},
				{name: "own requests below the tier's", policy: withLimits(enterprise, 3, 1000), budget: ratelimit.Requests, limit: 3, window: time.Minute},
				{name: "own analyses above the tier's", policy: withLimits(free, 20, 25), budget: ratelimit.Analyses, limit: 25, window: time.Hour},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					l := mustLimiter(t, b, ratelimit.Config{})
					start := time.Now()
					refused := mustExhaust(t, l, "acc_1", tt.policy, tt.budget, tt.limit)
					require.Equal(t, tt.window, refused.Window)
					require.True(t, refused.Reset.After(start), "reset %s", refused.Reset)
					require.False(t, refused.Reset.After(start.Add(tt.window+2*time.Second)), "reset %s", refused.Reset)
					retry := refused.RetryAfter(time.Now())
					require.Greater(t, retry, tt.window-10*time.Second)
					require.LessOrEqual(t, retry, tt.window+2*time.Second)
				})
			}
		})
		t.Run("peek does not count", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			ctx := context.Background()
			res, err := l.Peek(ctx, "acc_1", free, ratelimit.Requests)
			require.NoError(t, err)
			require.Equal(t, ratelimit.Result{Budget: ratelimit.Requests, Limit: 20, Remaining: 20, Window: time.Minute, Used: 0, Reset: res.Reset, Allowed: true}, res)
			mustTake(t, l, "acc_1", free, ratelimit.Requests)
			for range 2 {
				res, err = l.Peek(ctx, "acc_1", free, ratelimit.Requests)
				require.NoError(t, err)
				require.Equal(t, 1, res.Used)
				require.Equal(t, 19, res.Remaining)
			}
			mustExhaust(t, l, "acc_2", free, ratelimit.Analyses, 10)
			res, err = l.Peek(ctx, "acc_2", free, ratelimit.Analyses)
			require.NoError(t, err)
			require.Equal(t, 10, res.Used)
			require.False(t, res.Allowed, "nothing is left")
		})
		t.Run("accounts and budgets count apart", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			mustExhaust(t, l, "acc_1", free, ratelimit.Requests, 20)
			require.Equal(t, 1, mustTake(t, l, "acc_2", free, ratelimit.Requests).Used)
			require.Equal(t, 1, mustTake(t, l, "acc_1", free, ratelimit.Analyses).Used)
		})
		t.Run("a new tier applies to the next event", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			mustExhaust(t, l, "acc_1", free, ratelimit.Requests, 20)
			res := mustTake(t, l, "acc_1", pro, ratelimit.Requests)
			require.True(t, res.Allowed)
			require.Equal(t, 100, res.Limit)
			require.Equal(t, 22, res.Used, "the window keeps counting across the change")
			require.False(t, mustTake(t, l, "acc_1", free, ratelimit.Requests).Allowed, "and back")
		})
		t.Run("a window's end starts a new one", func(t *testing.T) {
			const window = time.Second
			l := mustLimiter(t, b, ratelimit.Config{Windows: map[ratelimit.Budget]time.Duration{ratelimit.Requests: window}})
			refused := mustExhaust(t, l, "acc_1", free, ratelimit.Requests, 20)
			require.Equal(t, window, refused.Window)
			require.LessOrEqual(t, refused.RetryAfter(time.Now()), window+time.Second)
			b.advance(t, window+100*time.Millisecond)
			res := mustTake(t, l, "acc_1", free, ratelimit.Requests)
			require.True(t, res.Allowed)
			require.Equal(t, 1, res.Used)
		})
		t.Run("concurrent events never go over the limit", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 60 {
				wg.Go(func() {
					res, err := l.Take(context.Background(), "acc_1", free, ratelimit.Requests)
					if err == nil && res.Allowed {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int32(20), allowed.Load())
		})
		t.Run("refusals are counted by tier and budget", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			before := ratelimit.ExceededCount(tier.Free, ratelimit.Analyses)
			otherBefore := ratelimit.ExceededCount(tier.Free, ratelimit.Requests)
			mustExhaust(t, l, "acc_1", free, ratelimit.Analyses, 10)
			mustTake(t, l, "acc_1", free, ratelimit.Analyses)
			require.Equal(t, before+2, ratelimit.ExceededCount(tier.Free, ratelimit.Analyses))
			require.Equal(t, otherBefore, ratelimit.ExceededCount(tier.Free, ratelimit.Requests))
		})
		t.Run("instances share counters only on Redis", func(t *testing.T) {
			prefix := redistest.Prefix()
			one := mustLimiter(t, b, ratelimit.Config{Prefix: prefix})
			two := mustLimiter(t, b, ratelimit.Config{Prefix: prefix})
			for range 10 {
				mustTake(t, one, "acc_1", free, ratelimit.Requests)
			}
			res := mustTake(t, two, "acc_1", free, ratelimit.Requests)
			if b.shared() {
				require.Equal(t, 11, res.Used)
			} else {
				require.Equal(t, 1, res.Used)
			}
		})
		t.Run("mode and status", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			mustTake(t, l, "acc_1", free, ratelimit.Requests)
			st := l.Status(context.Background())
			require.Zero(t, st.Fallbacks)
			if b.client == nil {
				require.Equal(t, ratelimit.ModeMemory, l.Mode())
				require.Equal(t, ratelimit.Status{Mode: ratelimit.ModeMemory}, st)
				return
			}
			require.Equal(t, ratelimit.ModeRedis, l.Mode())
			require.Equal(t, ratelimit.ModeRedis, st.Mode)
			require.NotNil(t, st.Redis)
			require.True(t, st.Redis.Reachable)
			require.Positive(t, st.Redis.Latency)
		})
		if b.client == nil {
			return
		}
		t.Run("keys name the account and the budget only", func(t *testing.T) {
			prefix := redistest.Prefix()
			l := mustLimiter(t, b, ratelimit.Config{Prefix: prefix})
			mustTake(t, l, "acc_7", pro, ratelimit.Requests)
			mustTake(t, l, "acc_7", enterprise, ratelimit.Analyses)
			require.ElementsMatch(t, []string{prefix + ":acc_7:requests", prefix + ":acc_7:analyses"}, redistest.Keys(t, b.client, prefix))
			ttl, err := b.client.PTTL(context.Background(), prefix+":acc_7:requests").Result()
			require.NoError(t, err)
			require.Greater(t, ttl, time.Duration(0))
			require.LessOrEqual(t, ttl, time.Minute)
		})
	})
}

func TestTakeRefusesUnknownNames(t *testing.T) {
	l := mustLimiter(t, backend{name: "memory"}, ratelimit.Config{})
	tests := []struct {
		name   string
		policy ratelimit.Policy
		budget ratelimit.Budget
		want   string
	}{
		{name: "tier", policy: ratelimit.Policy{Tier: "gold", Limits: free.Limits}, budget: ratelimit.Requests, want: `unknown tier "gold"`},
		{name: "budget", policy: free, budget: "uploads", want: `unknown budget "uploads"`},
		{name: "zero limit", policy: withLimits(free, 0, 10), budget: ratelimit.Requests, want: "must be positive or unlimited, got 0"},
		{name: "negative limit", policy: withLimits(free, 20, -5), budget: ratelimit.Analyses, want: "must be positive or unlimited, got -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Take(context.Background(), "acc_1", tt.policy, tt.budget)
			require.ErrorContains(t, err, tt.want)
			_, err = l.Peek(context.Background(), "acc_1", tt.policy, tt.budget)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, l.Refund(context.Background(), "acc_1", tt.policy, tt.budget), tt.want)
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.Config
		want string
	}{
		{name: "negative timeout", cfg: ratelimit.Config{Timeout: -time.Second}, want: "must not be negative"},
		{name: "negative retry interval", cfg: ratelimit.Config{RetryInterval: -time.Second}, want: "must not be negative"},
		{name: "unknown budget", cfg: ratelimit.Config{Windows: map[ratelimit.Budget]time.Duration{"uploads": time.Second}}, want: `unknown budget "uploads"`},
		{name: "zero window", cfg: ratelimit.Config{Windows: map[ratelimit.Budget]time.Duration{ratelimit.Requests: 0}}, want: "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ratelimit.New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestTierPolicy(t *testing.T) {
	for _, name := range tier.Names() {
		p, ok := ratelimit.TierPolicy(name)
		require.True(t, ok, "%s", name)
		limits, _ := tier.LimitsFor(name)
		require.Equal(t, ratelimit.Policy{Tier: name, Limits: limits}, p)
	}
	_, ok := ratelimit.TierPolicy("gold")
	require.False(t, ok)
}

func TestBudgetDescribe(t *testing.T) {
	require.Equal(t, "requests per minute", ratelimit.Requests.Describe())
	require.Equal(t, "analyses per hour", ratelimit.Analyses.Describe())
}

func TestRefund(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		t.Run("gives back one counted event", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			mustTake(t, l, "acc_refund", free, ratelimit.Analyses)
			mustTake(t, l, "acc_refund", free, ratelimit.Analyses)
			require.NoError(t, l.Refund(ctx, "acc_refund", free, ratelimit.Analyses))
			res, err := l.Peek(ctx, "acc_refund", free, ratelimit.Analyses)
			require.NoError(t, err)
			require.Equal(t, 1, res.Used)
		})
		t.Run("never goes below zero", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			require.NoError(t, l.Refund(ctx, "acc_empty", free, ratelimit.Analyses))
			mustTake(t, l, "acc_empty", free, ratelimit.Analyses)
			res, err := l.Peek(ctx, "acc_empty", free, ratelimit.Analyses)
			require.NoError(t, err)
			require.Equal(t, 1, res.Used, "a refund of nothing gave nothing away")
		})
		t.Run("a refunded event can be taken again at the limit", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			for range free.Limits.AnalysesPerHour {
				mustTake(t, l, "acc_full", free, ratelimit.Analyses)
			}
			require.NoError(t, l.Refund(ctx, "acc_full", free, ratelimit.Analyses))
			require.True(t, mustTake(t, l, "acc_full", free, ratelimit.Analyses).Allowed)
			require.False(t, mustTake(t, l, "acc_full", free, ratelimit.Analyses).Allowed)
		})
		t.Run("unknown names fail", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			require.Error(t, l.Refund(ctx, "acc", ratelimit.Policy{Tier: "gold", Limits: free.Limits}, ratelimit.Analyses))
		})
		t.Run("gives back an unlimited event", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			unlimited := withLimits(free, 20, tier.Unlimited)
			for range 3 {
				mustTake(t, l, "acc_lifted", unlimited, ratelimit.Analyses)
			}
			require.NoError(t, l.Refund(ctx, "acc_lifted", unlimited, ratelimit.Analyses))
			res, err := l.Peek(ctx, "acc_lifted", unlimited, ratelimit.Analyses)
			require.NoError(t, err)
			require.Equal(t, 2, res.Used)
		})
	})
}

func TestOwnLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		t.Run("an own limit applies to the next event", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			for range 5 {
				mustTake(t, l, "acc_own", free, ratelimit.Requests)
			}
			res := mustTake(t, l, "acc_own", withLimits(free, 6, 10), ratelimit.Requests)
			require.Equal(t, ratelimit.Result{Budget: ratelimit.Requests, Limit: 6, Remaining: 0, Window: time.Minute, Used: 6, Reset: res.Reset, Allowed: true}, res)
			require.False(t, mustTake(t, l, "acc_own", withLimits(free, 6, 10), ratelimit.Requests).Allowed, "the 7th is over the own limit")
			require.True(t, mustTake(t, l, "acc_own", withLimits(free, 300, 10), ratelimit.Requests).Allowed, "a higher own limit lets it through again")
		})
		t.Run("unlimited is never refused and still counts", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			unlimited := withLimits(free, tier.Unlimited, tier.Unlimited)
			refusedBefore := ratelimit.ExceededCount(tier.Free, ratelimit.Requests)
			var last ratelimit.Result
			for i := 1; i <= 50; i++ {
				last = mustTake(t, l, "acc_unlimited", unlimited, ratelimit.Requests)
				require.True(t, last.Allowed, "event %d", i)
				require.True(t, last.Unlimited)
				require.Zero(t, last.Limit)
				require.Zero(t, last.Remaining)
				require.Equal(t, i, last.Used)
			}
			require.True(t, last.Reset.After(time.Now()), "the window still has an end: %s", last.Reset)
			require.Equal(t, refusedBefore, ratelimit.ExceededCount(tier.Free, ratelimit.Requests), "nothing was refused")

			res, err := l.Peek(ctx, "acc_unlimited", unlimited, ratelimit.Requests)
			require.NoError(t, err)
			require.Equal(t, ratelimit.Result{Budget: ratelimit.Requests, Unlimited: true, Window: time.Minute, Used: 50, Reset: last.Reset, Allowed: true}, res)

			// Giving the limit back finds the window full: the account did all of that.
			refused := mustTake(t, l, "acc_unlimited", free, ratelimit.Requests)
			require.False(t, refused.Allowed)
			require.Equal(t, 20, refused.Used)
		})
		t.Run("one budget unlimited, the other limited", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			p := withLimits(pro, tier.Unlimited, 2)
			for range 120 {
				require.True(t, mustTake(t, l, "acc_half", p, ratelimit.Requests).Allowed)
			}
			mustExhaust(t, l, "acc_half", p, ratelimit.Analyses, 2)
		})
		t.Run("unlimited concurrent events are all allowed and all counted", func(t *testing.T) {
			l := mustLimiter(t, b, ratelimit.Config{})
			unlimited := withLimits(free, tier.Unlimited, 10)
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 60 {
				wg.Go(func() {
					res, err := l.Take(ctx, "acc_many", unlimited, ratelimit.Requests)
					if err == nil && res.Allowed {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int32(60), allowed.Load())
			res, err := l.Peek(ctx, "acc_many", unlimited, ratelimit.Requests)
			require.NoError(t, err)
			require.Equal(t, 60, res.Used)
		})
	})
}
