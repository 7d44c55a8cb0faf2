package store_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

var analysisIDPattern = regexp.MustCompile(`^ana_[a-z2-7]{20}$`)

// missingAnalysisID is a well-formed analysis id that no row has.
const missingAnalysisID = "ana_aaaaaaaaaaaaaaaaaaaa"

func TestCreateAnalysis(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		wa, wb := out.Workflows[0], out.Workflows[1]

		in := locationAnalysis(loc.ID, wa, wb)
		// Key order and spacing that a re-encoding would change.
		in.Report = json.RawMessage(`{"z": 1,  "a": [2, 1], "findings": []}`)
		an, err := db.CreateAnalysis(ctx, acc.ID, in)
		require.NoError(t, err)
		require.Regexp(t, analysisIDPattern, an.ID)
		require.Equal(t, store.Analysis{
			AnalysisSummary: store.AnalysisSummary{
				ID: an.ID, LocationID: loc.ID, Scope: store.ScopeLocation, ContentHash: in.ContentHash,
				AnalyzerVersion: in.AnalyzerVersion, Grade: in.Grade, Score: in.Score, Errors: in.Errors,
				Warnings: in.Warnings, Infos: in.Infos, MaxSeverity: in.MaxSeverity, CreatedAt: clock.now(),
			},
			Report: in.Report,
		}, an)
		require.Equal(t, an, mustGetAnalysis(t, db, acc.ID, an.ID), "the report reads back byte for byte")

		found, err := db.FindAnalysis(ctx, acc.ID, loc.ID, store.ScopeLocation, "", in.ContentHash, in.AnalyzerVersion)
		require.NoError(t, err)
		require.Equal(t, an, found)

		// The same key again is a conflict, and writes nothing.
		clock.advance(time.Second)
		_, err = db.CreateAnalysis(ctx, acc.ID, in)
		require.ErrorIs(t, err, store.ErrConflict)
		require.Equal(t, 1, mustCount(t, db, "analyses"))
		require.Equal(t, len(in.Findings), mustCount(t, db, "findings"))
		require.Equal(t, 2, mustCount(t, db, "analysis_workflows"))

		// The workflow scope, and the document scope with and without a location.
		wfIn := workflowAnalysis(loc.ID, wa, 0)
		wfAn := mustCreateAnalysis(t, db, acc.ID, wfIn)
		require.Equal(t, wa.ID, wfAn.WorkflowID)
		docIn := documentAnalysis(loc.ID, "WD001")
		docAn := mustCreateAnalysis(t, db, acc.ID, docIn)
		looseIn := documentAnalysis("", "WD001")
		looseIn.ContentHash = docIn.ContentHash
		loose := mustCreateAnalysis(t, db, acc.ID, looseIn)
		require.Empty(t, loose.LocationID)
		require.Equal(t, loose, mustGetAnalysis(t, db, acc.ID, loose.ID))
		_, err = db.CreateAnalysis(ctx, acc.ID, looseIn)
		require.ErrorIs(t, err, store.ErrConflict, "a document without a location has a key too")

		tests := []struct {
			name                                      string
			locationID, scope, workflowID, hash, vers string
			want                                      store.Analysis
		}{
			{name: "location scope", locationID: loc.ID, scope: store.ScopeLocation, hash: in.ContentHash, vers: in.AnalyzerVersion, want: an},
			{name: "workflow scope", locationID: loc.ID, scope: store.ScopeWorkflow, workflowID: wa.ID, hash: wfIn.ContentHash, vers: wfIn.AnalyzerVersion, want: wfAn},
			{name: "document in a location", locationID: loc.ID, scope: store.ScopeDocument, hash: docIn.ContentHash, vers: docIn.AnalyzerVersion, want: docAn},
			{name: "document alone", scope: store.ScopeDocument, hash: docIn.ContentHash, vers: docIn.AnalyzerVersion, want: loose},
			{name: "other version", locationID: loc.ID, scope: store.ScopeLocation, hash: in.ContentHash, vers: "2.0.0"},
			{name: "other hash", locationID: loc.ID, scope: store.ScopeLocation, hash: newContentHash(), vers: in.AnalyzerVersion},
			{name: "other scope", locationID: loc.ID, scope: store.ScopeDocument, hash: in.ContentHash, vers: in.AnalyzerVersion},
			{name: "other location", locationID: missingLocationID, scope: store.ScopeLocation, hash: in.ContentHash, vers: in.AnalyzerVersion},
			{name: "no location", scope: store.ScopeLocation, hash: in.ContentHash, vers: in.AnalyzerVersion},
			{name: "other workflow", locationID: loc.ID, scope: store.ScopeWorkflow, workflowID: wb.ID, hash: wfIn.ContentHash, vers: wfIn.AnalyzerVersion},
			{name: "workflow missing from the key", locationID: loc.ID, scope: store.ScopeWorkflow, hash: wfIn.ContentHash, vers: wfIn.AnalyzerVersion},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.FindAnalysis(t.Context(), acc.ID, tt.locationID, tt.scope, tt.workflowID, tt.hash, tt.vers)
				if tt.want.ID == "" {
					require.ErrorIs(t, err, store.ErrNotFound)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
			})
		}

		_, err = db.GetAnalysis(ctx, acc.ID, missingAnalysisID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestCreateAnalysisInvalid(t *testing.T) {
	type mutate func(in *store.NewAnalysis, other store.Location)
	tests := []struct {
		name   string
		mutate mutate
		want   error
	}{
		{name: "unknown scope", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Scope = "global" }, want: store.ErrInvalid},
		{name: "location scope without location", mutate: func(in *store.NewAnalysis, _ store.Location) { in.LocationID, in.PerWorkflow = "", nil }, want: store.ErrInvalid},
		{name: "workflow id on the location scope", mutate: func(in *store.NewAnalysis, _ store.Location) { in.WorkflowID = in.PerWorkflow[0].WorkflowID }, want: store.ErrInvalid},
		{name: "workflow scope without workflow id", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Scope = store.ScopeWorkflow }, want: store.ErrInvalid},
		{name: "malformed workflow id", mutate: func(in *store.NewAnalysis, _ store.Location) {
			in.Scope, in.WorkflowID = store.ScopeWorkflow, "wf-a"
		}, want: store.ErrInvalid},
		{name: "report not JSON", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Report = json.RawMessage(`{"score":`) }, want: store.ErrInvalid},
		{name: "no report", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Report = nil }, want: store.ErrInvalid},
		{name: "content hash in upper case", mutate: func(in *store.NewAnalysis, _ store.Location) { in.ContentHash = strings.ToUpper(in.ContentHash) }, want: store.ErrInvalid},
		{name: "content hash too short", mutate: func(in *store.NewAnalysis, _ store.Location) { in.ContentHash = in.ContentHash[:63] }, want: store.ErrInvalid},
		{name: "no analyzer version", mutate: func(in *store.NewAnalysis, _ store.Location) { in.AnalyzerVersion = "" }, want: store.ErrInvalid},
		{name: "score over 100", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Score = 101 }, want: store.ErrInvalid},
		{name: "unknown grade", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Grade = "E" }, want: store.ErrInvalid},
		{name: "negative count", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Infos = -1 }, want: store.ErrInvalid},
		{name: "max severity not the counts'", mutate: func(in *store.NewAnalysis, _ store.Location) { in.MaxSeverity = 3 }, want: store.ErrInvalid},
		{name: "max severity out of range", mutate: func(in *store.NewAnalysis, _ store.Location) { in.MaxSeverity = 4 }, want: store.ErrInvalid},
		// The following pass the store's checks and fail in the database after the analysis row is
		// written: the transaction must take the row back.
		{name: "unknown finding severity", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Findings[1].Severity = "fatal" }, want: store.ErrInvalid},
		{name: "finding without rule", mutate: func(in *store.NewAnalysis, _ store.Location) { in.Findings[0].RuleID = "" }, want: store.ErrInvalid},
		{name: "invalid per-workflow grade", mutate: func(in *store.NewAnalysis, _ store.Location) { in.PerWorkflow[1].Grade = "G" }, want: store.ErrInvalid},
		{name: "negative per-workflow count", mutate: func(in *store.NewAnalysis, _ store.Location) { in.PerWorkflow[0].Errors = -1 }, want: store.ErrInvalid},
		{name: "per-workflow results without location", mutate: func(in *store.NewAnalysis, _ store.Location) {
			in.Scope, in.LocationID = store.ScopeDocument, ""
		}, want: store.ErrInvalid},
		{name: "per-workflow result twice", mutate: func(in *store.NewAnalysis, _ store.Location) {
			in.PerWorkflow = append(in.PerWorkflow, in.PerWorkflow[0])
		}, want: store.ErrInvalid},
		{name: "malformed per-workflow id", mutate: func(in *store.NewAnalysis, _ store.Location) { in.PerWorkflow[0].WorkflowID = "wf-a" }, want: store.ErrInvalid},
		{name: "unknown location", mutate: func(in *store.NewAnalysis, _ store.Location) { in.LocationID = missingLocationID }, want: store.ErrNotFound},
		{name: "another account's location", mutate: func(in *store.NewAnalysis, other store.Location) { in.LocationID = other.ID }, want: store.ErrNotFound},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		intruder := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		theirs := mustCreateLocation(t, db, intruder.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := locationAnalysis(loc.ID, out.Workflows...)
				tt.mutate(&in, theirs)
				_, err := db.CreateAnalysis(t.Context(), acc.ID, in)
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, "create analysis: ")
				for _, table := range []string{"analyses", "findings", "analysis_workflows"} {
					require.Zero(t, mustCount(t, db, table), "%s is written", table)
				}
				for _, w := range mustListWorkflows(t, db, acc.ID, loc.ID, "") {
					require.Nil(t, w.LastAnalysis)
				}
			})
		}
		// The near miss: the valid analysis, and a document of an unknown account.
		mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, out.Workflows...))
		_, err := db.CreateAnalysis(t.Context(), missingAccountID, documentAnalysis("", "WD001"))
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestLastAnalysis checks the workflows' last_* columns: the newest analysis covering a workflow is
// its last, whatever order the analyses are written in.
func TestLastAnalysis(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil,
			importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"), importedWorkflow("wf-c", "C", "draft"))
		wa, wb, wc := out.Workflows[0], out.Workflows[1], out.Workflows[2]
		last := func(t *testing.T, w store.Workflow) *store.AnalysisSummary {
			t.Helper()
			got := mustGetWorkflow(t, db, acc.ID, loc.ID, w.ID)
			listed := mustListWorkflows(t, db, acc.ID, loc.ID, "")
			i := slices.IndexFunc(listed, func(l store.Workflow) bool { return l.ID == w.ID })
			require.Equal(t, withoutDocuments(got), listed[i], "the list shows what get shows")
			return got.LastAnalysis
		}

		clock.advance(time.Minute)
		t1 := clock.now()
		a1 := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb, wc))
		require.Equal(t, lastAnalysis(a1, 0), last(t, wa))
		require.Equal(t, lastAnalysis(a1, 1), last(t, wb))
		require.Equal(t, lastAnalysis(a1, 2), last(t, wc))

		clock.advance(time.Minute)
		a2 := mustCreateAnalysis(t, db, acc.ID, workflowAnalysis(loc.ID, wa, 5))
		require.Equal(t, lastAnalysis(a2, 5), last(t, wa))
		require.Equal(t, store.AnalysisSummary{
			ID: a2.ID, LocationID: loc.ID, Scope: store.ScopeWorkflow, WorkflowID: wa.ID, ContentHash: a2.ContentHash,
			AnalyzerVersion: a2.AnalyzerVersion, Grade: "B", Score: 81, Warnings: 6, MaxSeverity: 2, CreatedAt: a2.CreatedAt,
		}, *last(t, wa), "the summary carries the workflow's own result")
		require.Equal(t, lastAnalysis(a1, 1), last(t, wb))

		// An analysis written late, with a time between a1 and a2: it is newer than wb's last but
		// older than wa's.
		clock.advance(-30 * time.Second)
		a3 := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb))
		require.True(t, a3.CreatedAt.After(t1))
		require.Equal(t, lastAnalysis(a2, 5), last(t, wa), "a newer last analysis is kept")
		require.Equal(t, lastAnalysis(a3, 1), last(t, wb))
		require.Equal(t, lastAnalysis(a1, 2), last(t, wc))

		// Deleting an analysis (no method does; retention will) clears the reference, and the next
		// analysis fills it again.
		_, err := db.SQL().ExecContext(ctx, store.Rebind(db, `DELETE FROM analyses WHERE id = ?`), a2.ID)
		require.NoError(t, err)
		require.Nil(t, last(t, wa))
		clock.advance(time.Minute)
		a4 := mustCreateAnalysis(t, db, acc.ID, workflowAnalysis(loc.ID, wa, 1))
		require.Equal(t, lastAnalysis(a4, 1), last(t, wa))

		// A document analysis covers no stored workflow.
		clock.advance(time.Minute)
		mustCreateAnalysis(t, db, acc.ID, documentAnalysis(loc.ID, "WD001"))
		require.Equal(t, lastAnalysis(a4, 1), last(t, wa))

		// Reusing an older analysis (the workflows were reverted to what it saw) makes it the last
		// of the workflows it covered, newer ones notwithstanding; another account cannot.
		other := mustCreateAccount(t, db, "Rival Agency")
		require.ErrorIs(t, db.PointLastAnalysis(ctx, other.ID, a1.ID), store.ErrNotFound)
		require.ErrorIs(t, db.PointLastAnalysis(ctx, acc.ID, missingAnalysisID), store.ErrNotFound)
		require.Equal(t, lastAnalysis(a4, 1), last(t, wa), "a refused call changes nothing")
		require.NoError(t, db.PointLastAnalysis(ctx, acc.ID, a1.ID))
		require.Equal(t, lastAnalysis(a1, 0), last(t, wa))
		require.Equal(t, lastAnalysis(a1, 1), last(t, wb))
		require.Equal(t, lastAnalysis(a1, 2), last(t, wc))
	})
}

// historyEntry is an analysis as the history test's reference model sees it.
type historyEntry struct {
	sum    store.AnalysisSummary
	covers []string
	rules  []string
}

func (e historyEntry) matches(f store.HistoryFilter) bool {
	return (f.WorkflowID == "" || slices.Contains(e.covers, f.WorkflowID)) &&
		(f.RuleID == "" || slices.Contains(e.rules, f.RuleID)) &&
		e.sum.MaxSeverity >= f.MinSeverity &&
		(f.Since == nil || !e.sum.CreatedAt.Before(*f.Since)) &&
		(f.Until == nil || e.sum.CreatedAt.Before(*f.Until))
}

// expectHistory returns the ids of the entries f keeps, newest first.
func expectHistory(entries []historyEntry, f store.HistoryFilter) []string {
	var kept []store.AnalysisSummary
	for _, e := range entries {
		if e.matches(f) {
			kept = append(kept, e.sum)
		}
	}
	slices.SortFunc(kept, func(a, b store.AnalysisSummary) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := []string{}
	for _, s := range kept {
		ids = append(ids, s.ID)
	}
	return ids
}

// mustSeedFilterHistory writes a varied history into loc: every scope, findings of several rules
// (one of them rare, some repeated within an analysis), every maximum severity, and timestamps shared
// by several analyses. It returns the reference model of what it wrote and the time of its middle.
func mustSeedFilterHistory(t *testing.T, db *store.DB, clock *fakeClock, accountID string, loc store.Location, wfs []store.Workflow, noise store.Location) ([]historyEntry, time.Time) {
	t.Helper()
	// Rules by severity: WD001 warning, WD002 info, WD003 error, WD009 error (rare).
	severities := map[string]string{"WD001": "warning", "WD002": "info", "WD003": "error", "WD009": "error"}
	patterns := [][]string{{"WD001", "WD001", "WD002"}, {"WD003"}, {}, {"WD002"}, {"WD001", "WD003", "WD003"}, {"WD002", "WD001"}, {}}
	var entries []historyEntry
	var middle time.Time
	for i := range 21 {
		if i%3 != 1 {
			clock.advance(time.Minute)
		}
		if i == 10 {
			middle = clock.now()
		}
		rules := slices.Clone(patterns[i%len(patterns)])
		if i == 13 {
			rules = append(rules, "WD009")
		}
		var in store.NewAnalysis
		var covers []string
		switch i % 4 {
		case 0:
			in = locationAnalysis(loc.ID, wfs...)
			for _, w := range wfs {
				covers = append(covers, w.ID)
			}
		case 1, 2:
			w := wfs[i%len(wfs)]
			in = workflowAnalysis(loc.ID, w, i)
			covers = []string{w.ID}
		default:
			in = documentAnalysis(loc.ID)
		}
		in.Findings = nil
		in.Errors, in.Warnings, in.Infos = 0, 0, 0
		for _, r := range rules {
			in.Findings = append(in.Findings, store.FindingRow{RuleID: r, Severity: severities[r], WorkflowID: "wf-a", StepID: "s1"})
			switch severities[r] {
			case "error":
				in.Errors++
			case "warning":
				in.Warnings++
			default:
				in.Infos++
			}
		}
		in.MaxSeverity = analyzer.Counts{Error: in.Errors, Warning: in.Warnings, Info: in.Infos}.MaxRank()
		an := mustCreateAnalysis(t, db, accountID, in)
		entries = append(entries, historyEntry{sum: an.AnalysisSummary, covers: covers, rules: rules})

		// The same rules in another location of the account must never show.
		noiseIn := documentAnalysis(noise.ID, rules...)
		noiseIn.Findings = in.Findings
		noiseIn.Errors, noiseIn.Warnings, noiseIn.Infos, noiseIn.MaxSeverity = in.Errors, in.Warnings, in.Infos, in.MaxSeverity
		mustCreateAnalysis(t, db, accountID, noiseIn)
	}
	return entries, middle
}

func TestListAnalysesFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		noise := mustCreateLocation(t, db, acc.ID, "g2")
		out := mustImport(t, db, acc.ID, loc.ID, nil,
			importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"), importedWorkflow("wf-c", "C", "draft"))
		w0, w1, w2 := out.Workflows[0].ID, out.Workflows[1].ID, out.Workflows[2].ID
		entries, middle := mustSeedFilterHistory(t, db, clock, acc.ID, loc, out.Workflows, noise)
		later := middle.Add(5 * time.Minute)
		// Analysing loose documents adds nothing to any location's history.
		mustCreateAnalysis(t, db, acc.ID, documentAnalysis("", "WD001"))

		tests := []struct {
			name   string
			filter store.HistoryFilter
			// narrow says the filter must keep some analyses and drop others, so that the case
			// proves the filter works rather than passing on everything or nothing.
			narrow bool
		}{
			{name: "none", filter: store.HistoryFilter{}},
			{name: "workflow a", filter: store.HistoryFilter{WorkflowID: w0}, narrow: true},
			{name: "workflow b", filter: store.HistoryFilter{WorkflowID: w1}, narrow: true},
			{name: "workflow c", filter: store.HistoryFilter{WorkflowID: w2}, narrow: true},
			{name: "unknown workflow", filter: store.HistoryFilter{WorkflowID: missingWorkflowID}},
			{name: "rule", filter: store.HistoryFilter{RuleID: "WD001"}, narrow: true},
			{name: "rule repeated in analyses", filter: store.HistoryFilter{RuleID: "WD003"}, narrow: true},
			{name: "rare rule", filter: store.HistoryFilter{RuleID: "WD009"}, narrow: true},
			{name: "unknown rule", filter: store.HistoryFilter{RuleID: "WD404"}},
			{name: "min severity info", filter: store.HistoryFilter{MinSeverity: 1}, narrow: true},
			{name: "min severity warning", filter: store.HistoryFilter{MinSeverity: 2}, narrow: true},
			{name: "min severity error", filter: store.HistoryFilter{MinSeverity: 3}, narrow: true},
			{name: "since", filter: store.HistoryFilter{Since: &middle}, narrow: true},
			{name: "until", filter: store.HistoryFilter{Until: &middle}, narrow: true},
			{name: "since and until", filter: store.HistoryFilter{Since: &middle, Until: &later}, narrow: true},
			{name: "empty range", filter: store.HistoryFilter{Since: &middle, Until: &middle}},
			{name: "workflow and rule", filter: store.HistoryFilter{WorkflowID: w0, RuleID: "WD001"}, narrow: true},
			{name: "workflow and severity", filter: store.HistoryFilter{WorkflowID: w1, MinSeverity: 2}, narrow: true},
			{name: "rule and severity", filter: store.HistoryFilter{RuleID: "WD001", MinSeverity: 3}, narrow: true},
			{name: "rule and time", filter: store.HistoryFilter{RuleID: "WD001", Until: &middle}, narrow: true},
			{name: "severity and time", filter: store.HistoryFilter{MinSeverity: 2, Since: &middle}, narrow: true},
			{name: "all", filter: store.HistoryFilter{WorkflowID: w0, RuleID: "WD001", MinSeverity: 2, Since: &middle, Until: &later}, narrow: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := expectHistory(entries, tt.filter)
				if tt.narrow {
					require.NotEmpty(t, want, "the case keeps nothing")
					require.Less(t, len(want), len(entries), "the case keeps everything")
				}
				for _, limit := range []int{2, store.MaxPageLimit} {
					got := mustWalkHistory(t, db, acc.ID, loc.ID, tt.filter, limit, nil)
					require.Equal(t, want, summaryIDs(got), "limit %d", limit)
				}
				all := mustWalkHistory(t, db, acc.ID, loc.ID, tt.filter, store.MaxPageLimit, nil)
				for _, s := range all {
					i := slices.IndexFunc(entries, func(e historyEntry) bool { return e.sum.ID == s.ID })
					require.Equal(t, entries[i].sum, s)
				}
			})
		}

		empty, next, err := db.ListAnalyses(ctx, acc.ID, mustCreateLocation(t, db, acc.ID, "g3").ID, store.HistoryFilter{}, store.Page{})
		require.NoError(t, err)
		require.NotNil(t, empty)
		require.Empty(t, empty)
		require.Empty(t, next)
	})
}

// TestListAnalysesStable walks the history while new analyses arrive: the pages still to come
// neither repeat nor skip an analysis, with and without filters.
func TestListAnalysesStable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		noise := mustCreateLocation(t, db, acc.ID, "g2")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		entries, _ := mustSeedFilterHistory(t, db, clock, acc.ID, loc, out.Workflows, noise)

		filters := []struct {
			name   string
			filter store.HistoryFilter
		}{
			{name: "none"},
			{name: "workflow", filter: store.HistoryFilter{WorkflowID: out.Workflows[0].ID}},
			{name: "rule", filter: store.HistoryFilter{RuleID: "WD001"}},
			{name: "severity", filter: store.HistoryFilter{MinSeverity: 2}},
		}
		for _, tt := range filters {
			t.Run(tt.name, func(t *testing.T) {
				want := expectHistory(entries, tt.filter)
				added := 0
				got := mustWalkHistory(t, db, acc.ID, loc.ID, tt.filter, 3, func() {
					// Each new analysis matches every filter, and some share the time of the
					// newest one already listed.
					if added%2 == 0 {
						clock.advance(time.Second)
					}
					added++
					in := locationAnalysis(loc.ID, out.Workflows...)
					in.Findings = append(in.Findings, store.FindingRow{RuleID: "WD001", Severity: "warning"})
					mustCreateAnalysis(t, db, acc.ID, in)
				})
				require.Greater(t, added, 1)
				require.Equal(t, want, summaryIDs(got))

				first, _, err := db.ListAnalyses(t.Context(), acc.ID, loc.ID, tt.filter, store.Page{Limit: added})
				require.NoError(t, err)
				require.NotContains(t, want, first[0].ID, "the analyses added meanwhile come first now")
				entries = append(entries, historyEntriesOf(first, out.Workflows, "WD001")...)
			})
		}
	})
}

func TestListAnalysesErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"))
		for range 3 {
			mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, out.Workflows...))
		}
		_, valid, err := db.ListAnalyses(ctx, acc.ID, loc.ID, store.HistoryFilter{}, store.Page{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, valid)
		_, workflowCursor, err := db.ListWorkflows(ctx, acc.ID, loc.ID, "", store.Page{Limit: 1})
		require.NoError(t, err)
		require.Empty(t, workflowCursor)
		mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-b", "B", "published"))
		_, workflowCursor, err = db.ListWorkflows(ctx, acc.ID, loc.ID, "", store.Page{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, workflowCursor)

		tests := []struct {
			name       string
			locationID string
			filter     store.HistoryFilter
			page       store.Page
			want       error
		}{
			{name: "negative severity", filter: store.HistoryFilter{MinSeverity: -1}, want: store.ErrInvalid},
			{name: "severity over error", filter: store.HistoryFilter{MinSeverity: 4}, want: store.ErrInvalid},
			{name: "limit over max", page: store.Page{Limit: store.MaxPageLimit + 1}, want: store.ErrInvalid},
			{name: "negative limit", page: store.Page{Limit: -1}, want: store.ErrInvalid},
			{name: "garbage cursor", page: store.Page{Cursor: "%%%"}, want: store.ErrInvalidCursor},
			{name: "cursor of the workflow list", page: store.Page{Cursor: workflowCursor}, want: store.ErrInvalidCursor},
			{name: "truncated cursor", page: store.Page{Cursor: valid[:len(valid)-2]}, want: store.ErrInvalidCursor},
			{name: "unknown location", locationID: missingLocationID, want: store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				locationID := tt.locationID
				if locationID == "" {
					locationID = loc.ID
				}
				_, _, err := db.ListAnalyses(t.Context(), acc.ID, locationID, tt.filter, tt.page)
				require.ErrorIs(t, err, tt.want)
				require.ErrorContains(t, err, "list analyses: ")
			})
		}
		page, _, err := db.ListAnalyses(ctx, acc.ID, loc.ID, store.HistoryFilter{MinSeverity: 3}, store.Page{Cursor: valid, Limit: store.MaxPageLimit})
		require.NoError(t, err, "the near miss: the highest severity and the cursor as issued")
		require.Empty(t, page, "the seeded analyses have warnings only")
	})
}

// TestAnalysesOtherAccount checks that another account's analyses and history are not found, and
// that its keys are its own.
func TestAnalysesOtherAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		intruder := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"))
		in := locationAnalysis(loc.ID, out.Workflows...)
		an := mustCreateAnalysis(t, db, acc.ID, in)
		doc := mustCreateAnalysis(t, db, acc.ID, documentAnalysis("", "WD001"))

		_, err := db.GetAnalysis(ctx, intruder.ID, an.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.GetAnalysis(ctx, intruder.ID, doc.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.FindAnalysis(ctx, intruder.ID, loc.ID, store.ScopeLocation, "", in.ContentHash, in.AnalyzerVersion)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.FindAnalysis(ctx, intruder.ID, "", store.ScopeDocument, "", doc.ContentHash, doc.AnalyzerVersion)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = db.ListAnalyses(ctx, intruder.ID, loc.ID, store.HistoryFilter{}, store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = db.CreateAnalysis(ctx, intruder.ID, in)
		require.ErrorIs(t, err, store.ErrNotFound)

		// The same document analysed by another account is another analysis.
		theirs := documentAnalysis("", "WD001")
		theirs.ContentHash = doc.ContentHash
		theirDoc := mustCreateAnalysis(t, db, intruder.ID, theirs)
		require.NotEqual(t, doc.ID, theirDoc.ID)

		require.Equal(t, an, mustGetAnalysis(t, db, acc.ID, an.ID))
		require.Equal(t, lastAnalysis(an, 0), mustGetWorkflow(t, db, acc.ID, loc.ID, out.Workflows[0].ID).LastAnalysis)
	})
}

// TestAnalysisCascades checks what deleting a workflow, a location and an account does to analyses.
func TestAnalysisCascades(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		kept := mustCreateLocation(t, db, acc.ID, "g2")
		theirs := mustCreateLocation(t, db, other.ID, "g1")
		ctxDoc := json.RawMessage(`{"tags":["vip"]}`)
		out := mustImport(t, db, acc.ID, loc.ID, ctxDoc, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		wa, wb := out.Workflows[0], out.Workflows[1]
		keptOut := mustImport(t, db, acc.ID, kept.ID, ctxDoc, importedWorkflow("wf-a", "A", "published"))
		theirOut := mustImport(t, db, other.ID, theirs.ID, ctxDoc, importedWorkflow("wf-a", "A", "published"))

		a1 := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb))
		clock.advance(time.Second)
		a2 := mustCreateAnalysis(t, db, acc.ID, workflowAnalysis(loc.ID, wa, 2))
		keptAn := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(kept.ID, keptOut.Workflows...))
		loose := mustCreateAnalysis(t, db, acc.ID, documentAnalysis("", "WD001"))
		theirAn := mustCreateAnalysis(t, db, other.ID, locationAnalysis(theirs.ID, theirOut.Workflows...))

		// Deleting a workflow keeps its analyses, their results and its history.
		require.NoError(t, db.DeleteWorkflow(ctx, acc.ID, loc.ID, wa.ID))
		require.Equal(t, a1, mustGetAnalysis(t, db, acc.ID, a1.ID))
		require.Equal(t, a2, mustGetAnalysis(t, db, acc.ID, a2.ID))
		history := mustWalkHistory(t, db, acc.ID, loc.ID, store.HistoryFilter{WorkflowID: wa.ID}, store.MaxPageLimit, nil)
		require.Equal(t, []string{a2.ID, a1.ID}, summaryIDs(history))
		found, err := db.FindAnalysis(ctx, acc.ID, loc.ID, store.ScopeWorkflow, wa.ID, a2.ContentHash, a2.AnalyzerVersion)
		require.NoError(t, err)
		require.Equal(t, a2, found)
		require.Equal(t, 3, mustCountWhere(t, db, "analysis_workflows", "location_id", loc.ID))
		require.Equal(t, lastAnalysis(a1, 1), mustGetWorkflow(t, db, acc.ID, loc.ID, wb.ID).LastAnalysis)

		// Deleting a location removes its workflows, context, analyses, findings and results, and
		// nothing of another location or account.
		require.NoError(t, db.DeleteLocation(ctx, acc.ID, loc.ID))
		for _, id := range []string{a1.ID, a2.ID} {
			_, err := db.GetAnalysis(ctx, acc.ID, id)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		for _, table := range []string{"workflows", "location_contexts", "analyses", "findings", "analysis_workflows"} {
			require.Zero(t, mustCountWhere(t, db, table, "location_id", loc.ID), "%s keeps rows of the location", table)
		}
		require.Equal(t, keptAn, mustGetAnalysis(t, db, acc.ID, keptAn.ID))
		require.Equal(t, loose, mustGetAnalysis(t, db, acc.ID, loose.ID))
		require.Equal(t, lastAnalysis(keptAn, 0), mustGetWorkflow(t, db, acc.ID, kept.ID, keptOut.Workflows[0].ID).LastAnalysis)
		got, err := db.GetContext(ctx, acc.ID, kept.ID)
		require.NoError(t, err)
		require.Equal(t, ctxDoc, got)

		// Deleting an account (no method does yet) removes its analyses, those without a location
		// included.
		_, err = db.SQL().ExecContext(ctx, store.Rebind(db, `DELETE FROM accounts WHERE id = ?`), acc.ID)
		require.NoError(t, err)
		require.Zero(t, mustCountWhere(t, db, "analyses", "account_id", acc.ID))
		require.Equal(t, theirAn, mustGetAnalysis(t, db, other.ID, theirAn.ID))
		require.Equal(t, 1, mustCount(t, db, "analyses"))
		require.Equal(t, len(theirOut.Workflows), mustCount(t, db, "analysis_workflows"))
		require.Equal(t, 1, mustCount(t, db, "workflows"))
	})
}

// TestAnalysisConstraints checks the schema itself, bypassing the store's own checks: each statement
// breaks one constraint, which must reject it by name.
func TestAnalysisConstraints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		other := mustCreateAccount(t, db, "Beta Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		theirs := mustCreateLocation(t, db, other.ID, "g1")
		out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
		wa := out.Workflows[0]
		// Warnings only (errors 0, max severity 2), and three findings of rule WD010, of which only
		// the one with ordinal 0 is the first of its rule.
		an := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, out.Workflows...))
		wfAn := mustCreateAnalysis(t, db, acc.ID, workflowAnalysis(loc.ID, wa, 0))

		uniqueFirst := "findings_rule_first_uq"
		if db.Engine() == store.EngineSQLite {
			uniqueFirst = "UNIQUE constraint failed: findings.analysis_id, findings.rule_id"
		}
		tests := []struct {
			name      string
			statement string
			args      []any
			want      string
		}{
			{name: "unknown grade", statement: `UPDATE analyses SET grade = 'E' WHERE id = ?`, args: []any{an.ID}, want: "analyses_grade_known"},
			{name: "score over 100", statement: `UPDATE analyses SET score = 101 WHERE id = ?`, args: []any{an.ID}, want: "analyses_score_range"},
			{name: "negative count", statement: `UPDATE analyses SET errors = -1 WHERE id = ?`, args: []any{an.ID}, want: "analyses_counts_non_negative"},
			{name: "max severity not the counts'", statement: `UPDATE analyses SET max_severity = 3 WHERE id = ?`, args: []any{an.ID}, want: "analyses_max_severity_counts"},
			{name: "unknown scope", statement: `UPDATE analyses SET scope = 'global' WHERE id = ?`, args: []any{an.ID}, want: "analyses_scope_known"},
			{name: "workflow scope without workflow", statement: `UPDATE analyses SET workflow_id = NULL WHERE id = ?`, args: []any{wfAn.ID}, want: "analyses_scope_workflow"},
			{name: "location scope without location", statement: `UPDATE analyses SET location_id = NULL WHERE id = ?`, args: []any{an.ID}, want: "analyses_scope_location"},
			{name: "malformed hash", statement: `UPDATE analyses SET content_hash = 'XYZ' WHERE id = ?`, args: []any{an.ID}, want: "analyses_content_hash_format"},
			{name: "location of another account", statement: `UPDATE analyses SET location_id = ? WHERE id = ?`, args: []any{theirs.ID, an.ID}, want: "foreign key"},
			{name: "unknown finding severity", statement: `UPDATE findings SET severity = 'fatal' WHERE analysis_id = ?`, args: []any{an.ID}, want: "findings_severity_known"},
			{name: "finding without rule", statement: `UPDATE findings SET rule_id = '' WHERE analysis_id = ?`, args: []any{an.ID}, want: "findings_rule_id_length"},
			{name: "two first findings of a rule", statement: `UPDATE findings SET first_of_rule = TRUE WHERE analysis_id = ? AND ordinal = 1`, args: []any{an.ID}, want: uniqueFirst},
			{name: "unknown per-workflow grade", statement: `UPDATE analysis_workflows SET grade = 'G' WHERE analysis_id = ?`, args: []any{an.ID}, want: "analysis_workflows_grade_known"},
			{name: "negative per-workflow count", statement: `UPDATE analysis_workflows SET infos = -2 WHERE analysis_id = ?`, args: []any{an.ID}, want: "analysis_workflows_counts_non_negative"},
			{name: "malformed per-workflow id", statement: `UPDATE analysis_workflows SET workflow_id = 'wf-a' WHERE analysis_id = ?`, args: []any{an.ID}, want: "analysis_workflows_workflow_id_format"},
			{name: "partial last analysis", statement: `UPDATE workflows SET last_grade = NULL WHERE id = ?`, args: []any{wa.ID}, want: "workflows_last_all_or_none"},
			{name: "negative steps", statement: `UPDATE workflows SET steps = -1 WHERE id = ?`, args: []any{wa.ID}, want: "workflows_steps_non_negative"},
			{name: "empty status", statement: `UPDATE workflows SET status = '' WHERE id = ?`, args: []any{wa.ID}, want: "workflows_status_length"},
			{name: "unknown last analysis", statement: `UPDATE workflows SET last_analysis_id = ? WHERE id = ?`, args: []any{missingAnalysisID, wa.ID}, want: "foreign key"},
			{name: "context not an object", statement: `INSERT INTO location_contexts (location_id, context) VALUES (?, '[1]')`, args: []any{loc.ID}, want: "location_contexts_object"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.SQL().ExecContext(t.Context(), store.Rebind(db, tt.statement), tt.args...)
				require.Error(t, err)
				require.Contains(t, strings.ToLower(err.Error()), strings.ToLower(tt.want))
			})
		}
		// The near misses: the rows are unchanged and valid changes pass.
		require.Equal(t, an, mustGetAnalysis(t, db, acc.ID, an.ID))
		_, err := db.SQL().ExecContext(ctx, store.Rebind(db, `UPDATE analyses SET warnings = 0, infos = 1, max_severity = 1 WHERE id = ?`), an.ID)
		require.NoError(t, err)
		_, err = db.SQL().ExecContext(ctx, store.Rebind(db, `INSERT INTO location_contexts (location_id, context) VALUES (?, '{}')`), loc.ID)
		require.NoError(t, err)
	})
}

// workflowResultAt is the result locationAnalysis and workflowAnalysis give the workflow at index i:
// i+1 warnings, score 86-i, grade B.
func workflowResultAt(workflowID string, i int) store.WorkflowResult {
	return store.WorkflowResult{WorkflowID: workflowID, Score: 86 - i, Grade: "B", Warnings: i + 1}
}

// locationAnalysis returns a location analysis of wfs with a new content hash: the workflow at index
// i has i+1 findings of rule WD010, all warnings.
func locationAnalysis(locationID string, wfs ...store.Workflow) store.NewAnalysis {
	in := store.NewAnalysis{
		LocationID: locationID, Scope: store.ScopeLocation, ContentHash: newContentHash(), AnalyzerVersion: "1.0.0",
		Report: json.RawMessage(`{"findings": ["..."]}`),
	}
	for i, w := range wfs {
		r := workflowResultAt(w.ID, i)
		in.PerWorkflow = append(in.PerWorkflow, r)
		for range r.Warnings {
			in.Findings = append(in.Findings, store.FindingRow{RuleID: "WD010", Severity: "warning", WorkflowID: w.GHLWorkflowID, StepID: "s1"})
		}
		in.Warnings += r.Warnings
	}
	in.Score = max(0, 100-5*in.Warnings)
	in.Grade = analyzer.Grade(in.Score)
	in.MaxSeverity = analyzer.Counts{Error: in.Errors, Warning: in.Warnings, Info: in.Infos}.MaxRank()
	return in
}

// workflowAnalysis returns a workflow analysis of w whose result is workflowResultAt(w.ID, i).
func workflowAnalysis(locationID string, w store.Workflow, i int) store.NewAnalysis {
	r := workflowResultAt(w.ID, i)
	in := store.NewAnalysis{
		LocationID: locationID, Scope: store.ScopeWorkflow, WorkflowID: w.ID, ContentHash: newContentHash(),
		AnalyzerVersion: "1.0.0", Grade: r.Grade, Score: r.Score, Warnings: r.Warnings, MaxSeverity: 2,
		Report: json.RawMessage(`{"workflows": [1]}`), PerWorkflow: []store.WorkflowResult{r},
	}
	for range r.Warnings {
		in.Findings = append(in.Findings, store.FindingRow{RuleID: "WD011", Severity: "warning", WorkflowID: w.GHLWorkflowID})
	}
	return in
}

// documentAnalysis returns a document analysis (in locationID, or alone when it is "") with one
// warning per rule.
func documentAnalysis(locationID string, rules ...string) store.NewAnalysis {
	in := store.NewAnalysis{
		LocationID: locationID, Scope: store.ScopeDocument, ContentHash: newContentHash(), AnalyzerVersion: "1.0.0",
		Report: json.RawMessage(`{"document": true}`),
	}
	for _, r := range rules {
		in.Findings = append(in.Findings, store.FindingRow{RuleID: r, Severity: "warning"})
		in.Warnings++
	}
	in.Score = max(0, 100-5*in.Warnings)
	in.Grade = analyzer.Grade(in.Score)
	in.MaxSeverity = analyzer.Counts{Error: in.Errors, Warning: in.Warnings, Info: in.Infos}.MaxRank()
	return in
}

// lastAnalysis is what a workflow shows as its last analysis when an is that analysis and the
// workflow's result in it is workflowResultAt(_, i).
func lastAnalysis(an store.Analysis, i int) *store.AnalysisSummary {
	r := workflowResultAt("", i)
	s := an.AnalysisSummary
	s.Score, s.Grade, s.Errors, s.Warnings, s.Infos = r.Score, r.Grade, r.Errors, r.Warnings, r.Infos
	s.MaxSeverity = analyzer.Counts{Error: r.Errors, Warning: r.Warnings, Info: r.Infos}.MaxRank()
	return &s
}

// historyEntriesOf turns analyses that covered every workflow of wfs and had a finding of rule into
// reference entries.
func historyEntriesOf(sums []store.AnalysisSummary, wfs []store.Workflow, rule string) []historyEntry {
	var covers []string
	for _, w := range wfs {
		covers = append(covers, w.ID)
	}
	entries := make([]historyEntry, 0, len(sums))
	for _, s := range sums {
		entries = append(entries, historyEntry{sum: s, covers: covers, rules: []string{"WD010", rule}})
	}
	return entries
}

// newContentHash returns a content hash as the analyzer writes it: 64 lower-case hex digits.
func newContentHash() string {
	sum := sha256.Sum256([]byte(rand.Text()))
	return hex.EncodeToString(sum[:])
}

func mustCreateAnalysis(tb testing.TB, db *store.DB, accountID string, in store.NewAnalysis) store.Analysis {
	tb.Helper()
	a, err := db.CreateAnalysis(tb.Context(), accountID, in)
	require.NoError(tb, err)
	return a
}

func mustGetAnalysis(tb testing.TB, db *store.DB, accountID, id string) store.Analysis {
	tb.Helper()
	a, err := db.GetAnalysis(tb.Context(), accountID, id)
	require.NoError(tb, err)
	return a
}

// mustWalkHistory returns the whole history that f keeps, walking pages of limit; between two pages
// it calls between, when not nil.
func mustWalkHistory(tb testing.TB, db *store.DB, accountID, locationID string, f store.HistoryFilter, limit int, between func()) []store.AnalysisSummary {
	tb.Helper()
	all := []store.AnalysisSummary{}
	p := store.Page{Limit: limit}
	for pages := 0; ; pages++ {
		require.Less(tb, pages, 1000, "the walk does not end")
		page, next, err := db.ListAnalyses(tb.Context(), accountID, locationID, f, p)
		require.NoError(tb, err)
		require.LessOrEqual(tb, len(page), limit)
		all = append(all, page...)
		if next == "" {
			return all
		}
		require.Len(tb, page, limit, "only the last page may be short")
		p.Cursor = next
		if between != nil {
			between()
		}
	}
}

func summaryIDs(sums []store.AnalysisSummary) []string {
	ids := []string{}
	for _, s := range sums {
		ids = append(ids, s.ID)
	}
	return ids
}

// mustCount returns the number of rows in table.
func mustCount(tb testing.TB, db *store.DB, table string) int {
	tb.Helper()
	var n int
	require.NoError(tb, db.SQL().GetContext(tb.Context(), &n, `SELECT count(*) FROM `+table))
	return n
}

// mustCountWhere returns the number of rows in table whose column equals value.
func mustCountWhere(tb testing.TB, db *store.DB, table, column, value string) int {
	tb.Helper()
	var n int
	query := store.Rebind(db, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s = ?`, table, column))
	require.NoError(tb, db.SQL().GetContext(tb.Context(), &n, query, value))
	return n
}
