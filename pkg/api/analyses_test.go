package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// mustAnalyze asks for an analysis of a location and requires the status (201 new, 200 reused).
func (e *testEnv) mustAnalyze(tb testing.TB, key, locationID, body string, status int) gen.AnalysisRun {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/analyses", key: key, body: body})
	run := mustJSON[gen.AnalysisRun](tb, rec, status)
	require.Equal(tb, status == http.StatusOK, run.Reused)
	if status == http.StatusCreated {
		require.Equal(tb, "/v1/analyses/"+run.Id, rec.Header().Get("Location"))
	}
	return run
}

// mustAnalyzeDocument asks for an analysis of a posted body and requires the status.
func (e *testEnv) mustAnalyzeDocument(tb testing.TB, key, body string, status int) gen.AnalysisRun {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: body})
	run := mustJSON[gen.AnalysisRun](tb, rec, status)
	require.Equal(tb, status == http.StatusOK, run.Reused)
	return run
}

// mustReport decodes an analysis's report.
func mustReport(tb testing.TB, raw json.RawMessage) analyzer.Report {
	tb.Helper()
	var rep analyzer.Report
	require.NoError(tb, json.Unmarshal(raw, &rep))
	return rep
}

// findingKeys lists findings as "RULE workflow" strings, for compact assertions.
func findingKeys[F any](findings []F, key func(F) string) []string {
	out := make([]string, 0, len(findings))
	for _, f := range findings {
		out = append(out, key(f))
	}
	return out
}

func reportKey(f analyzer.Finding) string { return f.RuleID + " " + f.WorkflowID }

func apiKey(f gen.Finding) string {
	wf := ""
	if f.WorkflowId != nil {
		wf = *f.WorkflowId
	}
	return f.RuleId + " " + wf
}

// mustHistory lists a location's history with the query and returns the analysis ids.
func (e *testEnv) mustHistory(tb testing.TB, key, locationID, query string) []string {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodGet, path: "/v1/locations/" + locationID + "/analyses?" + query, key: key})
	page := mustJSON[gen.AnalysisList](tb, rec, http.StatusOK)
	return findingKeys(page.Items, func(a gen.AnalysisSummary) string { return a.Id })
}

// expectedReport is the report of doc analysed the way a stored location is: workflows in GHL id
// order, the location's GHL id, complete.
func expectedReport(tb testing.TB, doc, ghlLocationID string) []byte {
	tb.Helper()
	res, err := importer.Parse([]byte(doc), importer.DefaultOptions())
	require.NoError(tb, err)
	loc := res.Location
	slices.SortFunc(loc.Workflows, func(a, b analyzer.Workflow) int { return strings.Compare(a.ID, b.ID) })
	loc.ID, loc.Complete = ghlLocationID, true
	out, err := json.Marshal(analyzer.Analyze(loc))
	require.NoError(tb, err)
	return out
}

func TestAnalyzeLocation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "analyzeloc", "Analyses")
		empty := env.mustCreateLocation(t, key, "emptyloc", "Empty")
		theirs := env.mustCreateLocation(t, otherKey, "theirloc", "Theirs")
		imported := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))
		theirWorkflows := byGHLID(env.mustImport(t, otherKey, theirs.Id, bundleDoc))
		path := "/v1/locations/" + loc.Id + "/analyses"

		var first gen.AnalysisRun
		t.Run("analyze-201/location", func(t *testing.T) {
			first = env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
			require.Regexp(t, `^ana_[a-z2-7]{20}$`, first.Id)
			require.Equal(t, gen.AnalysisScopeLocation, first.Scope)
			require.Equal(t, loc.Id, *first.LocationId)
			require.Nil(t, first.WorkflowId)
			require.Equal(t, analyzer.Version, first.AnalyzerVersion)
			require.Regexp(t, `^[0-9a-f]{64}$`, first.ContentHash)
			require.Equal(t, gen.FindingCounts{Error: 1, Warning: 1, Info: 2}, first.Counts)
			require.Equal(t, gen.MaxSeverityError, first.MaxSeverity)
			require.WithinDuration(t, time.Now(), first.CreatedAt, time.Minute)

			// The report is the analyzer's, for the stored workflows and context.
			require.JSONEq(t, string(expectedReport(t, bundleDoc, "analyzeloc")), string(first.Report))
			rep := mustReport(t, first.Report)
			require.Equal(t, first.ContentHash, rep.ContentHash)
			require.Equal(t, int(first.Score), rep.Score)
			require.Equal(t, string(first.Grade), rep.Grade)
			require.ElementsMatch(t, []string{"WD013 wf_noshow", "WD024 wf_noshow", "WD018 wf_welcome", "WD012 wf_orphan"}, findingKeys(rep.Findings, reportKey))
		})
		t.Run("analyze-200/unchanged input is reused", func(t *testing.T) {
			again := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
			require.Equal(t, first.Id, again.Id)
			require.Equal(t, first.CreatedAt, again.CreatedAt)
			require.JSONEq(t, string(first.Report), string(again.Report))
			require.Equal(t, []string{first.Id}, env.mustHistory(t, key, loc.Id, ""))
		})
		t.Run("list workflows shows the last analysis", func(t *testing.T) {
			page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/workflows", key: key}), http.StatusOK)
			rep := mustReport(t, first.Report)
			for _, w := range page.Items {
				require.NotNil(t, w.LastAnalysis, w.GhlWorkflowId)
				require.Equal(t, first.Id, w.LastAnalysis.AnalysisId)
				i := slices.IndexFunc(rep.Workflows, func(s analyzer.WorkflowSummary) bool { return s.ID == w.GhlWorkflowId })
				require.GreaterOrEqual(t, i, 0)
				require.Equal(t, rep.Workflows[i].Score, int(w.LastAnalysis.Score))
				require.Equal(t, rep.Workflows[i].Grade, string(w.LastAnalysis.Grade))
				require.Equal(t, gen.FindingCounts{Error: int32(rep.Workflows[i].Counts.Error), Warning: int32(rep.Workflows[i].Counts.Warning),
					Info: int32(rep.Workflows[i].Counts.Info)}, w.LastAnalysis.Counts)
			}
		})
		var orphan gen.AnalysisRun
		t.Run("analyze-201/workflow", func(t *testing.T) {
			body := `{"scope":"workflow","workflowId":"` + imported["wf_orphan"].Id + `"}`
			orphan = env.mustAnalyze(t, key, loc.Id, body, http.StatusCreated)
			require.Equal(t, gen.AnalysisScopeWorkflow, orphan.Scope)
			require.Equal(t, imported["wf_orphan"].Id, *orphan.WorkflowId)
			require.NotEqual(t, first.ContentHash, orphan.ContentHash)
			require.Equal(t, gen.FindingCounts{Error: 1}, orphan.Counts)
			rep := mustReport(t, orphan.Report)
			require.Len(t, rep.Workflows, 1)
			require.Equal(t, "wf_orphan", rep.Workflows[0].ID)
			require.Equal(t, []string{"WD012 wf_orphan"}, findingKeys(rep.Findings, reportKey))
			require.Equal(t, orphan.ContentHash, rep.ContentHash)

			again := env.mustAnalyze(t, key, loc.Id, body, http.StatusOK)
			require.Equal(t, orphan.Id, again.Id)
		})
		t.Run("get-200", func(t *testing.T) {
			got := mustJSON[gen.Analysis](t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + first.Id, key: key}), http.StatusOK)
			require.Equal(t, first.Id, got.Id)
			require.Equal(t, first.ContentHash, got.ContentHash)
			require.Equal(t, first.Counts, got.Counts)
			require.JSONEq(t, string(first.Report), string(got.Report))
		})
		t.Run("analyze-400", func(t *testing.T) {
			tests := []struct {
				name string
				body string
				want gen.InvalidField
			}{
				{name: "no scope", body: `{}`, want: field("scope", bodyLoc)},
				{name: "unknown scope", body: `{"scope":"account"}`, want: field("scope", bodyLoc)},
				{name: "workflow scope without a workflow", body: `{"scope":"workflow"}`, want: field("workflowId", bodyLoc)},
				{name: "location scope with a workflow", body: `{"scope":"location","workflowId":"` + imported["wf_orphan"].Id + `"}`, want: field("workflowId", bodyLoc)},
				{name: "malformed workflow id", body: `{"scope":"workflow","workflowId":"wf_orphan"}`, want: field("workflowId", bodyLoc)},
				{name: "unknown field", body: `{"scope":"location","force":true}`, want: field("force", bodyLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.call(t, request{method: http.MethodPost, path: path, key: key, body: tt.body}), tt.want)
				})
			}
		})
		t.Run("analyze-404", func(t *testing.T) {
			tests := []struct {
				name string
				path string
				key  string
				body string
			}{
				{name: "another account's location", path: path, key: otherKey, body: `{"scope":"location"}`},
				{name: "a missing location", path: "/v1/locations/loc_aaaaaaaaaaaaaaaaaaaa/analyses", key: key, body: `{"scope":"location"}`},
				{name: "a workflow of another account", path: path, key: key, body: `{"scope":"workflow","workflowId":"` + theirWorkflows["wf_orphan"].Id + `"}`},
				{name: "a missing workflow", path: path, key: key, body: `{"scope":"workflow","workflowId":"wfl_aaaaaaaaaaaaaaaaaaaa"}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustProblem(t, env.call(t, request{method: http.MethodPost, path: tt.path, key: tt.key, body: tt.body}), http.StatusNotFound, "not-found")
				})
			}
		})
		t.Run("analyze-422/no workflows", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + empty.Id + "/analyses", key: key, body: `{"scope":"location"}`})
			mustUnprocessable(t, rec, "no-workflows", "no workflows")
		})
		t.Run("analyze-413", func(t *testing.T) {
			body := `{"scope":"location","x":"` + strings.Repeat("x", documentBodyBytes) + `"}`
			mustProblem(t, env.call(t, request{method: http.MethodPost, path: path, key: key, body: body}), http.StatusRequestEntityTooLarge, "payload-too-large")
		})
		t.Run("analyze-415", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: path, key: key, body: `{"scope":"location"}`, headers: map[string]string{"Content-Type": "text/plain"}})
			mustProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-media-type")
		})
		t.Run("get-404", func(t *testing.T) {
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + first.Id, key: otherKey}), http.StatusNotFound, "not-found")
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/ana_aaaaaaaaaaaaaaaaaaaa", key: key}), http.StatusNotFound, "not-found")
		})
		t.Run("get-400", func(t *testing.T) {
			mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/ANA-1", key: key}), field("analysisId", pathLoc))
		})
	})
}

func TestAnalyzeDocument(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "docloc", "Documents")
		env.call(t, request{method: http.MethodPut, path: "/v1/locations/" + loc.Id + "/context", key: key,
			body: `{"calendars":[{"id":"cal_consult","name":"Consult"}]}`})
		// A single workflow whose trigger filters on a calendar the location does not have: WD017
		// can tell only with the location's context.
		single := `{"_id":"wf_x","status":"published","name":"Single","triggers":[{"type":"appointment","name":"Appt","filters":[{"field":"appointment_status","value":"noshow"},{"field":"calendar","value":"cal_missing"}]}],"steps":[{"type":"sms","name":"Hi","meta":{"body":"Hi there. Reply STOP to opt out."}}]}`

		var withLoc gen.AnalysisRun
		t.Run("analyze-201/with a location", func(t *testing.T) {
			withLoc = env.mustAnalyzeDocument(t, key, `{"locationId":"`+loc.Id+`","document":`+single+`}`, http.StatusCreated)
			require.Equal(t, gen.AnalysisScopeDocument, withLoc.Scope)
			require.Equal(t, loc.Id, *withLoc.LocationId)
			require.Nil(t, withLoc.WorkflowId)
			rep := mustReport(t, withLoc.Report)
			require.Equal(t, "docloc", rep.LocationID, "the document names no location, so the location's GHL id is used")
			require.Contains(t, findingKeys(rep.Findings, reportKey), "WD017 wf_x", "the location's context was used")
			require.Equal(t, []string{withLoc.Id}, env.mustHistory(t, key, loc.Id, ""))
		})
		t.Run("analyze-200/reused", func(t *testing.T) {
			again := env.mustAnalyzeDocument(t, key, `{"document":`+single+`,"locationId":"`+loc.Id+`"}`, http.StatusOK)
			require.Equal(t, withLoc.Id, again.Id)
		})
		var alone gen.AnalysisRun
		t.Run("analyze-201/without a location", func(t *testing.T) {
			alone = env.mustAnalyzeDocument(t, key, `{"document":`+single+`}`, http.StatusCreated)
			require.Nil(t, alone.LocationId)
			require.NotEqual(t, withLoc.ContentHash, alone.ContentHash)
			rep := mustReport(t, alone.Report)
			require.NotContains(t, findingKeys(rep.Findings, reportKey), "WD017 wf_x")
			require.Contains(t, findingKeys(rep.NotAssessed, func(n analyzer.NotAssessed) string { return n.RuleID + " " + n.WorkflowID }), "WD017 wf_x")
			require.Equal(t, []string{withLoc.Id}, env.mustHistory(t, key, loc.Id, ""), "not in the location's history")
			got := mustJSON[gen.Analysis](t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + alone.Id, key: key}), http.StatusOK)
			require.Equal(t, alone.Id, got.Id)
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + alone.Id, key: otherKey}), http.StatusNotFound, "not-found")
		})
		t.Run("analyze-201/every dialect", func(t *testing.T) {
			run := env.mustAnalyzeDocument(t, key, `{"document":`+bundleDoc+`}`, http.StatusCreated)
			require.Equal(t, gen.FindingCounts{Error: 1, Warning: 1, Info: 2}, run.Counts)
			run = env.mustAnalyzeDocument(t, key, `{"document":[{"workflow":{"id":"b1","name":"Builder","status":"draft","workflowData":{"templates":[]}}}]}`, http.StatusCreated)
			require.Equal(t, "b1", mustReport(t, run.Report).Workflows[0].ID)
		})
		t.Run("documents are not stored as workflows", func(t *testing.T) {
			require.Zero(t, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
		t.Run("analyze-422", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":{"workflows":[{"_id":"a","steps":"oops"}]}}`})
			p := mustUnprocessable(t, rec, "invalid-document")
			require.Equal(t, "$.document.workflows[0].steps", (*p.InvalidFields)[0].Field, "the path points into the request body")
			rec = env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":{"workflows":[]}}`})
			mustUnprocessable(t, rec, "no-workflows")
		})
		t.Run("analyze-400", func(t *testing.T) {
			tests := []struct {
				name string
				body string
				want gen.InvalidField
			}{
				{name: "no document", body: `{"locationId":"` + loc.Id + `"}`, want: field("document", bodyLoc)},
				{name: "scalar document", body: `{"document":"workflows"}`, want: field("document", bodyLoc)},
				{name: "malformed location id", body: `{"document":{},"locationId":"docloc"}`, want: field("locationId", bodyLoc)},
				{name: "unknown field", body: `{"document":{},"store":true}`, want: field("store", bodyLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: tt.body}), tt.want)
				})
			}
		})
		t.Run("analyze-404", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: otherKey, body: `{"locationId":"` + loc.Id + `","document":` + single + `}`})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
	})
}

func TestAnalysisHistory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "historyloc", "History")
		imported := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))
		welcome, orphan := imported["wf_welcome"], imported["wf_orphan"]

		a := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		env.mustImport(t, key, loc.Id, noShowFixed)
		b := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		w := env.mustAnalyze(t, key, loc.Id, `{"scope":"workflow","workflowId":"`+welcome.Id+`"}`, http.StatusCreated)
		require.True(t, a.CreatedAt.Before(b.CreatedAt) && b.CreatedAt.Before(w.CreatedAt))

		t.Run("list-200/newest first", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses", key: key})
			page := mustJSON[gen.AnalysisList](t, rec, http.StatusOK)
			require.Equal(t, []string{w.Id, b.Id, a.Id}, findingKeys(page.Items, func(s gen.AnalysisSummary) string { return s.Id }))
			require.Nil(t, page.NextCursor)
			require.NotContains(t, rec.Body.String(), `"report"`, "the history holds summaries")
		})
		t.Run("list-200/filters", func(t *testing.T) {
			tests := []struct {
				name  string
				query url.Values
				want  []string
			}{
				{name: "rule", query: url.Values{"ruleId": {"WD013"}}, want: []string{a.Id}},
				{name: "rule of every analysis", query: url.Values{"ruleId": {"WD018"}}, want: []string{w.Id, b.Id, a.Id}},
				{name: "rule never found", query: url.Values{"ruleId": {"WD999"}}, want: []string{}},
				{name: "minimum severity error", query: url.Values{"minSeverity": {"error"}}, want: []string{b.Id, a.Id}},
				{name: "minimum severity info", query: url.Values{"minSeverity": {"info"}}, want: []string{w.Id, b.Id, a.Id}},
				{name: "workflow covered by all", query: url.Values{"workflowId": {welcome.Id}}, want: []string{w.Id, b.Id, a.Id}},
				{name: "workflow covered by location analyses", query: url.Values{"workflowId": {orphan.Id}}, want: []string{b.Id, a.Id}},
				{name: "since is inclusive", query: url.Values{"since": {b.CreatedAt.Format(time.RFC3339Nano)}}, want: []string{w.Id, b.Id}},
				{name: "until is exclusive", query: url.Values{"until": {b.CreatedAt.Format(time.RFC3339Nano)}}, want: []string{a.Id}},
				{name: "filters combine", query: url.Values{"workflowId": {welcome.Id}, "minSeverity": {"error"}, "until": {w.CreatedAt.Format(time.RFC3339Nano)}}, want: []string{b.Id, a.Id}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					require.Equal(t, tt.want, env.mustHistory(t, key, loc.Id, tt.query.Encode()))
				})
			}
		})
		t.Run("list-200/pages are stable while analyses arrive", func(t *testing.T) {
			base := "/v1/locations/" + loc.Id + "/analyses?limit=2"
			first := mustJSON[gen.AnalysisList](t, env.call(t, request{method: http.MethodGet, path: base, key: key}), http.StatusOK)
			require.Len(t, first.Items, 2)
			require.NotNil(t, first.NextCursor)
			// A new analysis arrives between the pages.
			newest := env.mustAnalyzeDocument(t, key, `{"locationId":"`+loc.Id+`","document":`+noShowFixed+`}`, http.StatusCreated)
			second := mustJSON[gen.AnalysisList](t, env.call(t, request{method: http.MethodGet, path: base + "&cursor=" + *first.NextCursor, key: key}), http.StatusOK)
			require.Equal(t, []string{a.Id}, findingKeys(second.Items, func(s gen.AnalysisSummary) string { return s.Id }))
			require.Nil(t, second.NextCursor)
			require.Equal(t, []string{newest.Id, w.Id, b.Id, a.Id}, env.mustHistory(t, key, loc.Id, ""))
		})
		t.Run("list-200/history outlives a deleted workflow", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id + "/workflows/" + welcome.Id, key: key})
			require.Equal(t, http.StatusNoContent, rec.Code)
			require.Equal(t, []string{w.Id, b.Id, a.Id}, env.mustHistory(t, key, loc.Id, "workflowId="+welcome.Id))
		})
		t.Run("list-400", func(t *testing.T) {
			tests := []struct {
				name  string
				query string
				want  gen.InvalidField
			}{
				{name: "unknown severity", query: "minSeverity=fatal", want: field("minSeverity", queryLoc)},
				{name: "malformed rule", query: "ruleId=13", want: field("ruleId", queryLoc)},
				{name: "malformed workflow", query: "workflowId=wf_noshow", want: field("workflowId", queryLoc)},
				{name: "not a time", query: "since=yesterday", want: field("since", queryLoc)},
				{name: "cursor not issued", query: "cursor=bm90LWEtY3Vyc29y", want: field("cursor", queryLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses?" + tt.query, key: key}), tt.want)
				})
			}
		})
		t.Run("list-404", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses", key: otherKey})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
	})
}

func TestDiffAnalyses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "diffloc", "Diffs")
		theirs := env.mustCreateLocation(t, otherKey, "diffloc", "Theirs")
		imported := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))
		env.mustImport(t, otherKey, theirs.Id, bundleDoc)

		a := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		env.mustImport(t, key, loc.Id, noShowFixed)
		b := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		// Renaming the trigger rewords WD013 and WD024 without fixing anything.
		env.mustImport(t, key, loc.Id, strings.ReplaceAll(bundleDoc, `"name":"Appointment Status"`, `"name":"Appointment Changed"`))
		c := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		theirA := env.mustAnalyze(t, otherKey, theirs.Id, `{"scope":"location"}`, http.StatusCreated)
		diff := func(t *testing.T, to, against string) gen.AnalysisDiff {
			t.Helper()
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + to + "/diff?against=" + against, key: key})
			return mustJSON[gen.AnalysisDiff](t, rec, http.StatusOK)
		}

		t.Run("analyze-200/a reverted edit reuses the first analysis, which becomes the last again", func(t *testing.T) {
			env.mustImport(t, key, loc.Id, bundleDoc)
			again := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusOK)
			require.Equal(t, a.Id, again.Id)
			page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/workflows", key: key}), http.StatusOK)
			for _, w := range page.Items {
				require.NotNil(t, w.LastAnalysis, w.GhlWorkflowId)
				require.Equal(t, a.Id, w.LastAnalysis.AnalysisId, w.GhlWorkflowId)
			}
		})
		t.Run("diff-200/fixed", func(t *testing.T) {
			d := diff(t, b.Id, a.Id)
			require.Equal(t, a.Id, d.From.Id)
			require.Equal(t, b.Id, d.To.Id)
			require.Equal(t, []string{"WD013 wf_noshow"}, findingKeys(d.Fixed, apiKey))
			require.Empty(t, d.New)
			require.ElementsMatch(t, []string{"WD024 wf_noshow", "WD018 wf_welcome", "WD012 wf_orphan"}, findingKeys(d.Unchanged, apiKey))
			require.Equal(t, gen.DiffCounts{New: 0, Fixed: 1, Unchanged: 3}, d.Counts)
		})
		t.Run("diff-200/new", func(t *testing.T) {
			d := diff(t, a.Id, b.Id)
			require.Equal(t, []string{"WD013 wf_noshow"}, findingKeys(d.New, apiKey))
			require.Empty(t, d.Fixed)
		})
		t.Run("diff-200/reworded findings are unchanged", func(t *testing.T) {
			d := diff(t, c.Id, a.Id)
			require.Empty(t, d.New)
			require.Empty(t, d.Fixed)
			require.Len(t, d.Unchanged, 4)
			i := slices.IndexFunc(d.Unchanged, func(f gen.Finding) bool { return f.RuleId == "WD013" })
			require.Contains(t, d.Unchanged[i].Message, "Appointment Changed", "unchanged findings are shown as the newer analysis has them")
		})
		t.Run("diff-200/with itself", func(t *testing.T) {
			d := diff(t, a.Id, a.Id)
			require.Equal(t, gen.DiffCounts{Unchanged: 4}, d.Counts)
		})
		t.Run("diff-422", func(t *testing.T) {
			orphanRun := env.mustAnalyze(t, key, loc.Id, `{"scope":"workflow","workflowId":"`+imported["wf_orphan"].Id+`"}`, http.StatusCreated)
			welcomeRun := env.mustAnalyze(t, key, loc.Id, `{"scope":"workflow","workflowId":"`+imported["wf_welcome"].Id+`"}`, http.StatusCreated)
			docRun := env.mustAnalyzeDocument(t, key, `{"document":`+bundleDoc+`}`, http.StatusCreated)
			tests := []struct {
				name    string
				to      string
				against string
				detail  string
			}{
				{name: "scopes differ", to: orphanRun.Id, against: a.Id, detail: "scope"},
				{name: "workflows differ", to: orphanRun.Id, against: welcomeRun.Id, detail: "workflow"},
				{name: "locations differ", to: docRun.Id, against: a.Id, detail: "no location"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rec := env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + tt.to + "/diff?against=" + tt.against, key: key})
					mustUnprocessable(t, rec, "not-comparable", tt.detail, tt.to, tt.against)
				})
			}
		})
		t.Run("diff-404", func(t *testing.T) {
			tests := []struct {
				name string
				path string
				key  string
			}{
				{name: "against another account's analysis", path: "/v1/analyses/" + a.Id + "/diff?against=" + theirA.Id, key: key},
				{name: "another account's analysis against mine", path: "/v1/analyses/" + theirA.Id + "/diff?against=" + a.Id, key: key},
				{name: "as another account", path: "/v1/analyses/" + b.Id + "/diff?against=" + a.Id, key: otherKey},
				{name: "against a missing analysis", path: "/v1/analyses/" + a.Id + "/diff?against=ana_aaaaaaaaaaaaaaaaaaaa", key: key},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustProblem(t, env.call(t, request{method: http.MethodGet, path: tt.path, key: tt.key}), http.StatusNotFound, "not-found")
				})
			}
		})
		t.Run("diff-400", func(t *testing.T) {
			mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + a.Id + "/diff", key: key}), field("against", queryLoc))
			mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + a.Id + "/diff?against=a", key: key}), field("against", queryLoc))
		})
	})
}

// TestConcurrentAnalyses starts the same analysis several times at once: exactly one is new, the
// others reuse it, and the history holds it once.
func TestConcurrentAnalyses(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "raceloc", "Race")
		env.mustImport(t, key, loc.Id, bundleDoc)
		const n = 4
		recs := make(chan *httptest.ResponseRecorder, n)
		for range n {
			go func() {
				recs <- env.do(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/analyses", key: key, body: `{"scope":"location"}`})
			}()
		}
		ids := map[string]bool{}
		created := 0
		for range n {
			rec := <-recs
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, rec.Code, rec.Body.String())
			if rec.Code == http.StatusCreated {
				created++
			}
			var run gen.AnalysisRun
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &run))
			ids[run.Id] = true
		}
		require.Equal(t, 1, created)
		require.Len(t, ids, 1)
		require.Len(t, env.mustHistory(t, key, loc.Id, ""), 1)
	})
}
