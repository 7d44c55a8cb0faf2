package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// LocationAnalyzer analyses an account's stored location and stores the result exactly as the
// synchronous API path does (pkg/api implements it with that path). It reports the stored analysis's
// id, and reused when an analysis with the same key was stored already, by an earlier request, a
// concurrent one, or an earlier attempt of the same job that stored it and died before River
// recorded its completion: the key makes a retried job idempotent, it never stores a second
// analysis.
//
// An error wrapping ErrPermanent is one no retry can fix (the location or workflow is gone, the
// location has no workflows): the job is cancelled at once, with the error shown. Any other error
// is retried with backoff until the job's attempts run out.
type LocationAnalyzer interface {
	AnalyzeStored(ctx context.Context, accountID, locationID, scope, workflowID string) (analysisID string, reused bool, err error)
}

// ErrPermanent marks an error that retrying a job cannot fix.
var ErrPermanent = errors.New("permanent failure")

// AnalyzeLocationArgs are an analyze_location job's arguments: the location of an account and what
// to analyse of it (scope location, or workflow with the workflow's id).
type AnalyzeLocationArgs struct {
	AccountID  string `json:"account_id"`
	LocationID string `json:"location_id"`
	Scope      string `json:"scope"`
	WorkflowID string `json:"workflow_id,omitempty"`
}

// Kind implements river.JobArgs.
func (AnalyzeLocationArgs) Kind() string { return KindAnalyzeLocation }

// AnalysisResult is what an analyze_location job records when it completes.
type AnalysisResult struct {
	AnalysisID string `json:"analysis_id"`
	Reused     bool   `json:"reused"`
}

// EnqueueAnalyzeLocation enqueues an analysis of a location and returns the job. With tx, the job is
// inserted in that transaction and exists exactly when it commits; without, it is committed at once.
//
// On SQLite the queue shares the store's single writer connection: with a nil tx, call it while
// holding no transaction of the store (InTx), or the insert waits for that transaction's connection
// until the statement timeout. Pass the store's transaction instead (store.Tx.SQL().Tx).
func (q *Queue) EnqueueAnalyzeLocation(ctx context.Context, tx *sql.Tx, args AnalyzeLocationArgs) (Job, error) {
	if args.AccountID == "" || args.LocationID == "" || args.Scope == "" {
		return Job{}, errors.New("enqueue analyze_location: account, location and scope are required")
	}
	var (
		res *rivertype.JobInsertResult
		err error
	)
	if tx != nil {
		res, err = q.client.InsertTx(ctx, tx, args, nil)
	} else {
		res, err = q.client.Insert(ctx, args, nil)
	}
	if err != nil {
		return Job{}, fmt.Errorf("enqueue analyze_location: %w", unavailable(err))
	}
	return toJob(res.Job), nil
}

// analyzeWorker works analyze_location jobs.
type analyzeWorker struct {
	river.WorkerDefaults[AnalyzeLocationArgs]
	analyzer LocationAnalyzer
}

// Work analyses the location and records the analysis as the job's output.
func (w *analyzeWorker) Work(ctx context.Context, job *river.Job[AnalyzeLocationArgs]) error {
	if err := beforeAnalyze(ctx, job.Attempt); err != nil {
		return err
	}
	a := job.Args
	id, reused, err := w.analyzer.AnalyzeStored(ctx, a.AccountID, a.LocationID, a.Scope, a.WorkflowID)
	if errors.Is(err, ErrPermanent) {
		return river.JobCancel(fmt.Errorf("analyze location %s: %w", a.LocationID, err))
	}
	if err != nil {
		return fmt.Errorf("analyze location %s: %w", a.LocationID, err)
	}
	if err := river.RecordOutput(ctx, AnalysisResult{AnalysisID: id, Reused: reused}); err != nil {
		return fmt.Errorf("record analysis %s: %w", id, err)
	}
	return nil
}

// EnvTestAnalyzeDelay names the variable that, in a binary built with the jobtest tag, makes every
// attempt of an analyze_location job wait that long (a Go duration) before it analyses, so that the
// end-to-end tests can kill the process while a job runs. The service's binary is built without
// the tag and never reads it (see hook_jobtest.go).
const EnvTestAnalyzeDelay = "GHLD_JOBTEST_ANALYZE_DELAY"

// beforeAnalyze runs before every attempt of an analyze_location job. It does nothing in the
// service; a build with the jobtest tag makes it wait (see hook_jobtest.go), so that the end-to-end
// tests can kill a process while a job runs.
var beforeAnalyze = func(context.Context, int) error { return nil }
