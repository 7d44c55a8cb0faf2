// Package tier holds the product's plans and the limits each one grants. It is the one table that
// GET /v1/me reports and that rate limiting enforces, so the numbers live nowhere else. An account
// may also have limits of its own, set by an operator, which apply instead of its tier's; Resolve
// combines the two into the limits in force.
package tier

import (
	"fmt"
	"slices"
)

// Name is a plan's name as stored on an account and shown by the API.
type Name string

// The plans, cheapest first.
const (
	Free       Name = "free"
	Pro        Name = "pro"
	Enterprise Name = "enterprise"
)

// Limits are what a plan allows one account, across all of its API keys. In the limits in force
// for an account (InForce.Limits) a field may also be Unlimited; a plan's never is.
type Limits struct {
	// RequestsPerMinute is the number of API requests per minute.
	RequestsPerMinute int
	// AnalysesPerHour is the number of analyses per hour.
	AnalysesPerHour int
}

// table is the product's price list (product.md, "Tiers").
var table = map[Name]Limits{
	Free:       {RequestsPerMinute: 20, AnalysesPerHour: 10},
	Pro:        {RequestsPerMinute: 100, AnalysesPerHour: 100},
	Enterprise: {RequestsPerMinute: 500, AnalysesPerHour: 1000},
}

// Names returns every plan, cheapest first.
func Names() []Name {
	return []Name{Free, Pro, Enterprise}
}

// Valid reports whether n names a plan.
func (n Name) Valid() bool {
	return slices.Contains(Names(), n)
}

// LimitsFor returns the limits of plan n, and false when n is not a plan.
func LimitsFor(n Name) (Limits, bool) {
	l, ok := table[n]
	return l, ok
}

// Unlimited is the value of a limit that lifts it: an account whose limit is Unlimited is never
// refused. It is the value the store keeps for an account's own limit of "unlimited" too.
const Unlimited = -1

// MaxOwnLimit is the largest number an account's own limit may be. It bounds what an operator can
// type by mistake; an account that needs more is given Unlimited on purpose.
const MaxOwnLimit = 1_000_000

// ValidOwnLimit reports whether v may be an account's own limit: Unlimited, or 1 to MaxOwnLimit.
func ValidOwnLimit(v int) bool {
	return v == Unlimited || (v >= 1 && v <= MaxOwnLimit)
}

// Overrides are an account's own limits, which apply instead of its tier's. A nil field leaves the
// tier's limit in force; otherwise the field is the limit, Unlimited included.
type Overrides struct {
	// RequestsPerMinute is the account's own requests per minute, or nil.
	RequestsPerMinute *int
	// AnalysesPerHour is the account's own analyses per hour, or nil.
	AnalysesPerHour *int
}

// Source says where a limit in force comes from.
type Source string

// The sources, as GET /v1/me and PATCH /internal/accounts/{accountId} show them.
const (
	// FromTier means the account's tier sets the limit.
	FromTier Source = "tier"
	// FromAccount means the account has a limit of its own.
	FromAccount Source = "account"
)

// Limit is one limit in force for an account.
type Limit struct {
	// Value is the limit per window, or Unlimited.
	Value int
	// Source says whether the tier or the account sets it.
	Source Source
}

// Unlimited reports whether the limit is lifted.
func (l Limit) Unlimited() bool {
	return l.Value == Unlimited
}

// InForce are the limits in force for an account: each of its tier's, unless the account has its
// own.
type InForce struct {
	// Tier is the account's plan.
	Tier Name
	// RequestsPerMinute is the requests per minute in force.
	RequestsPerMinute Limit
	// AnalysesPerHour is the analyses per hour in force.
	AnalysesPerHour Limit
}

// Limits returns the values of the limits in force, Unlimited where a limit is lifted.
func (f InForce) Limits() Limits {
	return Limits{RequestsPerMinute: f.RequestsPerMinute.Value, AnalysesPerHour: f.AnalysesPerHour.Value}
}

// Resolve returns the limits in force for an account of plan n whose own limits are o. It fails for
// an n that is not a plan and for an own limit that ValidOwnLimit refuses: both mean the stored
// account is corrupt, since the store checks both.
func Resolve(n Name, o Overrides) (InForce, error) {
	base, ok := LimitsFor(n)
	if !ok {
		return InForce{}, fmt.Errorf("resolve limits: unknown tier %q", n)
	}
	rpm, err := resolveOne(base.RequestsPerMinute, o.RequestsPerMinute)
	if err != nil {
		return InForce{}, fmt.Errorf("resolve limits: requests per minute: %w", err)
	}
	aph, err := resolveOne(base.AnalysesPerHour, o.AnalysesPerHour)
	if err != nil {
		return InForce{}, fmt.Errorf("resolve limits: analyses per hour: %w", err)
	}
	return InForce{Tier: n, RequestsPerMinute: rpm, AnalysesPerHour: aph}, nil
}

// resolveOne is the limit in force given the tier's and the account's own, if any.
func resolveOne(tierLimit int, own *int) (Limit, error) {
	if own == nil {
		return Limit{Value: tierLimit, Source: FromTier}, nil
	}
	if !ValidOwnLimit(*own) {
		return Limit{}, fmt.Errorf("own limit %d is neither %d (unlimited) nor 1 to %d", *own, Unlimited, MaxOwnLimit)
	}
	return Limit{Value: *own, Source: FromAccount}, nil
}
