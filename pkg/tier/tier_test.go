package tier_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

func TestLimitsFor(t *testing.T) {
	tests := []struct {
		name   string
		tier   tier.Name
		want   tier.Limits
		wantOK bool
	}{
		{name: "free", tier: tier.Free, want: tier.Limits{RequestsPerMinute: 20, AnalysesPerHour: 10}, wantOK: true},
		{name: "pro", tier: tier.Pro, want: tier.Limits{RequestsPerMinute: 100, AnalysesPerHour: 100}, wantOK: true},
		{name: "enterprise", tier: tier.Enterprise, want: tier.Limits{RequestsPerMinute: 500, AnalysesPerHour: 1000}, wantOK: true},
		{name: "unknown", tier: "platinum", wantOK: false},
		{name: "empty", tier: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tier.LimitsFor(tt.tier)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantOK, tt.tier.Valid())
		})
	}
}

func TestNamesAllHaveLimits(t *testing.T) {
	require.Equal(t, []tier.Name{tier.Free, tier.Pro, tier.Enterprise}, tier.Names())
	for _, n := range tier.Names() {
		_, ok := tier.LimitsFor(n)
		require.True(t, ok, "tier %q has no limits", n)
	}
}
