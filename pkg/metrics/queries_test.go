package metrics_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// mustQueryStats returns the statistics of one family.
func mustQueryStats(tb testing.TB, family string) metrics.QueryStats {
	tb.Helper()
	for _, s := range metrics.Queries() {
		if s.Family == family {
			return s
		}
	}
	tb.Fatalf("no statistics for query family %s", family)
	return metrics.QueryStats{}
}

func TestQueries(t *testing.T) {
	t.Run("percentiles of a few calls", func(t *testing.T) {
		for i := 1; i <= 100; i++ {
			metrics.ObserveQuery("test.hundred", time.Duration(i)*time.Millisecond, i%25 == 0)
		}
		s := mustQueryStats(t, "test.hundred")
		require.Equal(t, metrics.QueryStats{
			Family: "test.hundred", Calls: 100, Errors: 4, Total: 5050 * time.Millisecond, Window: 100,
			P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond,
		}, s)
	})
	t.Run("percentiles follow the recent calls", func(t *testing.T) {
		for range metrics.QueryWindow {
			metrics.ObserveQuery("test.recent", time.Second, false)
		}
		for range metrics.QueryWindow {
			metrics.ObserveQuery("test.recent", time.Millisecond, false)
		}
		s := mustQueryStats(t, "test.recent")
		require.Equal(t, uint64(2*metrics.QueryWindow), s.Calls)
		require.Equal(t, metrics.QueryWindow, s.Window)
		require.Equal(t, time.Millisecond, s.P99, "the slow calls left the window")
		require.Equal(t, time.Millisecond, s.Max)
	})
	t.Run("one call", func(t *testing.T) {
		metrics.ObserveQuery("test.once", 3*time.Millisecond, false)
		s := mustQueryStats(t, "test.once")
		require.Equal(t, 3*time.Millisecond, s.P50)
		require.Equal(t, 3*time.Millisecond, s.P99)
	})
	t.Run("most total time first", func(t *testing.T) {
		metrics.ObserveQuery("test.slowest", time.Hour, false)
		require.Equal(t, "test.slowest", metrics.Queries()[0].Family)
	})
	t.Run("exported as a histogram by family", func(t *testing.T) {
		s := mustScrape(t)
		require.Equal(t, "100", s.value("database_query_duration_seconds_count", `{query="test.hundred"}`))
		require.Equal(t, "histogram", s.types["database_query_duration_seconds"])
	})
}

func TestActiveSet(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	set := metrics.NewActiveSetWithClock(5*time.Minute, func() time.Time { return now })
	set.Seen("acc_a")
	set.Seen("acc_b")
	set.Seen("acc_a")
	require.Equal(t, 2, set.Count())

	now = now.Add(3 * time.Minute)
	set.Seen("acc_c")
	require.Equal(t, 3, set.Count())

	now = now.Add(2*time.Minute + time.Second)
	require.Equal(t, 1, set.Count(), "acc_a and acc_b were last seen more than five minutes ago")

	now = now.Add(time.Hour)
	require.Zero(t, set.Count())
}

// TestConcurrentUse records and reads from many goroutines at once; run with -race it proves the
// recorders and readers share no unguarded state.
func TestConcurrentUse(t *testing.T) {
	set := metrics.NewActiveSet(time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				metrics.ObserveQuery("test.concurrent", time.Duration(i)*time.Microsecond, false)
				set.Seen(fmt.Sprintf("acc_%d", g))
				if i%50 == 0 {
					_ = metrics.Queries()
					_ = set.Count()
					var buf bytes.Buffer
					require.NoError(t, metrics.WritePrometheus(&buf))
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(8*200), mustQueryStats(t, "test.concurrent").Calls)
	require.Equal(t, 8, set.Count())
}
