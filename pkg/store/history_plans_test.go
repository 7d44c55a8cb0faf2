package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// historySeed sizes a generated history. Analyses of the locations interleave in time, one second
// apart. In each location, the k-th analysis covers every analysed workflow when k is a multiple
// of 10 (scope location) and otherwise workflow k mod analysed (scope workflow), so workflow 0 is in
// a tenth of the history and the others in about a tenth more each. It has errors when k mod 7 is 3,
// warnings when k mod 3 is 1 and infos when k is even; k mod 4 findings of rules WD001..WD040 (plus
// one repeat of the first when that is 3) and, when k is a multiple of 500, one of the rare WD099.
type historySeed struct {
	locations   int
	perLocation int // a multiple of 10
	analysed    int // workflows per location that analyses cover
	workflows   int // workflows per location, at least analysed
}

// seedHistoryBase is the time of the generated history's first second.
var seedHistoryBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns the time of the k-th analysis of location l (1-based), as the seed writes it.
func (s historySeed) at(l, k int) time.Time {
	return seedHistoryBase.Add(time.Duration(k*s.locations+l) * time.Second)
}

// seedDialect writes the engine-specific parts of the seed's SQL. Every function takes and returns
// SQL expressions.
type seedDialect struct {
	series func(n int) string            // a CTE s(g) of g = 1..n
	id     func(prefix, n string) string // a well-formed id, distinct per n
	hash   func(n string) string         // 64 hex digits, distinct per n
	at     func(n string) string         // the base time plus n seconds
	rule   func(n string) string         // WD and n in three digits
	json   func(text string) string      // text as a JSON column value
}

var seedDialects = map[string]seedDialect{
	store.EnginePostgres: {
		series: func(n int) string { return fmt.Sprintf(`s(g) AS (SELECT generate_series(1, %d))`, n) },
		// Hex digits 0, 1, 8 and 9 are not in the ids' base32 alphabet; w, x, y, z stand for them,
		// and the padding q is neither.
		id: func(prefix, n string) string {
			return fmt.Sprintf(`'%s' || lpad(translate(to_hex(%s), '0189', 'wxyz'), 20, 'q')`, prefix, n)
		},
		hash: func(n string) string { return fmt.Sprintf(`lpad(to_hex(%s), 64, '0')`, n) },
		at: func(n string) string {
			return fmt.Sprintf(`(timestamptz '%s' + (%s) * interval '1 second')`, seedHistoryBase.Format("2006-01-02 15:04:05Z07:00"), n)
		},
		rule: func(n string) string { return fmt.Sprintf(`'WD' || lpad((%s)::text, 3, '0')`, n) },
		json: func(text string) string { return fmt.Sprintf(`(%s)::json`, text) },
	},
	store.EngineSQLite: {
		series: func(n int) string {
			return fmt.Sprintf(`s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %d)`, n)
		},
		id: func(prefix, n string) string {
			return fmt.Sprintf(`'%s' || substr('qqqqqqqqqqqqqqqqqqqq' || replace(replace(replace(replace(printf('%%x', %s), '0', 'w'), '1', 'x'), '8', 'y'), '9', 'z'), -20)`, prefix, n)
		},
		hash: func(n string) string { return fmt.Sprintf(`printf('%%064x', %s)`, n) },
		// The format is the one the driver writes (_time_format=sqlite, whole seconds), so that the
		// seeded times compare as text with the ones the store binds.
		at: func(n string) string {
			return fmt.Sprintf(`strftime('%%Y-%%m-%%d %%H:%%M:%%S+00:00', '%s', '+' || (%s) || ' seconds')`, seedHistoryBase.Format("2006-01-02 15:04:05"), n)
		},
		rule: func(n string) string { return fmt.Sprintf(`printf('WD%%03d', %s)`, n) },
		json: func(text string) string { return text },
	},
}

// seededHistory names what mustSeedHistory wrote into the first location.
type seededHistory struct {
	locationID string
	// rareWorkflowID is covered by location analyses only; commonWorkflowID also by its own.
	rareWorkflowID, commonWorkflowID string
}

// mustSeedHistory generates s for the account in SQL, with generate_series on PostgreSQL and a
// recursive CTE on SQLite, then refreshes the planner's statistics.
func mustSeedHistory(tb testing.TB, db *store.DB, accountID string, s historySeed) seededHistory {
	tb.Helper()
	require.Zero(tb, s.perLocation%10)
	require.GreaterOrEqual(tb, s.workflows, s.analysed)
	d := seedDialects[db.Engine()]
	with := "WITH "
	if db.Engine() == store.EngineSQLite {
		with = "WITH RECURSIVE "
	}
	numbers := func(name string, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("SELECT %d AS %s", i, name)
		}
		return strings.Join(parts, " UNION ALL ")
	}
	r := strings.NewReplacer("{L}", fmt.Sprint(s.locations), "{W}", fmt.Sprint(s.analysed), "{WL}", fmt.Sprint(s.workflows),
		"{N}", fmt.Sprint(s.perLocation), "{acc}", accountID)
	// x numbers the analyses: g overall, l its location, k its rank in the location; sev is the
	// analysis's max severity, as the counts below make it.
	analysesX := `x AS (SELECT g, (g - 1) % {L} + 1 AS l, (g - 1) / {L} AS k,
	CASE WHEN (g - 1) / {L} % 7 = 3 THEN 3 WHEN (g - 1) / {L} % 3 = 1 THEN 2 WHEN (g - 1) / {L} % 2 = 0 THEN 1 ELSE 0 END AS sev
	FROM s)`
	analysedWorkflow := d.id("wfl_", "(l - 1) * {WL} + k % {W} + 1")
	statements := []string{
		with + d.series(s.locations) + `
INSERT INTO locations (id, account_id, ghl_location_id, name, timezone, created_at, updated_at)
SELECT ` + d.id("loc_", "g") + `, '{acc}', 'bench-' || g, 'Bench ' || g, '', ` + d.at("g") + `, ` + d.at("g") + ` FROM s`,

		with + d.series(s.locations*s.perLocation) + `, ` + analysesX + `,
y AS (SELECT g, l, k, sev, CASE WHEN k % 7 = 3 THEN 1 ELSE 0 END AS e, CASE WHEN k % 3 = 1 THEN 1 ELSE 0 END AS w,
	CASE WHEN k % 2 = 0 THEN 1 ELSE 0 END AS i FROM x),
z AS (SELECT g, l, k, sev, e, w, i, 100 - 20 * e - 5 * w - i AS sc FROM y)
INSERT INTO analyses (id, account_id, location_id, scope, workflow_id, content_hash, analyzer_version, grade, score,
	errors, warnings, infos, max_severity, created_at, report)
SELECT ` + d.id("ana_", "g") + `, '{acc}', ` + d.id("loc_", "l") + `,
	CASE WHEN k % 10 = 0 THEN 'location' ELSE 'workflow' END,
	CASE WHEN k % 10 = 0 THEN NULL ELSE ` + analysedWorkflow + ` END,
	` + d.hash("g") + `, '1.0.0', CASE WHEN sc >= 90 THEN 'A' WHEN sc >= 80 THEN 'B' ELSE 'C' END, sc, e, w, i,
	sev, ` + d.at("g") + `,
	` + d.json(`'{"seed": ' || g || ', "findings": []}'`) + `
FROM z`,

		with + d.series(s.locations*s.perLocation) + `, ` + analysesX + `, js AS (` + numbers("j", 5) + `)
INSERT INTO findings (analysis_id, ordinal, location_id, created_at, rule_id, severity, workflow_id, step_id, first_of_rule,
	analysis_max_severity)
SELECT ` + d.id("ana_", "g") + `, j, ` + d.id("loc_", "l") + `, ` + d.at("g") + `,
	CASE WHEN j = 4 THEN 'WD099' ELSE ` + d.rule("(k * 7 + (CASE WHEN j = 3 THEN 0 ELSE j END) * 13) % 40 + 1") + ` END,
	CASE j WHEN 0 THEN 'warning' WHEN 1 THEN 'info' ELSE 'error' END,
	'ghl-' || ((l - 1) * {WL} + k % {W} + 1), 'step-' || j, j <> 3, sev
FROM x CROSS JOIN js
WHERE (j < 3 AND j < k % 4) OR (j = 3 AND k % 4 = 3) OR (j = 4 AND k % 500 = 0)`,

		with + d.series(s.locations*s.perLocation) + `, ` + analysesX + `, ws AS (` + numbers("w", s.analysed) + `)
INSERT INTO analysis_workflows (analysis_id, workflow_id, location_id, created_at, score, grade, errors, warnings, infos,
	analysis_max_severity)
SELECT ` + d.id("ana_", "g") + `, ` + d.id("wfl_", "(l - 1) * {WL} + w + 1") + `, ` + d.id("loc_", "l") + `, ` + d.at("g") + `,
	90, 'A', 0, 0, 1, sev
FROM x CROSS JOIN ws
WHERE k % 10 = 0 OR w = k % {W}`,

		// The analysed workflows' last analysis is their location's last location analysis.
		with + d.series(s.locations*s.workflows) + `,
x AS (SELECT g, (g - 1) / {WL} + 1 AS l, (g - 1) % {WL} AS wi, ({N} - 10) * {L} + (g - 1) / {WL} + 1 AS lastg FROM s)
INSERT INTO workflows (id, location_id, ghl_workflow_id, name, status, dialect, ghl_version, steps, last_analysis_id,
	last_score, last_grade, last_errors, last_warnings, last_infos, last_analyzed_at, created_at, updated_at, normalized, raw)
SELECT ` + d.id("wfl_", "g") + `, ` + d.id("loc_", "l") + `, 'ghl-' || g, 'Workflow ' || g,
	CASE WHEN g % 2 = 0 THEN 'published' ELSE 'draft' END, 'normalized', 1, 5,
	CASE WHEN wi < {W} THEN ` + d.id("ana_", "lastg") + ` END, CASE WHEN wi < {W} THEN 90 END,
	CASE WHEN wi < {W} THEN 'A' END, CASE WHEN wi < {W} THEN 0 END, CASE WHEN wi < {W} THEN 0 END,
	CASE WHEN wi < {W} THEN 1 END, CASE WHEN wi < {W} THEN ` + d.at("lastg") + ` END,
	` + d.at("g") + `, ` + d.at("g") + `, ` + d.json(`'{"id": "ghl-' || g || '"}'`) + `, NULL
FROM x`,
	}
	// Refresh the statistics, and on PostgreSQL the visibility map too (which lets index-only scans
	// skip the table), as autovacuum does after a bulk of inserts. The tables are named so that only
	// the test's schema is vacuumed, not every schema of the shared database.
	if db.Engine() == store.EnginePostgres {
		statements = append(statements, `VACUUM ANALYZE locations, analyses, findings, analysis_workflows, workflows`)
	} else {
		statements = append(statements, `ANALYZE`)
	}
	ctx := tb.Context()
	for _, st := range statements {
		_, err := db.SQL().ExecContext(ctx, r.Replace(st))
		require.NoError(tb, err, "%s", r.Replace(st))
	}

	var out seededHistory
	q := func(dest *string, query string, args ...any) {
		require.NoError(tb, db.SQL().GetContext(ctx, dest, store.Rebind(db, query), args...))
	}
	q(&out.locationID, `SELECT id FROM locations WHERE account_id = ? AND ghl_location_id = 'bench-1'`, accountID)
	q(&out.rareWorkflowID, `SELECT id FROM workflows WHERE location_id = ? AND ghl_workflow_id = 'ghl-1'`, out.locationID)
	q(&out.commonWorkflowID, `SELECT id FROM workflows WHERE location_id = ? AND ghl_workflow_id = 'ghl-4'`, out.locationID)
	return out
}

// historyVariant is one shape of the history query.
type historyVariant struct {
	name   string
	filter store.HistoryFilter
	// index is the index that must lead the plan.
	index string
}

// historyVariants returns every shape of the history query on the seeded history: no filter, each
// filter alone, and combinations. The time range spans the middle half of the location's history.
func historyVariants(s historySeed, h seededHistory) []historyVariant {
	since, until := s.at(1, s.perLocation/4), s.at(1, 3*s.perLocation/4)
	return []historyVariant{
		{name: "none", index: "analyses_location_created_idx"},
		{name: "workflow rare", filter: store.HistoryFilter{WorkflowID: h.rareWorkflowID}, index: "analysis_workflows_history_idx"},
		{name: "workflow common", filter: store.HistoryFilter{WorkflowID: h.commonWorkflowID}, index: "analysis_workflows_history_idx"},
		{name: "rule", filter: store.HistoryFilter{RuleID: "WD008"}, index: "findings_location_rule_idx"},
		{name: "rule rare", filter: store.HistoryFilter{RuleID: "WD099"}, index: "findings_location_rule_idx"},
		{name: "severity info", filter: store.HistoryFilter{MinSeverity: 1}, index: "analyses_location_info_idx"},
		{name: "severity warning", filter: store.HistoryFilter{MinSeverity: 2}, index: "analyses_location_warning_idx"},
		{name: "severity error", filter: store.HistoryFilter{MinSeverity: 3}, index: "analyses_location_error_idx"},
		{name: "since", filter: store.HistoryFilter{Since: &since}, index: "analyses_location_created_idx"},
		{name: "until", filter: store.HistoryFilter{Until: &until}, index: "analyses_location_created_idx"},
		{name: "since and until", filter: store.HistoryFilter{Since: &since, Until: &until}, index: "analyses_location_created_idx"},
		{name: "workflow and rule", filter: store.HistoryFilter{WorkflowID: h.commonWorkflowID, RuleID: "WD008"}, index: "findings_location_rule_idx"},
		{name: "workflow and severity", filter: store.HistoryFilter{WorkflowID: h.commonWorkflowID, MinSeverity: 2}, index: "analysis_workflows_history_idx"},
		{name: "rule and severity", filter: store.HistoryFilter{RuleID: "WD008", MinSeverity: 3}, index: "findings_location_rule_idx"},
		{name: "severity and time", filter: store.HistoryFilter{MinSeverity: 3, Since: &since, Until: &until}, index: "analyses_location_error_idx"},
		{name: "all", filter: store.HistoryFilter{WorkflowID: h.commonWorkflowID, RuleID: "WD008", MinSeverity: 2, Since: &since, Until: &until},
			index: "findings_location_rule_idx"},
	}
}

// TestHistoryQueryPlans checks on a large generated history that every shape of the history query,
// the workflow list and the analysis lookup read indexes in order: no table scan of analyses,
// findings, analysis_workflows or workflows, and no sort. PostgreSQL gets 100,000 analyses; SQLite,
// which has no cost-based choice between a scan and an index to trip on, a tenth of that.
func TestHistoryQueryPlans(t *testing.T) {
	sizes := map[string]historySeed{
		store.EnginePostgres: {locations: 10, perLocation: 10_000, analysed: 10, workflows: 3_000},
		store.EngineSQLite:   {locations: 5, perLocation: 2_000, analysed: 10, workflows: 400},
	}
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			db := storetest.New(t, engine)
			acc := mustCreateAccount(t, db, "Acme Agency")
			s := sizes[engine]
			start := time.Now()
			h := mustSeedHistory(t, db, acc.ID, s)
			t.Logf("seeded %d analyses, %d findings, %d per-workflow results, %d workflows in %s",
				mustCount(t, db, "analyses"), mustCount(t, db, "findings"), mustCount(t, db, "analysis_workflows"),
				mustCount(t, db, "workflows"), time.Since(start).Round(time.Millisecond))
			require.Equal(t, s.locations*s.perLocation, mustCount(t, db, "analyses"))

			// The cursor after the analysis just before the middle of the location's history, for the
			// deep pages: a cursor names a position, whichever filter the page that issued it had.
			middle := s.at(1, s.perLocation/2)
			page, deep, err := db.ListAnalyses(ctx, acc.ID, h.locationID, store.HistoryFilter{Until: &middle}, store.Page{Limit: 1})
			require.NoError(t, err)
			require.NotEmpty(t, deep)

			for _, v := range historyVariants(s, h) {
				for _, p := range []struct {
					name string
					page store.Page
				}{{name: "first page", page: store.Page{}}, {name: "deep page", page: store.Page{Cursor: deep}}} {
					t.Run(v.name+"/"+p.name, func(t *testing.T) {
						got, _, err := db.ListAnalyses(ctx, acc.ID, h.locationID, v.filter, p.page)
						require.NoError(t, err)
						require.NotEmpty(t, got, "the plan of a query that finds nothing proves little")
						query, args, err := store.HistoryQuery(acc.ID, h.locationID, v.filter, p.page)
						require.NoError(t, err)
						requireIndexedPlan(t, db, v.index, query, args...)
					})
				}
			}

			_, next, err := db.ListWorkflows(ctx, acc.ID, h.locationID, "", store.Page{})
			require.NoError(t, err)
			require.NotEmpty(t, next)
			for _, tt := range []struct {
				name   string
				status string
				page   store.Page
				index  string
			}{
				{name: "workflows first page", index: "workflows_location_created_idx"},
				{name: "workflows next page", page: store.Page{Cursor: next}, index: "workflows_location_created_idx"},
				{name: "workflows by status first page", status: "published", index: "workflows_location_status_created_idx"},
				{name: "workflows by status next page", status: "published", page: store.Page{Cursor: next}, index: "workflows_location_status_created_idx"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					query, args, err := store.WorkflowListQuery(h.locationID, tt.status, tt.page)
					require.NoError(t, err)
					requireIndexedPlan(t, db, tt.index, query, args...)
				})
			}
			last := mustGetWorkflow(t, db, acc.ID, h.locationID, h.rareWorkflowID).LastAnalysis
			require.NotNil(t, last, "the seed gives the analysed workflows a last analysis")
			require.Equal(t, store.ScopeLocation, last.Scope)

			t.Run("analysis by key", func(t *testing.T) {
				an := mustGetAnalysis(t, db, acc.ID, page[0].ID)
				found, err := db.FindAnalysis(ctx, acc.ID, an.LocationID, an.Scope, an.WorkflowID, an.ContentHash, an.AnalyzerVersion)
				require.NoError(t, err)
				require.Equal(t, an, found)
				requireIndexedPlan(t, db, "analyses_key_uq", store.QueryAnalysisByKey,
					acc.ID, an.ContentHash, an.AnalyzerVersion, an.Scope, an.LocationID, an.WorkflowID)
			})
		})
	}
}

// scannedTables are the tables that a plan must never scan whole.
var scannedTables = []string{"analyses", "findings", "analysis_workflows", "workflows"}

// requireIndexedPlan fails unless the plan of query has the shape that the history and list queries
// are built for: the page is chosen by reading index in order (the leading table is aliased d) and
// stopping after the page, with no sort and no bitmap scan (which reads every match), and none of
// scannedTables is scanned whole. The page's own rows (the subquery p) may be scanned: there are at
// most a page of them.
func requireIndexedPlan(tb testing.TB, db *store.DB, index, query string, args ...any) {
	tb.Helper()
	plan := mustExplain(tb, db, query, args...)
	tb.Logf("plan:\n%s", plan)
	switch db.Engine() {
	case store.EnginePostgres:
		require.Regexp(tb, `Index (Only )?Scan( Backward)? using `+index+` on `, plan)
		for _, table := range scannedTables {
			require.NotContains(tb, plan, "Seq Scan on "+table+" ")
		}
		require.NotContains(tb, plan, "Bitmap", "a bitmap scan reads every match before the limit applies")
		require.NotContains(tb, plan, "Sort")
	case store.EngineSQLite:
		require.Regexp(tb, `(?m)^SEARCH \w+ USING (COVERING )?INDEX `+index+` \(`, plan)
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN ") {
				require.Equal(tb, "SCAN p", line, "only the page may be scanned")
			}
		}
		require.NotContains(tb, plan, "TEMP B-TREE")
	}
}
