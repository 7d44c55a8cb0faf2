package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// sampleLine is one series of the text format: name{labels} value.
var sampleLine = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$`)

// mustScrape returns every series of the process's metrics with its value.
func mustScrape(tb testing.TB) map[string]float64 {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, metrics.WritePrometheus(&buf))
	out := map[string]float64{}
	for _, m := range sampleLine.FindAllStringSubmatch(buf.String(), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		require.NoError(tb, err, m[0])
		out[m[1]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	t.Run("every series exists from the start", func(t *testing.T) {
		s := mustScrape(t)
		for _, k := range cache.Kinds() {
			for _, level := range []string{"l1", "l2"} {
				require.Contains(t, s, fmt.Sprintf(`cache_hits_total{level=%q,kind=%q}`, level, k))
				require.Contains(t, s, fmt.Sprintf(`cache_misses_total{level=%q,kind=%q}`, level, k))
			}
			for _, result := range []string{"ok", "error"} {
				require.Contains(t, s, fmt.Sprintf(`cache_fills_total{kind=%q,result=%q}`, k, result))
			}
			require.Contains(t, s, fmt.Sprintf(`cache_fill_duration_seconds_count{kind=%q}`, k))
			require.Contains(t, s, fmt.Sprintf(`cache_evictions_total{kind=%q}`, k))
		}
		for _, name := range []string{"cache_redis_failures_total", "cache_redis_breaker_opens_total", "cache_redis_breaker_state",
			"cache_l1_bytes", "cache_l1_entries", "cache_invalidations_pending"} {
			require.Contains(t, s, name)
		}
	})

	t.Run("lookups and fills are counted", func(t *testing.T) {
		c := mustCache(t, backend{name: "l1-only"}, cache.Config{})
		before := mustScrape(t)
		src := newSource()
		key := cache.Scope{Account: "acc_m", ID: "loc"}.Key("page")
		mustGet(t, c, cache.KindHistoryPage, key, src, "m")
		mustGet(t, c, cache.KindHistoryPage, key, src, "m")
		after := mustScrape(t)
		delta := func(series string) float64 { return after[series] - before[series] }
		require.Equal(t, 1.0, delta(`cache_hits_total{level="l1",kind="history_page"}`))
		require.Equal(t, 1.0, delta(`cache_misses_total{level="l1",kind="history_page"}`))
		require.Equal(t, 1.0, delta(`cache_fills_total{kind="history_page",result="ok"}`))
		require.Equal(t, 1.0, delta(`cache_fill_duration_seconds_count{kind="history_page"}`))
		require.Zero(t, delta(`cache_misses_total{level="l2",kind="history_page"}`), "no Redis, no L2 lookup")
		require.Positive(t, after["cache_l1_bytes"])
		require.Positive(t, after["cache_l1_entries"])
		_, err := cache.GetOrFill(context.Background(), c, cache.KindHistoryPage, key.Scope.Key("other"), func(context.Context) (item, error) {
			return item{}, fmt.Errorf("no such page")
		})
		require.Error(t, err)
		require.Equal(t, 1.0, mustScrape(t)[`cache_fills_total{kind="history_page",result="error"}`]-before[`cache_fills_total{kind="history_page",result="error"}`])
	})
}
