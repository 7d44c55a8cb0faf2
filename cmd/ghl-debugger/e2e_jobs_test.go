package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// jobtestBinary builds, once, the binary with the jobtest tag: every analyze_location attempt waits
// jobs.EnvTestAnalyzeDelay before it analyses (pkg/jobs/hook_jobtest.go), so that a test can kill
// the process while a job runs. The service's binary (binPath) has no such hook.
var jobtestBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ghl-debugger-jobtest-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ghl-debugger")
	build := exec.Command("go", "build", "-tags", "jobtest", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags jobtest: %w\n%s", err, out)
	}
	return bin, nil
})

// mustLaunchJobtest starts serve from the jobtest binary, like mustLaunch.
func mustLaunchJobtest(tb testing.TB, env map[string]string) *process {
	tb.Helper()
	bin, err := jobtestBinary()
	require.NoError(tb, err)
	cmd := command(env, "serve", "--addr", "127.0.0.1:0")
	cmd.Path, cmd.Args[0] = bin, bin
	p := mustStartCmd(tb, cmd)
	p.mustListen(tb)
	return p
}

// mustPollJob polls GET /v1/jobs/{id} every 100 ms until done says so, for up to timeout.
func (c client) mustPollJob(tb testing.TB, id string, timeout time.Duration, done func(gen.Job) bool) gen.Job {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var j gen.Job
		c.mustDo(tb, http.MethodGet, "/v1/jobs/"+id, "", http.StatusOK, &j)
		if done(j) {
			return j
		}
		if time.Now().After(deadline) {
			tb.Fatalf("job %s still %s after %s: %+v", id, j.State, timeout, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestJobSurvivesSIGKILL is the proof of durability, on each engine: a process is killed
// with SIGKILL while an analysis job runs (slowed by the jobtest hook); a new process on the same
// database rescues the job, once River's rescuer sees it running longer than GHLD_JOBS_RESCUE_AFTER
// (here 6 s instead of 10 min; the new process must first wait for the dead one's leadership to
// expire, about 15 s), runs it again and completes it, storing the analysis once.
func TestJobSurvivesSIGKILL(t *testing.T) {
	bundle, err := os.ReadFile(brokenAccount)
	require.NoError(t, err)
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			databaseURL, dataDir := storetest.DSN(t, engine)
			env := map[string]string{
				"DATABASE_URL":                databaseURL,
				"GHLD_DATA_DIR":               dataDir,
				"GHLD_MAX_STEPS_PER_WORKFLOW": fmt.Sprint(e2eMaxSteps),
				jobs.EnvTestAnalyzeDelay:      "3s",
				"GHLD_JOBS_TIMEOUT":           "5s",
				"GHLD_JOBS_RESCUE_AFTER":      "6s",
				"GHLD_JOBS_RETRY_BACKOFF":     "100ms",
				"GHLD_JOBS_POLL_INTERVAL":     "100ms",
				"GHLD_RETENTION_INTERVAL":     "1h",
				"GHLD_SHUTDOWN_TIMEOUT":       "10s",
				"GHLD_JOBS_ASYNC_WORKFLOWS":   "1000",
			}
			first := mustLaunchJobtest(t, env)
			key := keyPattern.FindString(first.stdout.String())
			require.NotEmpty(t, key, "no admin key on stdout:\n%s", first.stdout)
			admin := client{base: first.baseURL, key: key}
			var loc gen.Location
			admin.mustDo(t, http.MethodPost, "/v1/locations", `{"ghlLocationId":"killed","name":"Killed"}`, http.StatusCreated, &loc)
			admin.mustDo(t, http.MethodPost, "/v1/locations/"+loc.Id+"/workflows", string(bundle), http.StatusCreated, nil)

			var queued gen.Job
			admin.mustDo(t, http.MethodPost, "/v1/locations/"+loc.Id+"/analyses", `{"scope":"location","async":true}`, http.StatusAccepted, &queued)
			admin.mustPollJob(t, queued.Id, 30*time.Second, func(j gen.Job) bool { return j.State == gen.JobStateRunning })
			require.NoError(t, first.cmd.Process.Kill()) // SIGKILL: no shutdown, the job's row stays running
			<-first.exited

			second := mustLaunchJobtest(t, env)
			t.Cleanup(func() { second.mustStop(t) })
			admin.base = second.baseURL
			done := admin.mustPollJob(t, queued.Id, 90*time.Second, func(j gen.Job) bool { return j.FinalizedAt != nil })
			require.Equal(t, gen.JobStateCompleted, done.State, "%+v", done)
			require.Equal(t, int32(2), done.Attempt, "the killed attempt and the one that completed")
			require.NotNil(t, done.LastError, "the rescue is recorded as the first attempt's error")
			require.NotNil(t, done.Result)
			require.False(t, done.Result.Reused)
			var a gen.Analysis
			admin.mustDo(t, http.MethodGet, done.Result.Url, "", http.StatusOK, &a)
			var history gen.AnalysisList
			admin.mustDo(t, http.MethodGet, "/v1/locations/"+loc.Id+"/analyses", "", http.StatusOK, &history)
			require.Len(t, history.Items, 1, "stored once")
		})
	}
}

// TestPeriodicJobOncePerPeriod is the proof that periodic jobs run on one instance: two
// server processes on one PostgreSQL database, with a retention period of two seconds, enqueue and
// run one retention job per period between them, not one each.
func TestPeriodicJobOncePerPeriod(t *testing.T) {
	if !slices.Contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set: two instances share PostgreSQL only", storetest.EnvDatabaseURL)
	}
	databaseURL, _ := storetest.DSN(t, store.EnginePostgres)
	const period = 2 * time.Second
	env := map[string]string{
		"DATABASE_URL":            databaseURL,
		"GHLD_RETENTION_INTERVAL": period.String(),
		"GHLD_JOBS_POLL_INTERVAL": "100ms",
	}
	procs := []*process{mustLaunch(t, env), mustLaunch(t, env)}
	for _, p := range procs {
		p.mustListen(t)
	}
	time.Sleep(10 * period)
	for _, p := range procs {
		p.mustStop(t)
	}

	db, err := sql.Open("postgres", databaseURL)
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT scheduled_at, state, attempt FROM river_job WHERE kind = 'retention' ORDER BY scheduled_at`)
	require.NoError(t, err)
	defer rows.Close()
	var (
		at     []time.Time
		states []string
	)
	for rows.Next() {
		var (
			scheduled time.Time
			state     string
			attempt   int
		)
		require.NoError(t, rows.Scan(&scheduled, &state, &attempt))
		require.LessOrEqual(t, attempt, 1, "none ran twice")
		at, states = append(at, scheduled), append(states, state)
	}
	require.NoError(t, rows.Err())
	// Every job ran, except perhaps the last, enqueued as the instances stopped.
	for i, s := range states[:max(0, len(states)-1)] {
		require.Equal(t, "completed", s, "job %d of %v", i, states)
	}
	// About one job per period of the ten, on either instance, not two per period.
	require.GreaterOrEqual(t, len(at), 7, "scheduled at %v", at)
	require.LessOrEqual(t, len(at), 12, "scheduled at %v", at)
	buckets := map[int64]int{}
	for _, t := range at {
		buckets[t.UnixNano()/int64(period)]++
	}
	for b, n := range buckets {
		require.Equal(t, 1, n, "period %d has %d retention jobs: %v", b, n, at)
	}
}
