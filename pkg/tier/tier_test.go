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

func TestValidOwnLimit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value int
		want  bool
	}{
		{name: "unlimited", value: tier.Unlimited, want: true},
		{name: "one", value: 1, want: true},
		{name: "largest", value: tier.MaxOwnLimit, want: true},
		{name: "zero", value: 0, want: false},
		{name: "negative", value: -5, want: false},
		{name: "too large", value: tier.MaxOwnLimit + 1, want: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tier.ValidOwnLimit(tt.value))
		})
	}
}

func TestResolve(t *testing.T) {
	own := func(v int) *int { return &v }
	tests := []struct {
		name      string
		tier      tier.Name
		overrides tier.Overrides
		want      tier.InForce
		wantErr   string
	}{
		{
			name: "the tier's when the account has none", tier: tier.Pro,
			want: tier.InForce{Tier: tier.Pro,
				RequestsPerMinute: tier.Limit{Value: 100, Source: tier.FromTier},
				AnalysesPerHour:   tier.Limit{Value: 100, Source: tier.FromTier}},
		},
		{
			name: "the account's own replaces one limit only", tier: tier.Free,
			overrides: tier.Overrides{RequestsPerMinute: own(300)},
			want: tier.InForce{Tier: tier.Free,
				RequestsPerMinute: tier.Limit{Value: 300, Source: tier.FromAccount},
				AnalysesPerHour:   tier.Limit{Value: 10, Source: tier.FromTier}},
		},
		{
			name: "an own limit may be below the tier's", tier: tier.Enterprise,
			overrides: tier.Overrides{AnalysesPerHour: own(1)},
			want: tier.InForce{Tier: tier.Enterprise,
				RequestsPerMinute: tier.Limit{Value: 500, Source: tier.FromTier},
				AnalysesPerHour:   tier.Limit{Value: 1, Source: tier.FromAccount}},
		},
		{
			name: "unlimited", tier: tier.Free,
			overrides: tier.Overrides{RequestsPerMinute: own(tier.Unlimited), AnalysesPerHour: own(tier.Unlimited)},
			want: tier.InForce{Tier: tier.Free,
				RequestsPerMinute: tier.Limit{Value: tier.Unlimited, Source: tier.FromAccount},
				AnalysesPerHour:   tier.Limit{Value: tier.Unlimited, Source: tier.FromAccount}},
		},
		{name: "unknown tier", tier: "gold", wantErr: `unknown tier "gold"`},
		{name: "zero own limit", tier: tier.Free, overrides: tier.Overrides{RequestsPerMinute: own(0)}, wantErr: "requests per minute: own limit 0"},
		{name: "own limit too large", tier: tier.Free, overrides: tier.Overrides{AnalysesPerHour: own(tier.MaxOwnLimit + 1)}, wantErr: "analyses per hour: own limit 1000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tier.Resolve(tt.tier, tt.overrides)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.RequestsPerMinute.Value == tier.Unlimited, got.RequestsPerMinute.Unlimited())
			require.Equal(t, tier.Limits{RequestsPerMinute: tt.want.RequestsPerMinute.Value, AnalysesPerHour: tt.want.AnalysesPerHour.Value}, got.Limits())
		})
	}
}
