package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// TestRetentionOnLargeHistory runs the retention on the generated history of the plans test
// (100,000 analyses on PostgreSQL, seeded with generate_series; 10,000 on SQLite) and requires
// exactly the expected deletions: first of the analyses older than a cut-off in the middle of the
// history, none of which a rule keeps; then of every analysis, which leaves each location's last
// ten (the seed's newest location analysis and, per analysed workflow, the newest analysis that
// covered it). It then checks the plans of the retention's statements, and that the history queries
// still read their indexes.
func TestRetentionOnLargeHistory(t *testing.T) {
	sizes := map[string]historySeed{
		store.EnginePostgres: {locations: 10, perLocation: 10_000, analysed: 10, workflows: 3_000},
		store.EngineSQLite:   {locations: 5, perLocation: 2_000, analysed: 10, workflows: 20},
	}
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			db := storetest.New(t, engine)
			acc := mustCreateAccount(t, db, "Acme Agency") // free
			s := sizes[engine]
			start := time.Now()
			h := mustSeedHistory(t, db, acc.ID, s)
			total := s.locations * s.perLocation
			require.Equal(t, total, mustCount(t, db, "analyses"))
			t.Logf("seeded %d analyses in %s", total, time.Since(start).Round(time.Millisecond))

			// The statements' plans on the whole history, for a batch as the walk reads it: the first.
			cutoff := s.at(1, s.perLocation/2)
			t.Run("retention plans", func(t *testing.T) {
				var keys []struct {
					CreatedAt time.Time `db:"created_at"`
					ID        string    `db:"id"`
				}
				require.NoError(t, db.SQL().SelectContext(ctx, &keys, store.Rebind(db, store.QueryRetentionKeys),
					time.Time{}, "", cutoff, store.DefaultRetentionBatch))
				require.Len(t, keys, store.DefaultRetentionBatch)
				plan := mustExplain(t, db, store.QueryRetentionKeys, time.Time{}, "", cutoff, store.DefaultRetentionBatch)
				t.Logf("keys plan:\n%s", plan)
				requireNoTableScan(t, db, plan)
				switch engine {
				case store.EnginePostgres:
					require.Regexp(t, `Index (Only )?Scan using analyses_created_idx on analyses`, plan)
					require.NotContains(t, plan, "Sort")
				case store.EngineSQLite:
					require.Contains(t, plan, "USING COVERING INDEX analyses_created_idx")
				}
				last := keys[len(keys)-1]
				plan = mustExplain(t, db, store.QueryRetentionDelete, time.Time{}, "", last.CreatedAt, last.ID, cutoff, cutoff, time.Time{})
				t.Logf("delete plan:\n%s", plan)
				requireNoTableScan(t, db, plan)
				if engine == store.EnginePostgres {
					require.Regexp(t, `Index (Only )?Scan using analyses_created_idx on analyses a `, plan)
					require.Regexp(t, `Index (Only )?Scan using analyses_location_scope_idx on analyses n`, plan,
						"the newest location analysis is the first of its location's")
				}
			})

			// The clock stands a day after the middle of the history, with a retention of one day.
			middle := s.at(1, s.perLocation/2)
			now := middle.Add(24 * time.Hour)
			store.SetClock(db, func() time.Time { return now })
			older := 0
			for l := 1; l <= s.locations; l++ {
				for k := range s.perLocation {
					if s.at(l, k).Before(middle) {
						older++
					}
				}
			}
			start = time.Now()
			res, err := db.DeleteExpiredAnalyses(ctx, store.Retention{Free: 24 * time.Hour}, 0)
			require.NoError(t, err)
			t.Logf("deleted %d of %d analyses in %d batches in %s", res.Deleted, total, res.Batches, time.Since(start).Round(time.Millisecond))
			require.Equal(t, older, res.Deleted)
			require.Equal(t, older, res.Scanned)
			require.Equal(t, total-older, mustCount(t, db, "analyses"))
			var stale int
			require.NoError(t, db.SQL().GetContext(ctx, &stale, store.Rebind(db,
				`SELECT count(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM analyses a WHERE a.id = f.analysis_id)`)))
			require.Zero(t, stale, "the findings went with their analyses")

			// The new index leaves the history queries on theirs, on what remains.
			if engine == store.EnginePostgres {
				_, err := db.SQL().ExecContext(ctx, `VACUUM ANALYZE analyses, findings, analysis_workflows, workflows`)
				require.NoError(t, err)
			}
			for _, v := range historyVariants(s, h) {
				t.Run("history plan/"+v.name, func(t *testing.T) {
					query, args, err := store.HistoryQuery(acc.ID, h.locationID, v.filter, store.Page{})
					require.NoError(t, err)
					requireIndexedPlan(t, db, v.index, query, args...)
				})
			}

			// Now everything is past its retention; the rules keep each location's last ten.
			now = s.at(s.locations, s.perLocation).Add(48 * time.Hour)
			start = time.Now()
			res, err = db.DeleteExpiredAnalyses(ctx, store.Retention{Free: 24 * time.Hour}, 0)
			require.NoError(t, err)
			t.Logf("deleted %d more in %d batches in %s", res.Deleted, res.Batches, time.Since(start).Round(time.Millisecond))
			require.Equal(t, total-older-10*s.locations, res.Deleted)
			require.Equal(t, 10*s.locations, mustCount(t, db, "analyses"))
			history, _, err := db.ListAnalyses(ctx, acc.ID, h.locationID, store.HistoryFilter{}, store.Page{Limit: 20})
			require.NoError(t, err)
			require.Len(t, history, 10)
			for i, a := range history {
				require.Equal(t, s.at(1, s.perLocation-1-i), a.CreatedAt, "the location's newest ten remain")
			}
			for _, id := range []string{h.rareWorkflowID, h.commonWorkflowID} {
				require.NotNil(t, mustGetWorkflow(t, db, acc.ID, h.locationID, id).LastAnalysis, "workflow %s keeps its last analysis", id)
			}

		})
	}
}

// requireNoTableScan fails when plan reads a whole table of scannedTables.
func requireNoTableScan(tb testing.TB, db *store.DB, plan string) {
	tb.Helper()
	for _, table := range scannedTables {
		switch db.Engine() {
		case store.EnginePostgres:
			require.NotContains(tb, plan, "Seq Scan on "+table+" ")
		case store.EngineSQLite:
			for _, line := range strings.Split(plan, "\n") {
				require.False(tb, line == "SCAN "+table || strings.HasPrefix(line, "SCAN "+table+" "), "%s is scanned whole:\n%s", table, plan)
			}
		}
	}
}
