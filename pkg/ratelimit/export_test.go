package ratelimit

import "github.com/ghl-debugger/ghl-debugger/pkg/tier"

// ExceededCount reads rate_limit_exceeded_total for tier t and budget b.
func ExceededCount(t tier.Name, b Budget) uint64 {
	return exceeded(t, b).Get()
}

// FallbackCount reads rate_limit_fallback_total.
func FallbackCount() uint64 {
	return fallbackTotal.Get()
}
