package store_test

import (
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// BenchmarkHistory measures ListAnalyses, in process, on PostgreSQL holding 1,000,000 analyses (50
// locations of 20,000, with their findings and per-workflow results), for every shape of the history
// query on the first page and on a page 10,000 analyses deep. Besides ns/op it reports the p50 and
// p99 latency of one call as p50-ms and p99-ms.
//
// It needs the PostgreSQL of storetest.EnvDatabaseURL and skips without it. The data is generated
// once per run with generate_series into a schema of its own, dropped at the end; that takes a
// couple of minutes and is not timed. Run it alone and once:
//
//	GHLD_TEST_DATABASE_URL=postgres://... go test ./pkg/store -run '^$' -bench BenchmarkHistory -count 1
func BenchmarkHistory(b *testing.B) {
	if os.Getenv(storetest.EnvDatabaseURL) == "" {
		b.Skipf("%s is not set: the history benchmark runs on PostgreSQL", storetest.EnvDatabaseURL)
	}
	ctx := b.Context()
	databaseURL, _ := storetest.DSN(b, store.EnginePostgres)
	db := mustOpen(b, store.Config{DatabaseURL: databaseURL})
	require.NoError(b, db.Migrate(ctx))
	acc := mustCreateAccount(b, db, "Bench Agency")
	s := historySeed{locations: 50, perLocation: 20_000, analysed: 10, workflows: 500}
	start := time.Now()
	h := mustSeedHistory(b, db, acc.ID, s)
	b.Logf("seeded %d analyses, %d findings, %d per-workflow results in %s",
		mustCount(b, db, "analyses"), mustCount(b, db, "findings"), mustCount(b, db, "analysis_workflows"),
		time.Since(start).Round(time.Second))

	middle := s.at(1, s.perLocation/2)
	_, deep, err := db.ListAnalyses(ctx, acc.ID, h.locationID, store.HistoryFilter{Until: &middle}, store.Page{Limit: 1})
	require.NoError(b, err)
	pages := []struct {
		name string
		page store.Page
	}{{name: "first", page: store.Page{}}, {name: "deep", page: store.Page{Cursor: deep}}}

	for _, v := range historyVariants(s, h) {
		for _, p := range pages {
			b.Run(v.name+"/"+p.name, func(b *testing.B) {
				latencies := make([]time.Duration, 0, 4096)
				for b.Loop() {
					t0 := time.Now()
					page, _, err := db.ListAnalyses(ctx, acc.ID, h.locationID, v.filter, p.page)
					latencies = append(latencies, time.Since(t0))
					if err != nil {
						b.Fatal(err)
					}
					if len(page) == 0 {
						b.Fatal("the page is empty: the benchmark would measure nothing")
					}
				}
				reportLatency(b, latencies)
			})
		}
	}
}

// runParallelTimed runs op from about callers goroutines for the benchmark's iterations, numbering
// the calls, and reports the latencies of the calls with reportLatency.
func runParallelTimed(b *testing.B, callers int, op func(i int) error) {
	b.Helper()
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, 4096)
		calls     atomic.Int64
	)
	// RunParallel starts parallelism × GOMAXPROCS goroutines.
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := int(calls.Add(1) - 1)
			t0 := time.Now()
			err := op(i)
			local = append(local, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	if len(latencies) > 0 {
		reportLatency(b, latencies)
	}
}

// reportLatency reports the median and 99th percentile of latencies in milliseconds.
func reportLatency(b *testing.B, latencies []time.Duration) {
	b.Helper()
	slices.Sort(latencies)
	percentile := func(p float64) float64 {
		// The nearest-rank percentile: the smallest latency that p of the calls did not exceed.
		i := max(0, int(math.Ceil(float64(len(latencies))*p))-1)
		return float64(latencies[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(percentile(0.50), "p50-ms")
	b.ReportMetric(percentile(0.99), "p99-ms")
}
