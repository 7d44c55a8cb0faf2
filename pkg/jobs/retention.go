package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// Retainer deletes the analyses past their retention; *store.DB implements it.
type Retainer interface {
	DeleteExpiredAnalyses(ctx context.Context, r store.Retention, batch int) (store.RetentionResult, error)
}

// RetentionArgs are the retention job's arguments: none, the retention is the service's
// configuration.
type RetentionArgs struct{}

// Kind implements river.JobArgs.
func (RetentionArgs) Kind() string { return KindRetention }

// retentionJob is the periodic retention job: enqueued by River's leader every interval and when a
// process becomes leader, and unique per interval, so that two instances that both believed
// themselves leader for a moment still enqueue one job per period.
func retentionJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return RetentionArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{ID: KindRetention, RunOnStart: true})
}

// retentionWorker works the retention job.
type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	retainer  Retainer
	retention store.Retention
	batch     int
}

// Work deletes the expired analyses batch by batch. When the attempt's deadline ends the walk, the
// batches done stay done and the job succeeds: the next period continues where the analyses now
// start. Any other error (the database, a shutdown) is retried.
func (w *retentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	res, err := w.retainer.DeleteExpiredAnalyses(ctx, w.retention, w.batch)
	retentionDeleted.Add(res.Deleted)
	if err != nil && !(errors.Is(err, context.DeadlineExceeded) && res.Batches > 0 && ctxDeadlineReached(ctx)) {
		return fmt.Errorf("retention: %w", err)
	}
	if err := river.RecordOutput(ctx, retentionOutput{Deleted: res.Deleted, Scanned: res.Scanned, Batches: res.Batches, Partial: err != nil}); err != nil {
		return fmt.Errorf("retention: record output: %w", err)
	}
	return nil
}

// ctxDeadlineReached reports whether ctx ended by its own deadline (the job's timeout).
func ctxDeadlineReached(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// retentionOutput is what the retention job records.
type retentionOutput struct {
	Deleted int  `json:"deleted"`
	Scanned int  `json:"scanned"`
	Batches int  `json:"batches"`
	Partial bool `json:"partial,omitempty"`
}
