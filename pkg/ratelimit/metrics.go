package ratelimit

import (
	vm "github.com/VictoriaMetrics/metrics"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

var (
	exceededTotal = metrics.NewCounterVec("rate_limit_exceeded_total",
		"Events refused because the account's budget was used up, by tier and budget (requests, analyses).",
		"tier", "budget")
	fallbackTotal = metrics.NewCounter("rate_limit_fallback_total",
		"Rate-limit calls counted in this instance's memory because the configured Redis did not answer in time.")
)

func init() {
	// Every series exists from the start, at zero, so that a dashboard's rate() sees the first
	// refusal instead of a series appearing from nowhere.
	for _, t := range tier.Names() {
		for _, b := range Budgets() {
			exceeded(t, b)
		}
	}
}

// exceeded is the refusal counter of tier t and budget b; both come from fixed sets.
func exceeded(t tier.Name, b Budget) *vm.Counter {
	return exceededTotal.With(string(t), string(b))
}
