// Package jobs runs ghl-debugger's background work on River (github.com/riverqueue/river), in the
// service's own database: riverdatabasesql over the store's lib/pq pool on PostgreSQL, riversqlite
// over its single writer connection on SQLite, so the zero-setup start needs nothing more. River's
// tables come from River's migrator, which the store runs with its own migrations
// (store.DB.Migrate).
//
// A job is a row of river_job, so it survives a restart: a job that was running when its process
// died is found by River's rescuer after RescueAfter and tried again, and one that was waiting is
// simply fetched by the next process. The kinds are registered here, each with its arguments type:
//   - analyze_location (AnalyzeLocationArgs): an analysis of a location, done by a LocationAnalyzer
//     that stores it exactly as the synchronous API path does;
//   - retention (RetentionArgs): periodic, deletes the analyses past their tier's retention;
//   - ghl_sync (GHLSyncArgs): a sync of a location's workflow list from GHL, done by a GHLSyncer,
//     and ghl_sync_schedule, periodic, which enqueues one per connected location (ghlsync.go).
//
// Periodic jobs are enqueued by River's leader only, elected through the database, so that with
// several instances on one PostgreSQL database each period's job is enqueued once (and made unique
// by period besides). SQLite serves one process, which is always its leader.
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// The job kinds, as River stores them in river_job.kind.
const (
	KindAnalyzeLocation = "analyze_location"
	KindRetention       = "retention"
	// KindGHLSync is the kind of the GHL synchronisation of a location (ghlsync.go).
	KindGHLSync = "ghl_sync"
)

// Kinds lists the job kinds, the fixed set of the metrics' kind label.
var Kinds = []string{KindAnalyzeLocation, KindRetention, KindGHLSync, KindGHLSyncSchedule}

// accountKinds are the kinds whose jobs belong to an account (their arguments carry account_id), the
// only ones GET /v1/jobs shows.
var accountKinds = []string{KindAnalyzeLocation, KindGHLSync}

// The job states, River's, except pending, which only River Pro's workflows use.
const (
	StateAvailable = string(rivertype.JobStateAvailable)
	StateScheduled = string(rivertype.JobStateScheduled)
	StateRunning   = string(rivertype.JobStateRunning)
	StateRetryable = string(rivertype.JobStateRetryable)
	StateCompleted = string(rivertype.JobStateCompleted)
	StateDiscarded = string(rivertype.JobStateDiscarded)
	StateCancelled = string(rivertype.JobStateCancelled)
)

// States lists the states a job can be in, the fixed set of the metrics' state label.
var States = []string{StateAvailable, StateScheduled, StateRunning, StateRetryable, StateCompleted, StateDiscarded, StateCancelled}

// idPrefix starts every job id in the API: job_ and River's numeric id.
const idPrefix = "job_"

// Defaults of Config's zero fields.
const (
	DefaultWorkers           = 2
	DefaultMaxAttempts       = 5
	DefaultRetryBackoff      = 10 * time.Second
	DefaultMaxRetryBackoff   = time.Hour
	DefaultJobTimeout        = 2 * time.Minute
	DefaultRescueAfter       = 10 * time.Minute
	DefaultPollInterval      = time.Second
	DefaultRetentionInterval = time.Hour
	DefaultStatsInterval     = 15 * time.Second
)

// Config configures a Queue.
type Config struct {
	// DB is the store's pool that writes (store.DB.SQL().DB) and Engine its engine
	// (store.EngineSQLite or store.EnginePostgres). On SQLite it is the single writer connection,
	// which River shares with the store; see EnqueueAnalyzeLocation for what that asks of callers.
	DB     *sql.DB
	Engine string
	// Logger receives River's logs and the queue's own.
	Logger *slog.Logger
	// Workers is how many jobs this process runs at once; 0 means DefaultWorkers.
	Workers int
	// MaxAttempts is how many times a job is tried before it is discarded; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// RetryBackoff is the wait before the first retry, doubled for every further one up to
	// MaxRetryBackoff; 0 means DefaultRetryBackoff (and DefaultMaxRetryBackoff).
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// JobTimeout is the deadline of one attempt of a job; 0 means DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueAfter is how long a job may be running before River's rescuer takes it for the job of a
	// process that died and schedules it again; it must exceed JobTimeout. 0 means
	// DefaultRescueAfter.
	RescueAfter time.Duration
	// PollInterval is how often this process looks for jobs that other processes enqueued (River
	// is told about its own at once); 0 means DefaultPollInterval.
	PollInterval time.Duration

	// Analyzer does the analyze_location jobs; without it the kind is not registered and such jobs
	// cannot be enqueued.
	Analyzer LocationAnalyzer
	// Retainer, Retention, RetentionBatch and RetentionInterval configure the periodic retention
	// job; without a Retainer it is not scheduled. RetentionInterval 0 means
	// DefaultRetentionInterval; RetentionBatch 0 means store.DefaultRetentionBatch.
	Retainer          Retainer
	Retention         store.Retention
	RetentionBatch    int
	RetentionInterval time.Duration

	// GHLSyncer does the ghl_sync jobs; without it the kind is not registered. GHLConnections, when
	// set with it, lists the locations the periodic schedule syncs every GHLSyncInterval (0 means
	// DefaultGHLSyncInterval).
	GHLSyncer       GHLSyncer
	GHLConnections  GHLConnections
	GHLSyncInterval time.Duration

	// StatsInterval is how often the queue-depth gauges are read from the database while the queue
	// runs; 0 means DefaultStatsInterval.
	StatsInterval time.Duration

	// register adds workers and periodic jobs beyond the service's, for the tests (see
	// export_test.go).
	register func(*river.Workers) []*river.PeriodicJob
}

// Queue is the job queue of a process: it enqueues jobs and, once started, works them.
type Queue struct {
	client  *river.Client[*sql.Tx]
	db      *sql.DB
	engine  string
	logger  *slog.Logger
	statsIv time.Duration

	mu      sync.Mutex
	started bool
	// stop ends the loops Start began (events, gauges); done is closed when they have ended.
	stop context.CancelFunc
	done chan struct{}
}

// New returns a queue over cfg.DB with the service's job kinds registered. It neither connects nor
// starts working: call Start for that.
func New(cfg Config) (*Queue, error) {
	if cfg.DB == nil || cfg.Logger == nil {
		return nil, errors.New("jobs: a database and a logger are required")
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch cfg.Engine {
	case store.EnginePostgres:
		// Poll-only: database/sql cannot LISTEN. River tells its own producer about the jobs this
		// process enqueues; jobs from other instances wait up to PollInterval.
		driver = riverdatabasesql.New(cfg.DB)
	case store.EngineSQLite:
		driver = riversqlite.New(cfg.DB)
	default:
		return nil, fmt.Errorf("jobs: unknown engine %q", cfg.Engine)
	}
	jobTimeout := cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	rescueAfter := cmp.Or(cfg.RescueAfter, DefaultRescueAfter)
	if rescueAfter <= jobTimeout {
		return nil, fmt.Errorf("jobs: rescue after %s must exceed the job timeout %s, or running jobs would be taken for dead ones", rescueAfter, jobTimeout)
	}
	workers := river.NewWorkers()
	var periodic []*river.PeriodicJob
	if cfg.Analyzer != nil {
		river.AddWorker(workers, &analyzeWorker{analyzer: cfg.Analyzer})
	}
	if cfg.Retainer != nil {
		interval := cmp.Or(cfg.RetentionInterval, DefaultRetentionInterval)
		river.AddWorker(workers, &retentionWorker{retainer: cfg.Retainer, retention: cfg.Retention, batch: cfg.RetentionBatch})
		periodic = append(periodic, retentionJob(interval))
	}
	if cfg.GHLSyncer != nil {
		river.AddWorker(workers, &ghlSyncWorker{syncer: cfg.GHLSyncer, logger: cfg.Logger})
		if cfg.GHLConnections != nil {
			river.AddWorker(workers, &ghlSyncScheduleWorker{connections: cfg.GHLConnections})
			periodic = append(periodic, ghlSyncScheduleJob(cmp.Or(cfg.GHLSyncInterval, DefaultGHLSyncInterval)))
		}
	}
	if cfg.register != nil {
		periodic = append(periodic, cfg.register(workers)...)
	}
	maxAttempts := cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts)
	base := cmp.Or(cfg.RetryBackoff, DefaultRetryBackoff)
	poll := cmp.Or(cfg.PollInterval, DefaultPollInterval)
	client, err := river.NewClient(driver, &river.Config{
		Logger:               cfg.Logger.With(slog.String("component", "river")),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmp.Or(cfg.Workers, DefaultWorkers)}},
		Workers:              workers,
		PeriodicJobs:         periodic,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: rescueAfter,
		MaxAttempts:          maxAttempts,
		RetryPolicy:          backoff{base: base, max: max(base, cmp.Or(cfg.MaxRetryBackoff, DefaultMaxRetryBackoff))},
		FetchPollInterval:    poll,
		// River fetches at most once per cooldown, which must not exceed the poll interval.
		FetchCooldown:    min(river.FetchCooldownDefault, poll),
		WorkerMiddleware: []rivertype.WorkerMiddleware{river.WorkerMiddlewareFunc(measure)},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Queue{
		client: client, db: cfg.DB, engine: cfg.Engine, logger: cfg.Logger,
		statsIv: cmp.Or(cfg.StatsInterval, DefaultStatsInterval),
	}, nil
}

// Start starts working jobs in the background, with the periodic jobs, the rescue of the jobs of
// dead processes and River's other maintenance (on the elected leader), and keeps the queue's
// metrics. It returns once River has started; the work goes on until Stop, whatever ctx does.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return errors.New("jobs: already started")
	}
	events, cancelEvents := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	// The client's work must not end with the caller's context (a request's, or the start-up's):
	// Stop ends it, gracefully.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		cancelEvents()
		return fmt.Errorf("jobs: start: %w", err)
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	q.started, q.stop, q.done = true, stop, make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancelEvents()
		countEvents(loopCtx, events)
	})
	wg.Go(func() { q.refreshGauges(loopCtx) })
	go func() {
		wg.Wait()
		close(q.done)
	}()
	return nil
}

// Stop stops gracefully within ctx's deadline: it fetches no new job, lets the running ones finish,
// and when ctx ends first, cancels them. River puts a job cancelled this way back in the queue,
// available, without counting the interrupted attempt, for the next process to work (a worker
// that ignores the cancellation leaves its job running, and River's rescuer takes it after
// RescueAfter), so no job is lost. It returns ctx's error when the running jobs had to be
// cancelled.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started {
		return nil
	}
	q.started = false
	defer func() {
		q.stop()
		<-q.done
	}()
	err := q.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	// The time is up: cancel the jobs still running and give them a moment to record it.
	cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopCancelGrace)
	defer cancel()
	if cerr := q.client.StopAndCancel(cancelCtx); cerr != nil {
		return errors.Join(fmt.Errorf("jobs: stop: %w", err), fmt.Errorf("jobs: cancel running jobs: %w", cerr))
	}
	return fmt.Errorf("jobs: stop: running jobs cancelled: %w", err)
}

// stopCancelGrace is how long Stop waits, after the shutdown timeout, for the cancelled jobs to
// record their attempt.
const stopCancelGrace = 2 * time.Second

// Job is a job as the API shows it.
type Job struct {
	// ID is "job_" and River's id.
	ID    string
	Kind  string
	State string
	// AccountID and LocationID are the account and location the job is about, "" for none.
	AccountID  string
	LocationID string
	// Attempt is how many attempts were made, the running one included.
	Attempt     int
	MaxAttempts int
	// LastError is the last failed attempt's error, nil when none failed.
	LastError   *AttemptError
	CreatedAt   time.Time
	ScheduledAt time.Time
	// AttemptedAt is when the last attempt started, FinalizedAt when the job ended; nil before.
	AttemptedAt *time.Time
	FinalizedAt *time.Time
	// Result is what an analyze_location job produced, nil until it completes.
	Result *AnalysisResult
}

// AttemptError is a failed attempt's error: its message only, never River's stack trace.
type AttemptError struct {
	Attempt int
	At      time.Time
	Message string
}

// accountArgs are the fields every account's job carries in its arguments.
type accountArgs struct {
	AccountID  string `json:"account_id"`
	LocationID string `json:"location_id"`
}

// toJob converts River's row.
func toJob(row *rivertype.JobRow) Job {
	j := Job{
		ID: FormatID(row.ID), Kind: row.Kind, State: string(row.State), Attempt: row.Attempt,
		MaxAttempts: row.MaxAttempts, CreatedAt: row.CreatedAt.UTC(), ScheduledAt: row.ScheduledAt.UTC(),
		AttemptedAt: utc(row.AttemptedAt), FinalizedAt: utc(row.FinalizedAt),
	}
	var args accountArgs
	if json.Unmarshal(row.EncodedArgs, &args) == nil {
		j.AccountID, j.LocationID = args.AccountID, args.LocationID
	}
	if n := len(row.Errors); n > 0 {
		e := row.Errors[n-1]
		j.LastError = &AttemptError{Attempt: e.Attempt, At: e.At.UTC(), Message: e.Error}
	}
	if out := row.Output(); len(out) > 0 && row.State == rivertype.JobStateCompleted {
		var r AnalysisResult
		if json.Unmarshal(out, &r) == nil && r.AnalysisID != "" {
			j.Result = &r
		}
	}
	return j
}

// utc returns t in UTC, nil for nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// FormatID returns the API's id of River's job id.
func FormatID(id int64) string { return idPrefix + strconv.FormatInt(id, 10) }

// ParseID returns River's job id of an API id; ok is false for a string that is not one.
func ParseID(id string) (n int64, ok bool) {
	digits, found := strings.CutPrefix(id, idPrefix)
	if !found || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil && n > 0
}

// Get returns the account's job id. Another account's job, a job of no account (retention) and an
// id that is not a job's are all store.ErrNotFound, alike.
func (q *Queue) Get(ctx context.Context, accountID, id string) (Job, error) {
	n, ok := ParseID(id)
	if !ok {
		return Job{}, fmt.Errorf("get job %s: %w", id, store.ErrNotFound)
	}
	row, err := q.client.JobGet(ctx, n)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, fmt.Errorf("get job %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, unavailable(err))
	}
	j := toJob(row)
	if j.AccountID != accountID || accountID == "" {
		return Job{}, fmt.Errorf("get job %s: %w", id, store.ErrNotFound)
	}
	return j, nil
}

// Page limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
)

// List returns a page of the account's jobs, newest first, only those in state unless it is "", and
// the cursor of the next page ("" on the last). cursor is "" for the first page, otherwise one that
// List returned: anything else is store.ErrInvalidCursor. limit 0 means DefaultListLimit.
//
// The jobs are read through River's own list query, with the account's predicate spelled as
// river_job_account_idx indexes it (migration 00008), so a page reads about its size of the index.
func (q *Queue) List(ctx context.Context, accountID, state, cursor string, limit int) ([]Job, string, error) {
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, "", fmt.Errorf("list jobs: %w: limit %d", store.ErrInvalid, limit)
	}
	params := river.NewJobListParams().
		Kinds(accountKinds...).
		Where(q.accountPredicate(), river.NamedArgs{"account_id": accountID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(limit + 1)
	if state != "" {
		if !validState(state) {
			return nil, "", fmt.Errorf("list jobs: %w: state %q", store.ErrInvalid, state)
		}
		params = params.States(rivertype.JobState(state))
	}
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list jobs: %w", err)
		}
		params = params.Where("id < @after_id", river.NamedArgs{"after_id": after})
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, "", fmt.Errorf("list jobs: %w", unavailable(err))
	}
	rows := res.Jobs
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeCursor(rows[limit-1].ID)
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		out[i] = toJob(r)
	}
	return out, next, nil
}

// accountPredicate is the account filter of List, spelled exactly as the expression of
// river_job_account_idx on the engine (db/migrations/*/00008_jobs_retention.sql), which the
// planners match textually.
func (q *Queue) accountPredicate() string {
	if q.engine == store.EngineSQLite {
		return "(args ->> '$.account_id') = @account_id"
	}
	return "(args->>'account_id') = @account_id"
}

// validState reports whether s is one of States.
func validState(s string) bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// unavailable marks the errors of River's queries as the store's ErrUnavailable, which the API
// answers with 503: they are the database not answering (River's own errors, such as a missing
// job, are handled before).
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// backoff is the retry policy: base before the first retry, doubled for each further one up to max,
// with up to a tenth of jitter so that jobs that failed together do not all retry together. The
// attempt number is the number of errors recorded, as in River's own policy, so that a rescued
// job counts its rescue.
type backoff struct {
	base, max time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.base
	for i := 0; i < len(job.Errors) && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	d += time.Duration(rand.Int64N(int64(d)/10 + 1))
	return time.Now().Add(d)
}
