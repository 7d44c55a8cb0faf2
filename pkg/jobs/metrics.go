package jobs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
)

// The job metrics. Their kind label is one of Kinds (any other kind, such as the tests', is
// "other"), and state one of the waiting and running states: never a job or account id.
var (
	jobsStarted = metrics.NewCounterVec("jobs_started_total",
		"Attempts of background jobs started by this instance, by kind.", "kind")
	jobsSucceeded = metrics.NewCounterVec("jobs_succeeded_total",
		"Background jobs this instance completed, by kind.", "kind")
	jobsFailed = metrics.NewCounterVec("jobs_failed_total",
		"Attempts of background jobs that failed on this instance, by kind; each is then retried, discarded or cancelled.", "kind")
	jobsRetried = metrics.NewCounterVec("jobs_retried_total",
		"Failed attempts of background jobs scheduled to be tried again, by kind.", "kind")
	jobsDiscarded = metrics.NewCounterVec("jobs_discarded_total",
		"Background jobs that failed on their last attempt (or could not be retried) and were given up, by kind.", "kind")
	jobDuration = metrics.NewHistogramVec("job_duration_seconds",
		"Time one attempt of a background job ran, by kind.",
		[]float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}, "kind")
	queueDepth = metrics.NewGaugeVec("jobs_queue_depth",
		"Background jobs in the queue by state (available, scheduled, running, retryable), every instance's, as last read from the database.", "state")
	queueOldestAvailable = metrics.NewGauge("jobs_queue_oldest_available_age_seconds",
		"How long the oldest job waiting for a worker has waited, in seconds, as last read from the database; 0 when none waits.", nil)
	retentionDeleted = metrics.NewCounter("retention_analyses_deleted_total",
		"Analyses the retention job deleted on this instance.")
)

// kindLabel returns the metrics' label of a job kind.
func kindLabel(kind string) string {
	if slices.Contains(Kinds, kind) {
		return kind
	}
	return "other"
}

// measure is the worker middleware that counts every attempt this process starts and times it.
func measure(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	kind := kindLabel(job.Kind)
	jobsStarted.With(kind).Inc()
	start := time.Now()
	defer jobDuration.With(kind).UpdateDuration(start)
	return doInner(ctx)
}

// countEvents counts the outcomes of the attempts this process ran, as River reports them, until ctx
// ends or River closes the subscription.
func countEvents(ctx context.Context, events <-chan *river.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Job == nil {
				continue
			}
			kind := kindLabel(ev.Job.Kind)
			switch ev.Kind {
			case river.EventKindJobCompleted:
				jobsSucceeded.With(kind).Inc()
			case river.EventKindJobFailed:
				jobsFailed.With(kind).Inc()
				if ev.Job.State == rivertype.JobStateDiscarded {
					jobsDiscarded.With(kind).Inc()
				} else {
					jobsRetried.With(kind).Inc()
				}
			case river.EventKindJobCancelled:
				jobsFailed.With(kind).Inc()
			}
		}
	}
}

// Stats is the queue as the database holds it, every instance's jobs together.
type Stats struct {
	Available, Scheduled, Running, Retryable int64
	// OldestAvailableAge is how long the oldest available job has waited since it was due; 0 when
	// none is available.
	OldestAvailableAge time.Duration
}

// queueStatsQueries count the unfinished jobs by state and read the age of the oldest available
// one, per engine. The states lead River's fetching index (river_job_prioritized_fetching_index,
// state first), so the count reads the index, not the finished jobs.
var queueStatsQueries = map[string]string{
	"postgres": `SELECT
	count(*) FILTER (WHERE state = 'available'), count(*) FILTER (WHERE state = 'scheduled'),
	count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'retryable'),
	COALESCE(EXTRACT(EPOCH FROM now() - min(scheduled_at) FILTER (WHERE state = 'available')), 0)
FROM river_job WHERE state IN ('available', 'scheduled', 'running', 'retryable')`,
	"sqlite": `SELECT
	count(*) FILTER (WHERE state = 'available'), count(*) FILTER (WHERE state = 'scheduled'),
	count(*) FILTER (WHERE state = 'running'), count(*) FILTER (WHERE state = 'retryable'),
	COALESCE((julianday('now') - julianday(min(scheduled_at) FILTER (WHERE state = 'available'))) * 86400.0, 0)
FROM river_job WHERE state IN ('available', 'scheduled', 'running', 'retryable')`,
}

// Stats reads the queue's depth by state and the age of its oldest available job, for the detailed
// health check and the gauges.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	var age float64
	err := q.db.QueryRowContext(ctx, queueStatsQueries[q.engine]).Scan(&s.Available, &s.Scheduled, &s.Running, &s.Retryable, &age)
	if err != nil {
		return Stats{}, fmt.Errorf("read job queue: %w", unavailable(err))
	}
	// A job due in the same instant can read a little in the future on another clock.
	s.OldestAvailableAge = max(0, time.Duration(age*float64(time.Second)))
	return s, nil
}

// refreshGauges reads Stats into the gauges every statsIv until ctx ends.
func (q *Queue) refreshGauges(ctx context.Context) {
	t := time.NewTicker(q.statsIv)
	defer t.Stop()
	for {
		readCtx, cancel := context.WithTimeout(ctx, q.statsIv)
		s, err := q.Stats(readCtx)
		cancel()
		if err == nil {
			queueDepth.With(StateAvailable).Set(float64(s.Available))
			queueDepth.With(StateScheduled).Set(float64(s.Scheduled))
			queueDepth.With(StateRunning).Set(float64(s.Running))
			queueDepth.With(StateRetryable).Set(float64(s.Retryable))
			queueOldestAvailable.Set(s.OldestAvailableAge.Seconds())
		} else if ctx.Err() == nil {
			q.logger.Warn("read job queue depth", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func init() {
	// Every series of the fixed label sets exists from the start, at zero, so that a rate is
	// defined before the first job and the dashboards show the kinds that have not run yet.
	for _, kind := range Kinds {
		jobsStarted.With(kind)
		jobsSucceeded.With(kind)
		jobsFailed.With(kind)
		jobsRetried.With(kind)
		jobsDiscarded.With(kind)
		jobDuration.With(kind)
	}
	for _, state := range []string{StateAvailable, StateScheduled, StateRunning, StateRetryable} {
		queueDepth.With(state)
	}
}
