package jobs_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// noopArgs is the benchmark's job, which does nothing: what is measured is the queue.
type noopArgs struct{}

func (noopArgs) Kind() string { return "test_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done *atomic.Int64
}

func (w *noopWorker) Work(context.Context, *river.Job[noopArgs]) error {
	w.done.Add(1)
	return nil
}

// BenchmarkQueue measures jobs per second through the queue on each engine: b.N no-op jobs
// enqueued in batches of 1,000 (InsertMany, one transaction each) and worked by one process with
// the service's poll interval (1 s, so River's fetch cooldown of 100 ms) and 10, 100 or 1,000 workers,
// until the last completes. River fetches at most as many jobs as it has free workers, at most once
// per cooldown, so a process works at most about workers x 10 jobs a second, fewer when the
// database is slower. Run it with a job count, such as -benchtime=3000x; jobs/s is the figure to
// read.
func BenchmarkQueue(b *testing.B) {
	for _, engine := range storetest.Engines(b) {
		for _, workers := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/workers=%d", engine, workers), func(b *testing.B) {
				db := storetest.New(b, engine)
				done := &atomic.Int64{}
				cfg := testConfig(db)
				cfg.Workers, cfg.PollInterval = workers, jobs.DefaultPollInterval
				q := mustNew(b, jobsWithNoop(cfg, done))
				mustStart(b, q)
				client := jobs.Client(q)
				ctx := b.Context()
				b.ResetTimer()
				start := time.Now()
				for sent := 0; sent < b.N; sent += 1000 {
					params := make([]river.InsertManyParams, min(1000, b.N-sent))
					for i := range params {
						params[i] = river.InsertManyParams{Args: noopArgs{}}
					}
					_, err := client.InsertMany(ctx, params)
					require.NoError(b, err)
				}
				for done.Load() < int64(b.N) {
					time.Sleep(time.Millisecond)
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
			})
		}
	}
}

// TestQueueThroughput runs the benchmark's path once, small, so that it cannot rot: every no-op job
// enqueued is worked.
func TestQueueThroughput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		done := &atomic.Int64{}
		q := mustNew(t, jobsWithNoop(testConfig(db), done))
		mustStart(t, q)
		params := make([]river.InsertManyParams, 50)
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{}}
		}
		_, err := jobs.Client(q).InsertMany(t.Context(), params)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return done.Load() == 50 }, 20*time.Second, 10*time.Millisecond)
	})
}

// jobsWithNoop returns cfg with the no-op kind registered, counting its jobs in done.
func jobsWithNoop(cfg jobs.Config, done *atomic.Int64) jobs.Config {
	return jobs.WithRegister(cfg, func(ws *river.Workers) []*river.PeriodicJob {
		river.AddWorker(ws, &noopWorker{done: done})
		return nil
	})
}
