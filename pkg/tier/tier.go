// Package tier holds the product's plans and the limits each one grants. It is the one table that
// GET /v1/me reports and that rate limiting enforces, so the numbers live nowhere else.
package tier

import "slices"

// Name is a plan's name as stored on an account and shown by the API.
type Name string

// The plans, cheapest first.
const (
	Free       Name = "free"
	Pro        Name = "pro"
	Enterprise Name = "enterprise"
)

// Limits are what a plan allows one account, across all of its API keys.
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
