package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// listQueries are the statements River's JobList sends for jobs.Queue.List, per engine: its query
// template (riverdriver's JobList) with the where clause dblist builds, in dblist's order (kinds,
// states, then the custom predicates: the account's, spelled as List spells it, and the cursor's)
// and the order by id descending. The placeholders are the engine's.
var listQueries = map[string]string{
	store.EnginePostgres: `SELECT id, args, attempt, attempted_at, attempted_by, created_at, errors, finalized_at, kind, max_attempts, metadata, priority, queue, state, scheduled_at, tags, unique_key, unique_states
FROM river_job
WHERE kind = any($1)
  AND state = any($2)
  AND (args->>'account_id') = $3
  AND id < $4
ORDER BY id DESC
LIMIT $5::int`,
	store.EngineSQLite: `SELECT id, args, attempt, attempted_at, attempted_by, created_at, errors, finalized_at, kind, max_attempts, metadata, priority, queue, state, scheduled_at, tags, unique_key, unique_states
FROM river_job
WHERE kind IN (SELECT value FROM json_each(cast(? AS blob)))
  AND state IN (SELECT value FROM json_each(cast(? AS blob)))
  AND (args ->> '$.account_id') = ?
  AND id < ?
ORDER BY id DESC
LIMIT ?`,
}

// seedJobs are the statements that fill river_job with 150,000 finished and waiting jobs: 100,000
// analyses of 200 accounts, and 50,000 retention jobs of none.
var seedJobs = map[string][]string{
	store.EnginePostgres: {
		`INSERT INTO river_job (args, kind, state, max_attempts, attempt, created_at, scheduled_at, finalized_at)
SELECT jsonb_build_object('account_id', 'acc_' || (g % 200), 'location_id', 'loc_' || g, 'scope', 'location'), 'analyze_location',
	(CASE WHEN g % 3 = 0 THEN 'available' ELSE 'completed' END)::river_job_state, 5, 1, now(), now(),
	CASE WHEN g % 3 = 0 THEN NULL ELSE now() END
FROM generate_series(1, 100000) g`,
		`INSERT INTO river_job (args, kind, state, max_attempts, attempt, created_at, scheduled_at, finalized_at)
SELECT '{}', 'retention', 'completed', 5, 1, now(), now(), now() FROM generate_series(1, 50000) g`,
		`ANALYZE river_job`,
	},
	store.EngineSQLite: {
		`WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 100000)
INSERT INTO river_job (args, kind, state, max_attempts, attempt, finalized_at)
SELECT jsonb(json_object('account_id', 'acc_' || (g % 200), 'location_id', 'loc_' || g, 'scope', 'location')), 'analyze_location',
	CASE WHEN g % 3 = 0 THEN 'available' ELSE 'completed' END, 5, 1,
	CASE WHEN g % 3 = 0 THEN NULL ELSE datetime('now', 'subsec') END
FROM s`,
		`WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 50000)
INSERT INTO river_job (args, kind, state, max_attempts, attempt, finalized_at)
SELECT jsonb('{}'), 'retention', 'completed', 5, 1, datetime('now', 'subsec') FROM s`,
		`ANALYZE`,
	},
}

// TestListPlan checks on 150,000 jobs that an account's list reads river_job_account_idx in id
// order and stops after the page: no scan of river_job, no sort.
func TestListPlan(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		start := time.Now()
		for _, st := range seedJobs[db.Engine()] {
			_, err := db.SQL().ExecContext(ctx, st)
			require.NoError(t, err, "%s", st)
		}
		t.Logf("seeded 150000 jobs in %s", time.Since(start).Round(time.Millisecond))
		cfg := testConfig(db)
		cfg.Analyzer = &fakeAnalyzer{}
		q := mustNew(t, cfg)

		page, next, err := q.List(ctx, "acc_7", "", "", 10)
		require.NoError(t, err)
		require.Len(t, page, 10)
		require.NotEmpty(t, next)
		for i, j := range page {
			require.Equal(t, "acc_7", j.AccountID)
			if i > 0 {
				n, _ := jobs.ParseID(j.ID)
				prev, _ := jobs.ParseID(page[i-1].ID)
				require.Less(t, n, prev, "newest first")
			}
		}
		waiting, _, err := q.List(ctx, "acc_7", jobs.StateAvailable, next, 10)
		require.NoError(t, err)
		require.NotEmpty(t, waiting)

		after, _ := jobs.ParseID(page[len(page)-1].ID)
		for _, tc := range []struct {
			name   string
			states []string
		}{
			{name: "every state", states: jobs.States},
			{name: "one state", states: []string{jobs.StateAvailable}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				kinds := []string{jobs.KindAnalyzeLocation, jobs.KindGHLSync}
				plan := mustExplain(t, db, listQueries[db.Engine()], listArg(db, kinds), listArg(db, tc.states), "acc_7", after, 11)
				t.Logf("plan:\n%s", plan)
				switch db.Engine() {
				case store.EnginePostgres:
					require.Regexp(t, `Index Scan using river_job_account_idx on river_job`, plan)
					require.NotContains(t, plan, "Seq Scan on river_job")
					require.NotContains(t, plan, "Bitmap")
					require.NotContains(t, plan, "Sort")
				case store.EngineSQLite:
					require.Regexp(t, `(?m)^SEARCH river_job USING INDEX river_job_account_idx \(`, plan)
					require.NotContains(t, plan, "SCAN river_job")
					require.NotContains(t, plan, "TEMP B-TREE")
				}
			})
		}
	})
}

// listArg passes a list as River's drivers do: an array on PostgreSQL, JSON text on SQLite.
func listArg(db *store.DB, values []string) any {
	if db.Engine() == store.EnginePostgres {
		return pq.Array(values)
	}
	return `["` + strings.Join(values, `","`) + `"]`
}

// mustExplain returns the plan of query, one node per line.
func mustExplain(tb testing.TB, db *store.DB, query string, args ...any) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := "EXPLAIN "
	if db.Engine() == store.EngineSQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.SQL().QueryContext(ctx, prefix+query, args...)
	require.NoError(tb, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(tb, err)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(tb, rows.Scan(ptrs...))
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	require.NoError(tb, rows.Err())
	return strings.Join(lines, "\n")
}
