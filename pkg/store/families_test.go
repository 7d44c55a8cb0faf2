package store_test

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// TestQueryFamiliesTable requires well-formed, distinct query family names.
func TestQueryFamiliesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, family := range store.QueryFamilies() {
		require.Regexp(t, `^[a-z_]+\.[a-z_]+$`, family)
		require.False(t, seen[family], "%s is listed twice", family)
		seen[family] = true
	}
}

// queryCounts returns the calls and errors of each query family so far.
func queryCounts() map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, s := range metrics.Queries() {
		out[s.Family] = [2]uint64{s.Calls, s.Errors}
	}
	return out
}

// mustCountQueries runs fn and returns how many statements (calls, errors) each family gained.
func mustCountQueries(tb testing.TB, fn func()) map[string][2]uint64 {
	tb.Helper()
	before := queryCounts()
	fn()
	diff := map[string][2]uint64{}
	for family, after := range queryCounts() {
		d := [2]uint64{after[0] - before[family][0], after[1] - before[family][1]}
		if d != [2]uint64{} {
			diff[family] = d
		}
	}
	return diff
}

// TestQueryFamiliesObserved checks that statements are timed under the family of the method that
// sent them, in and out of transactions, and that only the database's failures count as errors.
// The test runs its statements one at a time, so the counts it compares are its own.
func TestQueryFamiliesObserved(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")

		tests := []struct {
			name string
			fn   func(t *testing.T)
			want map[string][2]uint64
		}{
			{name: "one statement", fn: func(t *testing.T) {
				_, _, err := db.ListLocations(ctx, acc.ID, store.Page{Limit: 10})
				require.NoError(t, err)
			}, want: map[string][2]uint64{"locations.list": {1, 0}}},
			{name: "a missing row is not an error", fn: func(t *testing.T) {
				_, err := db.GetLocation(ctx, acc.ID, missingLocationID)
				require.ErrorIs(t, err, store.ErrNotFound)
			}, want: map[string][2]uint64{"locations.get": {1, 0}}},
			{name: "inside a transaction", fn: func(t *testing.T) {
				require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.CountAccountsByTier(ctx)
					return err
				}))
			}, want: map[string][2]uint64{"accounts.count_by_tier": {1, 0}}},
			{name: "a statement the caller cancelled is not an error", fn: func(t *testing.T) {
				canceled, cancel := context.WithCancel(ctx)
				cancel()
				_, err := db.GetAccount(canceled, acc.ID)
				require.ErrorIs(t, err, context.Canceled)
				require.NotErrorIs(t, err, store.ErrUnavailable)
			}, want: map[string][2]uint64{"accounts.get": {1, 0}}},
			{name: "a failed statement is an error", fn: func(t *testing.T) {
				closed := storetest.New(t, db.Engine())
				require.NoError(t, closed.Close())
				_, err := closed.GetAccount(ctx, acc.ID)
				require.Error(t, err)
			}, want: map[string][2]uint64{"accounts.get": {1, 1}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := mustCountQueries(t, func() { tt.fn(t) })
				require.Equal(t, tt.want, got)
			})
		}
	})
}

func TestCountAccountsByTier(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		counts, err := db.CountAccountsByTier(ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.Tier]int{store.TierFree: 0, store.TierPro: 0, store.TierEnterprise: 0}, counts)

		for _, tier := range []store.Tier{store.TierPro, store.TierFree, store.TierPro, store.TierPro} {
			_, err := db.CreateAccount(ctx, "Agency "+string(tier), tier, false)
			require.NoError(t, err)
		}
		counts, err = db.CountAccountsByTier(ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.Tier]int{store.TierFree: 1, store.TierPro: 3, store.TierEnterprise: 0}, counts)
	})
}

func TestPoolGauges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		err := db.InTx(t.Context(), func(tx *store.Tx) error {
			// The transaction holds a connection, so at least one is active while it runs.
			require.GreaterOrEqual(t, mustGauge(t, "database_connections_active"), 1.0)
			return nil
		})
		require.NoError(t, err)
		require.GreaterOrEqual(t, mustGauge(t, "database_connections_idle"), 1.0, "the connection went back to the pool")
	})
}

// mustGauge reads the value of an unlabelled gauge from the metrics output.
func mustGauge(tb testing.TB, name string) float64 {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, metrics.WritePrometheus(&buf))
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(tb, err)
			return f
		}
	}
	tb.Fatalf("no %s in the metrics output", name)
	return 0
}
