package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/ratelimit"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// The rate-limit headers. Every response to an authenticated request of an account with a requests
// limit carries the first five, for the requests budget: the X-RateLimit-* ones and the same in the
// structured form of the IETF's RateLimit header fields (draft-ietf-httpapi-ratelimit-headers); an
// account whose requests are unlimited gets none of them. A 429 also carries Retry-After.
// openapi.yaml declares them (components headers), .spectral.yaml requires them on every keyed
// operation, and `ghl-debugger verify` checks a deployment sends them.
const (
	HeaderRateLimitLimit     = "X-RateLimit-Limit"
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderRateLimitReset     = "X-RateLimit-Reset"
	HeaderRateLimitPolicy    = "RateLimit-Policy"
	HeaderRateLimit          = "RateLimit"
	HeaderRetryAfter         = "Retry-After"
)

// DefaultUpgradeURL is the page a free account over a limit is sent to when Config names none.
const DefaultUpgradeURL = "https://ghl-debugger.dev/pricing"

// RateLimiter counts each account's budgets under the policy (tier and limits in force) it is given.
// *ratelimit.Limiter implements it. Take, Peek and Refund fail only for a policy or budget that
// does not exist: a Redis that does not answer is no error, the limiter counts in memory instead.
type RateLimiter interface {
	Take(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error)
	Peek(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) (ratelimit.Result, error)
	Refund(ctx context.Context, accountID string, p ratelimit.Policy, b ratelimit.Budget) error
	Status(ctx context.Context) ratelimit.Status
}

var _ RateLimiter = (*ratelimit.Limiter)(nil)

// limitRequests is the middleware that counts a request against the requests per minute in force
// for the authenticated account. It sets the rate-limit headers for every response, success or
// error, and refuses a request over the limit with 429. The limits are the account's as read with
// its key for this very request, so a change of tier or of the account's own limits applies to the
// next request.
func (s *Server) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		in, err := limitsInForce(p.Account)
		if err != nil {
			return err
		}
		res, err := s.limiter.Take(ctx, p.Account.ID, policyOf(in), ratelimit.Requests)
		if err != nil {
			return fmt.Errorf("rate limit requests: %w", err)
		}
		setRateLimitHeaders(c.Response().Header(), res, time.Now())
		if !res.Allowed {
			return s.rateLimited(in, res)
		}
		return next(c)
	}
}

// setRateLimitHeaders describes the requests budget res in h as it stands at now. An unlimited
// budget has no limit, remainder or reset worth telling, so it gets no header at all: a client
// that reads them has nothing to slow down for.
func setRateLimitHeaders(h http.Header, res ratelimit.Result, now time.Time) {
	if res.Unlimited {
		return
	}
	h.Set(HeaderRateLimitLimit, strconv.Itoa(res.Limit))
	h.Set(HeaderRateLimitRemaining, strconv.Itoa(res.Remaining))
	h.Set(HeaderRateLimitReset, strconv.FormatInt(res.Reset.Unix(), 10))
	// The IETF fields name the policy by the budget, as a structured-field string: its quota q per
	// window of w seconds, and what remains of it r for the next t seconds. t is rounded up, like
	// Retry-After, so that a client waiting t seconds finds the window over. Reset is a whole
	// second at or after the window's end, so the rounding may pass w; but the window opened no
	// later than now, so it ends within w seconds and w is never early either.
	name := strconv.Quote(string(res.Budget))
	window := int64(res.Window / time.Second)
	h.Set(HeaderRateLimitPolicy, fmt.Sprintf("%s;q=%d;w=%d", name, res.Limit, window))
	h.Set(HeaderRateLimit, fmt.Sprintf("%s;r=%d;t=%d", name, res.Remaining, min(secondsUntil(res.Reset, now), window)))
}

// secondsUntil is the whole seconds from now until t, rounded up; zero once t has passed.
func secondsUntil(t, now time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// admitAnalysis counts one analysis that is about to be computed against the analyses per hour in
// force for the account, and refuses it with a 429 problem when the budget is used up. Callers ask
// only once they know no stored analysis can be reused, since reuse costs nothing.
//
// A refused analysis is given back at once: the budget counts analyses computed, and the counter
// (which counts every Take) would otherwise hold the refusals too. They would not show while the
// limit stands, since what is used is reported up to the limit, but once an operator raises or
// lifts the account's limit within the window, they would eat into the new allowance and show in
// GET /v1/me. Refused requests, by contrast, are requests made, and stay counted.
func (s *Server) admitAnalysis(ctx context.Context, account store.Account) error {
	in, err := limitsInForce(account)
	if err != nil {
		return err
	}
	policy := policyOf(in)
	res, err := s.limiter.Take(ctx, account.ID, policy, ratelimit.Analyses)
	if err != nil {
		return fmt.Errorf("rate limit analyses: %w", err)
	}
	if !res.Allowed {
		if err := s.limiter.Refund(context.WithoutCancel(ctx), account.ID, policy, ratelimit.Analyses); err != nil {
			return fmt.Errorf("give back a refused analysis: %w", err)
		}
		return s.rateLimited(in, res)
	}
	return nil
}

// refundAnalysis gives back the analysis admitAnalysis counted, when the analysis then failed: a
// request that fails, for whatever reason, costs the account none of its analyses per hour. It runs
// even when the caller has gone away, and a failure to refund is logged by the caller's error path
// only as part of the request's own error.
func (s *Server) refundAnalysis(ctx context.Context, account store.Account) error {
	in, err := limitsInForce(account)
	if err != nil {
		return err
	}
	if err := s.limiter.Refund(context.WithoutCancel(ctx), account.ID, policyOf(in), ratelimit.Analyses); err != nil {
		return fmt.Errorf("refund analysis: %w", err)
	}
	return nil
}

// limitsInForce returns the limits in force for the account: its tier's, each replaced by its own
// when it has one.
func limitsInForce(a store.Account) (tier.InForce, error) {
	in, err := tier.Resolve(tier.Name(a.Tier), tier.Overrides{
		RequestsPerMinute: toOverride(a.RequestsPerMinute),
		AnalysesPerHour:   toOverride(a.AnalysesPerHour),
	})
	if err != nil {
		return tier.InForce{}, fmt.Errorf("account %s: %w", a.ID, err)
	}
	return in, nil
}

// toOverride converts an own limit as the store keeps it into package tier's terms.
func toOverride(v *int) *int {
	switch {
	case v == nil:
		return nil
	case *v == store.Unlimited:
		return new(tier.Unlimited)
	default:
		return new(*v)
	}
}

// policyOf is what the limiter enforces for an account whose limits in force are in.
func policyOf(in tier.InForce) ratelimit.Policy {
	return ratelimit.Policy{Tier: in.Tier, Limits: in.Limits()}
}

// rateLimited is the 429 problem of an account whose budget res is used up under the limits in
// force in: it names the budget, whose limit it is, and when it resets, says how long to wait, and
// shows a free account where to upgrade.
func (s *Server) rateLimited(in tier.InForce, res ratelimit.Result) *Problem {
	wait := retryAfterSeconds(res.RetryAfter(time.Now()))
	whose := fmt.Sprintf("its %s tier", in.Tier)
	if limitOf(in, res.Budget).Source == tier.FromAccount {
		whose = "its own limit"
	}
	detail := fmt.Sprintf("The account has used the %d %s of %s; the budget resets at %s, in %s.",
		res.Limit, res.Budget.Describe(), whose, res.Reset.UTC().Format(time.RFC3339), time.Duration(wait)*time.Second)
	p := newProblem(kindRateLimited, detail, nil)
	p.RetryAfter = wait
	if in.Tier == tier.Free {
		p.UpgradeURL = s.upgradeURL
	}
	return p
}

// limitOf is budget b's limit among the limits in force.
func limitOf(in tier.InForce, b ratelimit.Budget) tier.Limit {
	if b == ratelimit.Analyses {
		return in.AnalysesPerHour
	}
	return in.RequestsPerMinute
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
