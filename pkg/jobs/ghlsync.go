package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// KindGHLSyncSchedule is the periodic job that enqueues one ghl_sync per connected location. It
// belongs to no account, so GET /v1/jobs never shows it.
const KindGHLSyncSchedule = "ghl_sync_schedule"

// DefaultGHLSyncInterval is how often every connected location is synced when Config leaves
// GHLSyncInterval zero: GHL tells nobody about a change, so this bounds how late a sync notices one,
// and a location's sync costs one of GHL's requests (of 100 per 10 s and 200,000 a day).
const DefaultGHLSyncInterval = 15 * time.Minute

// GHLSyncer syncs a location's workflow list from GHL; *ghl.Service implements it. Its errors are
// ghl's: ErrNotConnected and ErrNotConfigured cannot be fixed by a retry, ErrUnavailable and
// ErrRateLimited (an *ghl.APIError, with RetryAfter when GHL named a wait) can.
type GHLSyncer interface {
	Sync(ctx context.Context, accountID, locationID string, opts ghl.SyncOptions) (store.GHLApplyResult, error)
}

// GHLConnections lists the connected locations for the periodic sync; *store.DB implements it.
type GHLConnections interface {
	ListGHLConnections(ctx context.Context) ([]store.GHLConnectionRef, error)
}

var (
	_ GHLSyncer      = (*ghl.Service)(nil)
	_ GHLConnections = (*store.DB)(nil)
)

// GHLSyncArgs are a ghl_sync job's arguments: the account's location to sync, and whether to read
// GHL even when the cache holds its list (a sync a user asked for). A location has at most one
// fresh and one periodic sync waiting or running: a sync asked for meanwhile joins the one of its
// kind. A user's sync never joins a periodic one, which may answer from the cache.
type GHLSyncArgs struct {
	AccountID  string `json:"account_id" river:"unique"`
	LocationID string `json:"location_id" river:"unique"`
	Fresh      bool   `json:"fresh,omitempty" river:"unique"`
}

// Kind implements river.JobArgs.
func (GHLSyncArgs) Kind() string { return KindGHLSync }

// InsertOpts makes a location's syncs unique while one waits or runs (a failed one waiting for its
// retry does not hold back a new request).
func (GHLSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// GHLSyncResult is what a ghl_sync job records when it completes (the API's Job shows no result
// for it: the location's ghl.lastSync is where a sync's outcome is read).
type GHLSyncResult struct {
	Workflows   int  `json:"workflows"`
	Stale       int  `json:"stale"`
	NotImported int  `json:"not_imported"`
	Deleted     int  `json:"deleted"`
	Changed     bool `json:"changed"`
}

// EnqueueGHLSync enqueues a sync of an account's location and returns the job: the one already
// waiting or running for the location, when there is one. See EnqueueAnalyzeLocation for what
// SQLite asks of callers that hold a transaction.
func (q *Queue) EnqueueGHLSync(ctx context.Context, args GHLSyncArgs) (Job, error) {
	if args.AccountID == "" || args.LocationID == "" {
		return Job{}, errors.New("enqueue ghl_sync: account and location are required")
	}
	res, err := q.client.Insert(ctx, args, nil)
	if err != nil {
		return Job{}, fmt.Errorf("enqueue ghl_sync: %w", unavailable(err))
	}
	return toJob(res.Job), nil
}

// ghlSyncWorker works ghl_sync jobs.
type ghlSyncWorker struct {
	river.WorkerDefaults[GHLSyncArgs]
	syncer GHLSyncer
	logger *slog.Logger
}

// Work syncs the location. A location no longer connected, or a deployment without the settings, is
// cancelled at once; a GHL that asked to wait (429 with Retry-After) is snoozed that long without
// using an attempt; a GHL that did not answer is retried with the queue's backoff.
func (w *ghlSyncWorker) Work(ctx context.Context, job *river.Job[GHLSyncArgs]) error {
	a := job.Args
	res, err := w.syncer.Sync(ctx, a.AccountID, a.LocationID, ghl.SyncOptions{Fresh: a.Fresh})
	var apiErr *ghl.APIError
	switch {
	case err == nil:
	case errors.Is(err, ghl.ErrNotConnected), errors.Is(err, ghl.ErrNotConfigured), errors.Is(err, store.ErrNotFound):
		return river.JobCancel(fmt.Errorf("sync GHL of %s: %w", a.LocationID, publicSyncError(err)))
	case errors.As(err, &apiErr) && apiErr.RetryAfter > 0:
		return river.JobSnooze(apiErr.RetryAfter)
	default:
		w.logger.LogAttrs(ctx, slog.LevelWarn, "GHL sync attempt failed", slog.String("location_id", a.LocationID),
			slog.String("error", err.Error()))
		return fmt.Errorf("sync GHL of %s: %w", a.LocationID, publicSyncError(err))
	}
	out := GHLSyncResult{Workflows: res.Workflows, Stale: res.Stale, NotImported: res.NotImported, Deleted: res.Deleted, Changed: res.Changed}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("record GHL sync of %s: %w", a.LocationID, err)
	}
	return nil
}

// publicSyncError is the error a failed attempt shows in GET /v1/jobs: the service's own sentence
// for the errors of pkg/ghl (they name an endpoint, a status, a setting or a reason, never a token
// or a body), a summary for anything else.
func publicSyncError(err error) error {
	var apiErr *ghl.APIError
	var notConfigured *ghl.NotConfiguredError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &notConfigured):
		return notConfigured
	case errors.Is(err, ghl.ErrNotConnected):
		return ghl.ErrNotConnected
	case errors.Is(err, store.ErrNotFound):
		return errors.New("the location no longer exists")
	case errors.Is(err, store.ErrUnavailable):
		return errors.New("the database was unavailable; the sync will be tried again")
	default:
		return errors.New("internal error; the sync will be tried again")
	}
}

// GHLSyncScheduleArgs are the periodic schedule job's arguments: none.
type GHLSyncScheduleArgs struct{}

// Kind implements river.JobArgs.
func (GHLSyncScheduleArgs) Kind() string { return KindGHLSyncSchedule }

// ghlSyncScheduleJob enqueues the schedule every interval (and when a process becomes leader),
// unique per interval like the retention job.
func ghlSyncScheduleJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return GHLSyncScheduleArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{ID: KindGHLSyncSchedule, RunOnStart: true})
}

// ghlSyncScheduleWorker works the schedule job.
type ghlSyncScheduleWorker struct {
	river.WorkerDefaults[GHLSyncScheduleArgs]
	connections GHLConnections
}

// Work enqueues a ghl_sync for every connected location; a location whose sync still waits or runs
// keeps that one. The syncs read GHL through the cache (Fresh false), so a location a user just
// synced costs GHL nothing.
func (w *ghlSyncScheduleWorker) Work(ctx context.Context, _ *river.Job[GHLSyncScheduleArgs]) error {
	refs, err := w.connections.ListGHLConnections(ctx)
	if err != nil {
		return fmt.Errorf("list GHL connections: %w", err)
	}
	if len(refs) == 0 {
		return nil
	}
	client, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return fmt.Errorf("schedule GHL syncs: %w", err)
	}
	params := make([]river.InsertManyParams, len(refs))
	for i, r := range refs {
		params[i] = river.InsertManyParams{Args: GHLSyncArgs{AccountID: r.AccountID, LocationID: r.LocationID}}
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("schedule GHL syncs: %w", err)
	}
	return nil
}
