package metrics

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// QueryWindow is how many of a query family's most recent statements its percentiles are taken
// over: enough for a stable p99, recent enough to show a query that has just become slow.
const QueryWindow = 1024

// queryBuckets are the upper bounds of the query latency histogram, in seconds: from 100 µs (an
// indexed lookup on SQLite) to seconds (a query gone wrong).
var queryBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

var queryDuration = NewHistogramVec("database_query_duration_seconds",
	"Time the database took to run one statement, by query family (the store operation that sent it).",
	queryBuckets, "query")

// queryFamily is what is kept of one family: its histogram series, counts since start, and the
// latencies of its last QueryWindow statements in a ring.
type queryFamily struct {
	histogram *vm.PrometheusHistogram

	mu     sync.Mutex
	calls  uint64
	errors uint64
	total  time.Duration
	recent [QueryWindow]time.Duration
	// next is where the next latency goes in recent; the ring is full once calls reaches its size.
	next int
}

// queryFamilies maps a family name to its *queryFamily.
var queryFamilies sync.Map

// ObserveQuery records one statement of a query family that took d. failed means the database
// failed to run it (a broken connection, a timeout, a syntax error), not that it answered with no
// row or a constraint violation the caller handles. family must come from a fixed set in the code:
// each one is a series and a row of QueryStats for the life of the process.
func ObserveQuery(family string, d time.Duration, failed bool) {
	f, ok := queryFamilies.Load(family)
	if !ok {
		f, _ = queryFamilies.LoadOrStore(family, &queryFamily{histogram: queryDuration.With(family)})
	}
	qf := f.(*queryFamily)
	qf.histogram.Update(d.Seconds())
	qf.mu.Lock()
	qf.calls++
	if failed {
		qf.errors++
	}
	qf.total += d
	qf.recent[qf.next] = d
	qf.next = (qf.next + 1) % QueryWindow
	qf.mu.Unlock()
}

// QueryStats describes one query family since the process started.
type QueryStats struct {
	// Family names the store operation, such as locations.list.
	Family string
	// Calls counts its statements; Errors those the database failed to run.
	Calls  uint64
	Errors uint64
	// Total is the time its statements took, added up.
	Total time.Duration
	// Window is how many recent statements the percentiles and Max are taken over (at most
	// QueryWindow).
	Window int
	// P50, P95 and P99 are nearest-rank percentiles of the recent statements' latencies; Max is
	// the slowest of them.
	P50, P95, P99, Max time.Duration
}

// Queries returns the statistics of every query family seen, the family with the most total time
// first (where the database's time goes), then by name.
func Queries() []QueryStats {
	var out []QueryStats
	queryFamilies.Range(func(name, f any) bool {
		out = append(out, f.(*queryFamily).stats(name.(string)))
		return true
	})
	slices.SortFunc(out, func(a, b QueryStats) int {
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Compare(a.Family, b.Family)
	})
	return out
}

func (f *queryFamily) stats(name string) QueryStats {
	f.mu.Lock()
	s := QueryStats{Family: name, Calls: f.calls, Errors: f.errors, Total: f.total, Window: int(min(f.calls, QueryWindow))}
	recent := slices.Clone(f.recent[:s.Window])
	f.mu.Unlock()
	if len(recent) == 0 {
		return s
	}
	slices.Sort(recent)
	s.P50, s.P95, s.P99 = percentile(recent, 0.50), percentile(recent, 0.95), percentile(recent, 0.99)
	s.Max = recent[len(recent)-1]
	return s
}

// percentile is the nearest-rank q-quantile of sorted, which is not empty: the smallest value with
// at least q of the values at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
