package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// forEachEngine runs fn as a subtest per engine, with a fresh migrated database (River's tables
// included).
func forEachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, storetest.New(t, engine)) })
	}
}

// fakeAnalyzer fails its first failures calls with err, then answers analysis; it counts the calls.
type fakeAnalyzer struct {
	failures int
	err      error
	calls    atomic.Int32
}

func (f *fakeAnalyzer) AnalyzeStored(_ context.Context, _, _, _, _ string) (string, bool, error) {
	if n := int(f.calls.Add(1)); n <= f.failures {
		return "", false, fmt.Errorf("attempt %d: %w", n, f.err)
	}
	return "ana_h7k2m4p6r2s3t5v7w2x4", false, nil
}

// testConfig is a queue configuration for the tests: short polls and retries.
func testConfig(db *store.DB) jobs.Config {
	return jobs.Config{
		DB: db.SQL().DB, Engine: db.Engine(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		RetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, JobTimeout: 10 * time.Second, RescueAfter: time.Minute,
		StatsInterval: 50 * time.Millisecond,
	}
}

func mustNew(tb testing.TB, cfg jobs.Config) *jobs.Queue {
	tb.Helper()
	q, err := jobs.New(cfg)
	require.NoError(tb, err)
	return q
}

// mustStart starts q and stops it when the test ends.
func mustStart(tb testing.TB, q *jobs.Queue) {
	tb.Helper()
	require.NoError(tb, q.Start(tb.Context()))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, q.Stop(ctx))
	})
}

func mustEnqueue(tb testing.TB, q *jobs.Queue, accountID, locationID string) jobs.Job {
	tb.Helper()
	j, err := q.EnqueueAnalyzeLocation(tb.Context(), nil, jobs.AnalyzeLocationArgs{AccountID: accountID, LocationID: locationID, Scope: "location"})
	require.NoError(tb, err)
	return j
}

// mustWaitFinal polls the job until it is completed, discarded or cancelled.
func mustWaitFinal(tb testing.TB, q *jobs.Queue, accountID, id string) jobs.Job {
	tb.Helper()
	var j jobs.Job
	require.Eventually(tb, func() bool {
		var err error
		j, err = q.Get(tb.Context(), accountID, id)
		require.NoError(tb, err)
		return j.FinalizedAt != nil
	}, 20*time.Second, 20*time.Millisecond, "job %s never finished", id)
	return j
}

// TestAnalyzeLocationRetries checks the proof of the issue: a job that fails twice and then succeeds
// ends completed after three attempts, with its result; one that fails on every attempt ends
// discarded with its last error; one that fails permanently is cancelled at once.
func TestAnalyzeLocationRetries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name        string
			analyzer    *fakeAnalyzer
			maxAttempts int
			state       string
			attempt     int
			lastError   string
			result      bool
		}{
			{name: "fails twice then succeeds", analyzer: &fakeAnalyzer{failures: 2, err: store.ErrUnavailable},
				maxAttempts: 5, state: jobs.StateCompleted, attempt: 3, lastError: "attempt 2: database unavailable", result: true},
			{name: "fails on every attempt", analyzer: &fakeAnalyzer{failures: 100, err: store.ErrUnavailable},
				maxAttempts: 3, state: jobs.StateDiscarded, attempt: 3, lastError: "analyze location loc_a: attempt 3: database unavailable"},
			{name: "fails permanently", analyzer: &fakeAnalyzer{failures: 100, err: jobs.ErrPermanent},
				maxAttempts: 5, state: jobs.StateCancelled, attempt: 1, lastError: "attempt 1: permanent failure"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := mustJobCounters(t)
				cfg := testConfig(db)
				cfg.Analyzer, cfg.MaxAttempts = tc.analyzer, tc.maxAttempts
				q := mustNew(t, cfg)
				mustStart(t, q)
				queued := mustEnqueue(t, q, "acc_a", "loc_a")
				require.Equal(t, jobs.StateAvailable, queued.State)
				require.Equal(t, tc.maxAttempts, queued.MaxAttempts)

				j := mustWaitFinal(t, q, "acc_a", queued.ID)
				require.Equal(t, tc.state, j.State)
				require.Equal(t, tc.attempt, j.Attempt)
				require.Equal(t, tc.attempt, int(tc.analyzer.calls.Load()))
				require.NotNil(t, j.LastError)
				require.Contains(t, j.LastError.Message, tc.lastError)
				require.NotContains(t, j.LastError.Message, "goroutine", "no stack")
				require.Equal(t, "loc_a", j.LocationID)
				if tc.result {
					require.Equal(t, &jobs.AnalysisResult{AnalysisID: "ana_h7k2m4p6r2s3t5v7w2x4"}, j.Result)
				} else {
					require.Nil(t, j.Result)
				}

				// The metrics count each attempt and its outcome once.
				failed := tc.attempt
				if tc.state == jobs.StateCompleted {
					failed--
				}
				want := map[string]int{
					"jobs_started_total": tc.attempt, "jobs_failed_total": failed,
					"jobs_succeeded_total": b2i(tc.state == jobs.StateCompleted),
					"jobs_discarded_total": b2i(tc.state == jobs.StateDiscarded),
					"jobs_retried_total":   failed - b2i(tc.state != jobs.StateCompleted),
				}
				require.Eventually(t, func() bool {
					after := mustJobCounters(t)
					for name, n := range want {
						if after[name]-before[name] != n {
							return false
						}
					}
					return true
				}, 5*time.Second, 10*time.Millisecond, "counters moved by %v: before %v, after %v", want, before, mustJobCounters(t))
			})
		}
	})
}

// TestGetAndList checks that jobs are the account's: another account's job is not found, lists
// hold only the account's jobs, newest first, filtered by state and paged by a stable cursor.
func TestGetAndList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		cfg := testConfig(db)
		cfg.Analyzer = &fakeAnalyzer{}
		q := mustNew(t, cfg) // not started: the jobs stay available
		var mine []string
		for i := range 5 {
			mine = append(mine, mustEnqueue(t, q, "acc_mine", fmt.Sprintf("loc_%d", i)).ID)
			mustEnqueue(t, q, "acc_theirs", "loc_x")
		}
		slices.Reverse(mine)

		got, err := q.Get(ctx, "acc_mine", mine[0])
		require.NoError(t, err)
		require.Equal(t, jobs.KindAnalyzeLocation, got.Kind)
		require.Equal(t, jobs.StateAvailable, got.State)
		require.Equal(t, "acc_mine", got.AccountID)
		require.Zero(t, got.Attempt)
		require.Nil(t, got.AttemptedAt)
		require.Nil(t, got.LastError)
		for _, id := range []string{"job_999999", "job_x", "job_-1", "job_", "ana_1", mine[0][4:]} {
			_, err := q.Get(ctx, "acc_mine", id)
			require.ErrorIs(t, err, store.ErrNotFound, id)
		}
		_, err = q.Get(ctx, "acc_theirs", mine[0])
		require.ErrorIs(t, err, store.ErrNotFound, "another account's job")

		var walked []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, next, err := q.List(ctx, "acc_mine", "", cursor, 2)
			require.NoError(t, err)
			for _, j := range page {
				walked = append(walked, j.ID)
			}
			if next == "" {
				break
			}
			// A job enqueued between pages does not shift the walk: it is newer.
			mustEnqueue(t, q, "acc_mine", "loc_late")
			cursor = next
		}
		require.Equal(t, mine, walked)

		page, next, err := q.List(ctx, "acc_mine", jobs.StateCompleted, "", 0)
		require.NoError(t, err)
		require.Empty(t, page)
		require.Empty(t, next)
		page, _, err = q.List(ctx, "acc_theirs", jobs.StateAvailable, "", 0)
		require.NoError(t, err)
		require.Len(t, page, 5)

		for _, tc := range []struct {
			name, state, cursor string
			limit               int
			want                error
		}{
			{name: "bad cursor", cursor: "nope", want: store.ErrInvalidCursor},
			{name: "cursor of another form", cursor: "eyJpZCI6MH0", want: store.ErrInvalidCursor},
			{name: "unknown state", state: "pending", want: store.ErrInvalid},
			{name: "limit too large", limit: 201, want: store.ErrInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := q.List(ctx, "acc_mine", tc.state, tc.cursor, tc.limit)
				require.ErrorIs(t, err, tc.want)
			})
		}
	})
}

// TestEnqueueInTx checks that a job enqueued in the store's transaction exists exactly when the
// transaction commits, on SQLite's single writer connection too.
func TestEnqueueInTx(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		cfg := testConfig(db)
		cfg.Analyzer = &fakeAnalyzer{}
		q := mustNew(t, cfg)
		args := jobs.AnalyzeLocationArgs{AccountID: "acc_tx", LocationID: "loc_tx", Scope: "location"}
		errRollback := errors.New("roll back")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := q.EnqueueAnalyzeLocation(ctx, tx.SQL().Tx, args)
			require.NoError(t, err)
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		page, _, err := q.List(ctx, "acc_tx", "", "", 0)
		require.NoError(t, err)
		require.Empty(t, page, "rolled back with the transaction")

		var queued jobs.Job
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			queued, err = q.EnqueueAnalyzeLocation(ctx, tx.SQL().Tx, args)
			return err
		}))
		got, err := q.Get(ctx, "acc_tx", queued.ID)
		require.NoError(t, err)
		require.Equal(t, queued.ID, got.ID)
	})
}

// TestStats checks the queue's depth by state and the age of its oldest waiting job.
func TestStats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig(db)
		cfg.Analyzer = &fakeAnalyzer{}
		q := mustNew(t, cfg)
		s, err := q.Stats(t.Context())
		require.NoError(t, err)
		require.Equal(t, jobs.Stats{}, s)
		for range 3 {
			mustEnqueue(t, q, "acc_s", "loc_s")
		}
		time.Sleep(20 * time.Millisecond)
		s, err = q.Stats(t.Context())
		require.NoError(t, err)
		require.Equal(t, int64(3), s.Available)
		require.Zero(t, s.Running+s.Retryable+s.Scheduled)
		require.Greater(t, s.OldestAvailableAge, 10*time.Millisecond)
		require.Less(t, s.OldestAvailableAge, time.Minute)
	})
}

// fakeRetainer counts the retention runs.
type fakeRetainer struct {
	mu   sync.Mutex
	runs []store.Retention
}

func (f *fakeRetainer) DeleteExpiredAnalyses(_ context.Context, r store.Retention, _ int) (store.RetentionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
	return store.RetentionResult{Deleted: 2, Scanned: 3, Batches: 1}, nil
}

func (f *fakeRetainer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs)
}

// TestRetentionPeriodic checks that the retention job runs when the queue starts and then once per
// interval, with the configured retention.
func TestRetentionPeriodic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		r := &fakeRetainer{}
		cfg := testConfig(db)
		cfg.Retainer, cfg.RetentionInterval = r, time.Second
		cfg.Retention = store.Retention{Free: time.Hour, Pro: 2 * time.Hour}
		q := mustNew(t, cfg)
		mustStart(t, q)
		require.Eventually(t, func() bool { return r.count() >= 1 }, 15*time.Second, 20*time.Millisecond, "runs on start")
		require.Eventually(t, func() bool { return r.count() >= 2 }, 15*time.Second, 20*time.Millisecond, "runs again")
		r.mu.Lock()
		require.Equal(t, cfg.Retention, r.runs[0])
		r.mu.Unlock()
	})
}

// blockArgs is the tests' job that runs until its context ends.
type blockArgs struct{}

func (blockArgs) Kind() string { return "test_block" }

type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started chan struct{}
}

func (w *blockWorker) Work(ctx context.Context, _ *river.Job[blockArgs]) error {
	close(w.started)
	<-ctx.Done()
	return ctx.Err()
}

// TestStopCancelsAfterTimeout checks graceful shutdown: a job still running when the shutdown's
// time is up is cancelled and put back in the queue, rather than lost or counted as a failure.
func TestStopCancelsAfterTimeout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		w := &blockWorker{started: make(chan struct{})}
		cfg := jobs.WithRegister(testConfig(db), func(ws *river.Workers) []*river.PeriodicJob {
			river.AddWorker(ws, w)
			return nil
		})
		q := mustNew(t, cfg)
		require.NoError(t, q.Start(t.Context()))
		res, err := jobs.Client(q).Insert(t.Context(), blockArgs{}, nil)
		require.NoError(t, err)
		select {
		case <-w.started:
		case <-time.After(15 * time.Second):
			t.Fatal("the job did not start")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		require.ErrorIs(t, q.Stop(ctx), context.DeadlineExceeded)
		require.Less(t, time.Since(start), 5*time.Second)

		row, err := jobs.Client(q).JobGet(t.Context(), res.Job.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateAvailable, string(row.State), "put back, to be worked again")
		require.Zero(t, row.Attempt, "an interrupted attempt is not counted")
		require.Empty(t, row.Errors)
	})
}

// slowArgs is the tests' job that takes a little while and then succeeds.
type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	started chan struct{}
}

func (w *slowWorker) Work(context.Context, *river.Job[slowArgs]) error {
	close(w.started)
	time.Sleep(300 * time.Millisecond)
	return nil
}

// TestStopLetsRunningJobsFinish checks graceful shutdown within its time: a running job finishes and
// is completed before Stop returns.
func TestStopLetsRunningJobsFinish(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		w := &slowWorker{started: make(chan struct{})}
		q := mustNew(t, jobs.WithRegister(testConfig(db), func(ws *river.Workers) []*river.PeriodicJob {
			river.AddWorker(ws, w)
			return nil
		}))
		require.NoError(t, q.Start(t.Context()))
		res, err := jobs.Client(q).Insert(t.Context(), slowArgs{}, nil)
		require.NoError(t, err)
		select {
		case <-w.started:
		case <-time.After(15 * time.Second):
			t.Fatal("the job did not start")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		require.NoError(t, q.Stop(ctx))
		row, err := jobs.Client(q).JobGet(t.Context(), res.Job.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateCompleted, string(row.State))
	})
}

// TestNew checks the configuration New refuses.
func TestNew(t *testing.T) {
	db := storetest.New(t, store.EngineSQLite)
	for _, tc := range []struct {
		name string
		edit func(c *jobs.Config)
	}{
		{name: "no database", edit: func(c *jobs.Config) { c.DB = nil }},
		{name: "unknown engine", edit: func(c *jobs.Config) { c.Engine = "mysql" }},
		{name: "rescue before timeout", edit: func(c *jobs.Config) { c.RescueAfter = c.JobTimeout }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(db)
			tc.edit(&cfg)
			_, err := jobs.New(cfg)
			require.Error(t, err)
		})
	}
}

// TestIDs checks the API's job ids.
func TestIDs(t *testing.T) {
	require.Equal(t, "job_42", jobs.FormatID(42))
	for _, tc := range []struct {
		id   string
		want int64
		ok   bool
	}{
		{id: "job_42", want: 42, ok: true},
		{id: "job_0"}, {id: "job_+4"}, {id: "job_-4"}, {id: "job_"}, {id: "42"}, {id: "job_99999999999999999999"},
	} {
		n, ok := jobs.ParseID(tc.id)
		require.Equal(t, tc.ok, ok, tc.id)
		if ok {
			require.Equal(t, tc.want, n, tc.id)
		}
	}
}

// mustJobCounters reads the job counters of the analyze_location kind from the metrics' output.
func mustJobCounters(tb testing.TB) map[string]int {
	tb.Helper()
	var b strings.Builder
	require.NoError(tb, metrics.WritePrometheus(&b))
	out := map[string]int{}
	for line := range strings.Lines(b.String()) {
		name, rest, ok := strings.Cut(line, `{kind="analyze_location"} `)
		if !ok || !strings.HasSuffix(name, "_total") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(rest))
		require.NoError(tb, err, line)
		out[name] = n
	}
	return out
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
