package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// JobQueue is the background job queue; *jobs.Queue implements it. Its Get and List return
// store.ErrNotFound for another account's job, store.ErrInvalidCursor for a cursor it did not
// issue, and store.ErrUnavailable when the database does not answer, which the error handler turns
// into the usual problems.
type JobQueue interface {
	EnqueueAnalyzeLocation(ctx context.Context, tx *sql.Tx, args jobs.AnalyzeLocationArgs) (jobs.Job, error)
	EnqueueGHLSync(ctx context.Context, args jobs.GHLSyncArgs) (jobs.Job, error)
	Get(ctx context.Context, accountID, id string) (jobs.Job, error)
	List(ctx context.Context, accountID, state, cursor string, limit int) ([]jobs.Job, string, error)
	Stats(ctx context.Context) (jobs.Stats, error)
}

var (
	_ JobQueue              = (*jobs.Queue)(nil)
	_ jobs.LocationAnalyzer = (*JobAnalyzer)(nil)
)

// Default thresholds above which a location is analysed in the background (Config.AsyncWorkflows
// and Config.AsyncSteps).
const (
	DefaultAsyncWorkflows = 200
	DefaultAsyncSteps     = 5000
)

// JobAnalyzer does the analyze_location jobs with the server's own synchronous path (locationJob
// and run), so that a job stores exactly what the request would have, reuse by content hash
// included. The queue is created before the handler and the handler needs the queue, so the
// analyzer is created first (NewJobAnalyzer), given to the queue, and bound to its server by
// NewHandler (Config.JobAnalyzer).
type JobAnalyzer struct {
	srv    atomic.Pointer[Server]
	logger *slog.Logger
}

// NewJobAnalyzer returns an analyzer to bind with Config.JobAnalyzer; logger receives the internal
// errors of failed attempts, which the job itself shows only summarised.
func NewJobAnalyzer(logger *slog.Logger) *JobAnalyzer { return &JobAnalyzer{logger: logger} }

// AnalyzeStored implements jobs.LocationAnalyzer: it analyses the account's location (scope location
// or workflow, with workflowID) as POST /v1/locations/{id}/analyses does, stores the result, and
// reports the analysis and whether it was stored already. The job's budget of analyses per hour
// was taken when it was accepted (see analyzeLater), so this path never takes it again.
//
// Its errors are what GET /v1/jobs/{id} shows, so they carry no internals: an error the request
// would have answered with 4xx (the location, workflow or account is gone, the location has no
// workflows) wraps jobs.ErrPermanent, so the job is not tried again; any other is summarised (the
// database was unavailable, the analysis timed out), and logged in full here.
func (a *JobAnalyzer) AnalyzeStored(ctx context.Context, accountID, locationID, scope, workflowID string) (string, bool, error) {
	s := a.srv.Load()
	if s == nil {
		return "", false, errors.New("the analyzer is not bound to a server")
	}
	an, reused, err := s.analyzeStored(ctx, accountID, locationID, scope, workflowID)
	if err != nil {
		if a.logger != nil {
			a.logger.WarnContext(ctx, "background analysis failed", slog.String("account_id", accountID),
				slog.String("location_id", locationID), slog.String("error", err.Error()))
		}
		return "", false, publicJobError(err)
	}
	return an.ID, reused, nil
}

// analyzeStored is AnalyzeStored on the server.
func (s *Server) analyzeStored(ctx context.Context, accountID, locationID, scope, workflowID string) (store.Analysis, bool, error) {
	account, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return store.Analysis{}, false, fmt.Errorf("read account %s: %w", accountID, err)
	}
	loc, err := s.store.GetLocation(ctx, accountID, locationID)
	if err != nil {
		return store.Analysis{}, false, fmt.Errorf("analyze location %s: %w", locationID, err)
	}
	job, err := s.locationJob(ctx, accountID, loc)
	if err != nil {
		return store.Analysis{}, false, err
	}
	if scope == store.ScopeWorkflow {
		if err := job.narrow(workflowID); err != nil {
			return store.Analysis{}, false, err
		}
	}
	job.prepaid = true
	return s.run(ctx, account, job)
}

// publicJobError is the error a failed attempt shows: the problem's detail for what the request
// would have refused (permanent), a summary otherwise.
func publicJobError(err error) error {
	var p *Problem
	switch {
	case errors.As(err, &p) && p.Status < 500:
		return fmt.Errorf("%w: %s", jobs.ErrPermanent, p.Detail)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: the location, the workflow or the account no longer exists", jobs.ErrPermanent)
	case errors.As(err, &p) && p.Detail != "":
		return errors.New(p.Detail)
	case errors.Is(err, store.ErrUnavailable):
		return errors.New("the database was unavailable; the job will be tried again")
	default:
		return errors.New("internal error; the job will be tried again")
	}
}

// large reports whether a location analysis is large enough to be done in the background: more
// workflows or steps than the thresholds.
func (s *Server) large(input *analyzer.Location) bool {
	if len(input.Workflows) > s.asyncWorkflows {
		return true
	}
	steps := 0
	for _, w := range input.Workflows {
		steps += len(w.Steps)
	}
	return steps > s.asyncSteps
}

// analyzeLater answers an analysis request with a job, 202: unless the caller asked for one
// (async), a stored analysis with the job's key is answered at once instead, as a reuse.
//
// A job that will compute an analysis (none with its key is stored) takes one of the account's
// analyses per hour now, so the caller gets its 429 at once; the job then never takes it again,
// whatever its retries, and keeps it whatever its outcome. A job accepted while an analysis with
// its key is stored takes none.
func (s *Server) analyzeLater(ctx context.Context, account store.Account, job analysisJob, async bool) (gen.AnalyzeLocationResponseObject, error) {
	_, err := s.store.FindAnalysis(ctx, account.ID, job.locationID, job.scope, job.workflowID, job.hash, analyzer.Version)
	stored := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("look up analysis: %w", err)
	}
	if stored && !async {
		return s.analyzeNow(ctx, account, job)
	}
	if !stored {
		if err := s.admitAnalysis(ctx, account); err != nil {
			return nil, err
		}
	}
	j, err := s.jobs.EnqueueAnalyzeLocation(ctx, nil, jobs.AnalyzeLocationArgs{
		AccountID: account.ID, LocationID: job.locationID, Scope: job.scope, WorkflowID: job.workflowID,
	})
	if err != nil {
		if !stored {
			err = errors.Join(err, s.refundAnalysis(ctx, account))
		}
		return nil, err
	}
	return gen.AnalyzeLocation202JSONResponse{
		Body:    toJob(j),
		Headers: gen.AnalyzeLocation202ResponseHeaders{Location: "/v1/jobs/" + j.ID},
	}, nil
}

// analyzeNow runs the analysis in the request and answers 200 (reused) or 201 (stored).
func (s *Server) analyzeNow(ctx context.Context, account store.Account, job analysisJob) (gen.AnalyzeLocationResponseObject, error) {
	a, reused, err := s.run(ctx, account, job)
	if err != nil {
		return nil, err
	}
	if err := s.markStale(ctx, account.ID, &a.AnalysisSummary); err != nil {
		return nil, err
	}
	if reused {
		return gen.AnalyzeLocation200JSONResponse{Body: toAnalysisRun(a, true)}, nil
	}
	return gen.AnalyzeLocation201JSONResponse{
		Body:    toAnalysisRun(a, false),
		Headers: gen.AnalyzeLocation201ResponseHeaders{Location: "/v1/analyses/" + a.ID},
	}, nil
}

// GetJob returns one of the caller's background jobs.
func (s *Server) GetJob(ctx context.Context, req gen.GetJobRequestObject) (gen.GetJobResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if s.jobs == nil {
		return nil, fmt.Errorf("get job %s: no job queue: %w", req.JobId, store.ErrNotFound)
	}
	j, err := s.jobs.Get(ctx, p.Account.ID, req.JobId)
	if err != nil {
		return nil, err
	}
	return gen.GetJob200JSONResponse{Body: toJob(j)}, nil
}

// ListJobs returns one page of the caller's background jobs, newest first.
func (s *Server) ListJobs(ctx context.Context, req gen.ListJobsRequestObject) (gen.ListJobsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := gen.JobList{Items: []gen.Job{}}
	if s.jobs == nil {
		return gen.ListJobs200JSONResponse{Body: out}, nil
	}
	state := ""
	if req.Params.State != nil {
		state = string(*req.Params.State)
	}
	page := toPage(req.Params.Limit, req.Params.Cursor)
	items, next, err := s.jobs.List(ctx, p.Account.ID, state, page.Cursor, page.Limit)
	if err != nil {
		return nil, err
	}
	out.Items = mapSlice(items, toJob)
	if next != "" {
		out.NextCursor = &next
	}
	return gen.ListJobs200JSONResponse{Body: out}, nil
}

// toJob converts a job; its result links to the analysis.
func toJob(j jobs.Job) gen.Job {
	out := gen.Job{
		Id: j.ID, Kind: gen.JobKind(j.Kind), State: gen.JobState(j.State), LocationId: nonEmpty(j.LocationID),
		Attempt: int32(j.Attempt), MaxAttempts: int32(j.MaxAttempts), CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt,
		AttemptedAt: j.AttemptedAt, FinalizedAt: j.FinalizedAt,
	}
	if e := j.LastError; e != nil {
		out.LastError = &gen.JobError{Attempt: int32(e.Attempt), At: e.At, Message: e.Message}
	}
	if r := j.Result; r != nil {
		out.Result = &gen.JobResult{AnalysisId: r.AnalysisID, Url: "/v1/analyses/" + r.AnalysisID, Reused: r.Reused}
	}
	return out
}

// queueHealth reads the job queue for the detailed health check; nil when there is no queue or it
// cannot be read (the database's own state says why).
func (s *Server) queueHealth(ctx context.Context) *gen.JobQueueHealth {
	if s.jobs == nil {
		return nil
	}
	st, err := s.jobs.Stats(ctx)
	if err != nil {
		return nil
	}
	return &gen.JobQueueHealth{
		Running: st.Running, Available: st.Available, Retryable: st.Retryable, Scheduled: st.Scheduled,
		OldestAvailableAgeSeconds: st.OldestAvailableAge.Seconds(),
	}
}
