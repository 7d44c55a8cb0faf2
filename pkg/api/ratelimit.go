package api

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// The rate-limit headers. Every response to an authenticated request carries the first three, for
// the requests budget; a 429 also carries Retry-After. openapi.yaml declares them (components
// headers), .spectral.yaml requires them on every keyed operation, and `ghl-debugger verify` checks
// a deployment sends them.
const (
	HeaderRateLimitLimit     = "X-RateLimit-Limit"
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderRateLimitReset     = "X-RateLimit-Reset"
	HeaderRetryAfter         = "Retry-After"
)

// DefaultUpgradeURL is the page a free account over a limit is sent to when Config names none.
const DefaultUpgradeURL = "https://ghl-debugger.dev/pricing"

// RateLimiter counts each account's budgets. *ratelimit.Limiter implements it. Take, Peek and Refund
// fail only for a tier or budget that does not exist: a Redis that does not answer is no error, the
// limiter counts in memory instead.
type RateLimiter interface {
	Take(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error)
	Peek(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error)
	Refund(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) error
	Status(ctx context.Context) ratelimit.Status
}

var _ RateLimiter = (*ratelimit.Limiter)(nil)

// limitRequests is the middleware that counts a request against the requests per minute of the
// authenticated account's tier. It sets the rate-limit headers for every response, success or
// error, and refuses a request over the limit with 429. The tier is the account's as read with its
// key for this very request, so a change of tier applies to the next request.
func (s *Server) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		policy, err := policyOf(p.Account)
		if err != nil {
			return err
		}
		res, err := s.limiter.Take(ctx, p.Account.ID, policy, ratelimit.Requests)
		if err != nil {
			return fmt.Errorf("rate limit requests: %w", err)
		}
		h := c.Response().Header()
		h.Set(HeaderRateLimitLimit, strconv.Itoa(res.Limit))
		h.Set(HeaderRateLimitRemaining, strconv.Itoa(res.Remaining))
		h.Set(HeaderRateLimitReset, strconv.FormatInt(res.Reset.Unix(), 10))
		if !res.Allowed {
			return s.rateLimited(p.Account, res)
		}
		return next(c)
	}
}

// admitAnalysis counts one analysis that is about to be computed against the analyses per hour of
// the account's tier, and refuses it with a 429 problem when the budget is used up. Callers ask
// only once they know no stored analysis can be reused, since reuse costs nothing.
func (s *Server) admitAnalysis(ctx context.Context, account store.Account) error {
	policy, err := policyOf(account)
	if err != nil {
		return err
	}
	res, err := s.limiter.Take(ctx, account.ID, policy, ratelimit.Analyses)
	if err != nil {
		return fmt.Errorf("rate limit analyses: %w", err)
	}
	if !res.Allowed {
		return s.rateLimited(account, res)
	}
	return nil
}

// refundAnalysis gives back the analysis admitAnalysis counted, when the analysis then failed: a
// request that fails, for whatever reason, costs the account none of its analyses per hour. It runs
// even when the caller has gone away, and a failure to refund is logged by the caller's error path
// only as part of the request's own error.
func (s *Server) refundAnalysis(ctx context.Context, account store.Account) error {
	policy, err := policyOf(account)
	if err != nil {
		return err
	}
	if err := s.limiter.Refund(context.WithoutCancel(ctx), account.ID, policy, ratelimit.Analyses); err != nil {
		return fmt.Errorf("refund analysis: %w", err)
	}
	return nil
}

// limitsInForce returns the limits in force for the account: its tier's, each replaced by its own
// when it has one.
func limitsInForce(a store.Account) (tier.InForce, error) {
	in, err := tier.Resolve(tier.Name(a.Tier), tier.Overrides{})
	if err != nil {
		return tier.InForce{}, fmt.Errorf("account %s: %w", a.ID, err)
	}
	return in, nil
}

// policyOf is what the limiter enforces for the account.
func policyOf(a store.Account) (ratelimit.Policy, error) {
	in, err := limitsInForce(a)
	if err != nil {
		return ratelimit.Policy{}, err
	}
	return ratelimit.Policy{Tier: in.Tier, Limits: in.Limits()}, nil
}

// rateLimited is the 429 problem of an account whose budget res is used up: it names the budget
// and when it resets, says how long to wait, and shows a free account where to upgrade.
func (s *Server) rateLimited(account store.Account, res ratelimit.Result) *Problem {
	wait := retryAfterSeconds(res.RetryAfter(time.Now()))
	detail := fmt.Sprintf("The account has used the %d %s of its %s tier; the budget resets at %s, in %s.",
		res.Limit, res.Budget.Describe(), account.Tier, res.Reset.UTC().Format(time.RFC3339), time.Duration(wait)*time.Second)
	p := newProblem(kindRateLimited, detail, nil)
	p.RetryAfter = wait
	if tier.Name(account.Tier) == tier.Free {
		p.UpgradeURL = s.upgradeURL
	}
	return p
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one, as Retry-After gives it: a
// client that waits that long is never early.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// toRateLimiterHealth converts the limiter's state for the detailed health check.
func toRateLimiterHealth(st ratelimit.Status) gen.RateLimiterHealth {
	out := gen.RateLimiterHealth{Mode: gen.RateLimiterHealthMode(st.Mode), Fallbacks: int64(st.Fallbacks)}
	if st.Redis != nil {
		latency := float64(st.Redis.Latency.Microseconds()) / 1000
		out.RedisReachable, out.RedisLatencyMs = &st.Redis.Reachable, &latency
	}
	return out
}
