package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// mustJobsEnv builds the handler with a running job queue over a fresh database on engine; a
// location with more than asyncWorkflows workflows is analysed in the background.
func mustJobsEnv(tb testing.TB, engine string, asyncWorkflows int) *testEnv {
	tb.Helper()
	return mustJobsEnvSteps(tb, engine, asyncWorkflows, 0)
}

// mustJobsEnvSteps is mustJobsEnv with a threshold of steps too (0 for the default).
func mustJobsEnvSteps(tb testing.TB, engine string, asyncWorkflows, asyncSteps int) *testEnv {
	tb.Helper()
	db := storetest.New(tb, engine)
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	analyzer := api.NewJobAnalyzer(logger)
	q, err := jobs.New(jobs.Config{
		DB: db.SQL().DB, Engine: db.Engine(), Logger: logger, Analyzer: analyzer,
		PollInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond,
	})
	require.NoError(tb, err)
	h, err := api.NewHandler(api.Config{
		Store: db, Logger: logger, Version: "v1.2.3-test", MaxBodyBytes: documentBodyBytes,
		Jobs: q, JobAnalyzer: analyzer, AsyncWorkflows: asyncWorkflows, AsyncSteps: asyncSteps,
	})
	require.NoError(tb, err)
	require.NoError(tb, q.Start(context.Background()))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, q.Stop(ctx))
	})
	return &testEnv{db: db, handler: h, logs: logs}
}

// mustAccepted posts an analysis request that must be answered 202 with a job.
func (e *testEnv) mustAccepted(tb testing.TB, key, locationID, body string) gen.Job {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/analyses", key: key, body: body})
	j := mustJSON[gen.Job](tb, rec, http.StatusAccepted)
	require.Equal(tb, "/v1/jobs/"+j.Id, rec.Header().Get("Location"))
	require.Equal(tb, gen.JobKindAnalyzeLocation, j.Kind)
	require.Equal(tb, gen.JobStateAvailable, j.State)
	require.Equal(tb, locationID, *j.LocationId)
	return j
}

// mustJobDone polls the job until it has finished and returns it.
func (e *testEnv) mustJobDone(tb testing.TB, key, id string) gen.Job {
	tb.Helper()
	var j gen.Job
	require.Eventually(tb, func() bool {
		j = mustJSON[gen.Job](tb, e.call(tb, request{method: http.MethodGet, path: "/v1/jobs/" + id, key: key}), http.StatusOK)
		return j.FinalizedAt != nil
	}, 20*time.Second, 100*time.Millisecond, "job %s never finished", id)
	return j
}

// TestAnalyzeLocationInBackground checks the 202 path: a job that stores exactly the analysis the
// synchronous path would (the later request reuses it by content hash), the threshold, and the
// analyses per hour counted once per job.
func TestAnalyzeLocationInBackground(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustJobsEnv(t, engine, 2)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "bgloc", "Background")
		env.mustImport(t, key, loc.Id, bundleDoc) // three workflows, above the threshold of two

		queued := env.mustAccepted(t, key, loc.Id, `{"scope":"location"}`)
		done := env.mustJobDone(t, key, queued.Id)
		require.Equal(t, gen.JobStateCompleted, done.State)
		require.Equal(t, int32(1), done.Attempt)
		require.Nil(t, done.LastError)
		require.NotNil(t, done.Result)
		require.False(t, done.Result.Reused)
		require.Equal(t, "/v1/analyses/"+done.Result.AnalysisId, done.Result.Url)

		stored := mustJSON[gen.Analysis](t, env.call(t, request{method: http.MethodGet, path: done.Result.Url, key: key}), http.StatusOK)
		require.JSONEq(t, string(expectedReport(t, bundleDoc, "bgloc")), string(stored.Report), "the report the synchronous path stores")

		// The same request again finds the stored analysis and answers at once; asked for a job,
		// it gets one that reuses it.
		again := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
		require.Equal(t, stored.Id, again.Id)
		reusing := env.mustAccepted(t, key, loc.Id, `{"scope":"location","async":true}`)
		reused := env.mustJobDone(t, key, reusing.Id)
		require.Equal(t, &gen.JobResult{AnalysisId: stored.Id, Url: "/v1/analyses/" + stored.Id, Reused: true}, reused.Result)

		// A workflow analysis in the background, asked for explicitly.
		wf := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))["wf_noshow"]
		wfJob := env.mustJobDone(t, key, env.mustAccepted(t, key, loc.Id, `{"scope":"workflow","workflowId":"`+wf.Id+`","async":true}`).Id)
		require.Equal(t, gen.JobStateCompleted, wfJob.State)
		wfRun := mustJSON[gen.Analysis](t, env.call(t, request{method: http.MethodGet, path: wfJob.Result.Url, key: key}), http.StatusOK)
		require.Equal(t, wf.Id, *wfRun.WorkflowId)

		// Two analyses were computed (the location's, the workflow's), each counted once.
		me := env.mustMe(t, key)
		require.Equal(t, int32(2), me.Usage.AnalysesThisHour)

		// A small location is analysed in the request unless the caller asks.
		small := env.mustCreateLocation(t, key, "smallloc", "Small")
		env.mustImport(t, key, small.Id, `{"workflows":[`+noShowFixed+`]}`)
		env.mustAnalyze(t, key, small.Id, `{"scope":"location"}`, http.StatusCreated)
	})
}

// TestAnalyzeLocationStepsThreshold checks that a location with more steps than the threshold is
// analysed in the background, whatever its number of workflows.
func TestAnalyzeLocationStepsThreshold(t *testing.T) {
	env := mustJobsEnvSteps(t, store.EngineSQLite, 1000, 2)
	_, key := env.mustAccount(t, "Acme", store.TierPro)
	small := env.mustCreateLocation(t, key, "onestep", "One step")
	env.mustImport(t, key, small.Id, `{"workflows":[`+noShowFixed+`]}`) // one workflow, one step
	env.mustAnalyze(t, key, small.Id, `{"scope":"location"}`, http.StatusCreated)
	steps := env.mustCreateLocation(t, key, "threesteps", "Three steps")
	env.mustImport(t, key, steps.Id, bundleDoc) // three workflows of one step each
	j := env.mustJobDone(t, key, env.mustAccepted(t, key, steps.Id, `{"scope":"location"}`).Id)
	require.Equal(t, gen.JobStateCompleted, j.State)
}

// TestJobsTenantScoped checks that jobs are their account's: another account's job is a 404, the
// lists hold only the caller's jobs, filtered by state and paged.
func TestJobsTenantScoped(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustJobsEnv(t, engine, 1000)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "jobloc", "Jobs")
		env.mustImport(t, key, loc.Id, bundleDoc)
		var ids []string
		for range 3 {
			j := env.mustAccepted(t, key, loc.Id, `{"scope":"location","async":true}`)
			env.mustJobDone(t, key, j.Id)
			ids = append([]string{j.Id}, ids...)
		}

		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs/" + ids[0], key: otherKey}), http.StatusNotFound, "not-found")
		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs/job_987654", key: key}), http.StatusNotFound, "not-found")
		empty := mustJSON[gen.JobList](t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs", key: otherKey}), http.StatusOK)
		require.Empty(t, empty.Items)
		require.Nil(t, empty.NextCursor)

		first := mustJSON[gen.JobList](t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?limit=2", key: key}), http.StatusOK)
		require.Len(t, first.Items, 2)
		require.NotNil(t, first.NextCursor)
		second := mustJSON[gen.JobList](t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?limit=2&cursor=" + *first.NextCursor, key: key}), http.StatusOK)
		require.Nil(t, second.NextCursor)
		require.Equal(t, ids, []string{first.Items[0].Id, first.Items[1].Id, second.Items[0].Id}, "newest first")

		completed := mustJSON[gen.JobList](t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?state=completed", key: key}), http.StatusOK)
		require.Len(t, completed.Items, 3)
		waiting := mustJSON[gen.JobList](t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?state=available", key: key}), http.StatusOK)
		require.Empty(t, waiting.Items)

		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?cursor=bm9wZQ", key: key}), http.StatusBadRequest, "validation-error")
		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs?state=pending", key: key}), http.StatusBadRequest, "validation-error")
		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/jobs/ana_1", key: key}), http.StatusBadRequest, "validation-error")
	})
}

// TestAnalyzeLocationJobPermanentFailure checks that a job whose location is deleted before it runs
// is cancelled, not retried, and shows why without internals.
func TestAnalyzeLocationJobPermanentFailure(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustJobsEnv(t, engine, 1000)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "goneloc", "Gone")
		env.mustImport(t, key, loc.Id, bundleDoc)
		analyzer := api.NewJobAnalyzer(nil)
		_, _, err := analyzer.AnalyzeStored(t.Context(), acc.ID, loc.Id, store.ScopeLocation, "")
		require.Error(t, err, "an analyzer bound to no server refuses")

		require.NoError(t, env.db.DeleteLocation(t.Context(), acc.ID, loc.Id))
		q, err := jobs.New(jobs.Config{DB: env.db.SQL().DB, Engine: env.db.Engine(), Logger: slog.New(slog.DiscardHandler), Analyzer: analyzer})
		require.NoError(t, err)
		queued, err := q.EnqueueAnalyzeLocation(t.Context(), nil, jobs.AnalyzeLocationArgs{AccountID: acc.ID, LocationID: loc.Id, Scope: store.ScopeLocation})
		require.NoError(t, err)
		done := env.mustJobDone(t, key, queued.ID)
		require.Equal(t, gen.JobStateCancelled, done.State)
		require.Equal(t, int32(1), done.Attempt)
		require.Contains(t, done.LastError.Message, "no longer exists")
		require.NotContains(t, done.LastError.Message, "pq:")
	})
}

// TestHealthDetailedQueue checks that the detailed health check shows the job queue.
func TestHealthDetailedQueue(t *testing.T) {
	env := mustJobsEnv(t, store.EngineSQLite, 1000)
	h := mustJSON[gen.HealthDetailed](t, env.call(t, request{method: http.MethodGet, path: "/health/detailed"}), http.StatusOK)
	require.NotNil(t, h.Queue)
	require.Equal(t, gen.JobQueueHealth{}, *h.Queue)
}
