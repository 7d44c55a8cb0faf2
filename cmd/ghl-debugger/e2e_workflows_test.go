package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// brokenAccount is the public sample bundle of the open-source auditor: dozens of workflows with
// seeded defects, and the location's context.
const brokenAccount = "../../pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json"

// e2eMaxSteps is the steps-per-workflow limit the workflow end-to-end test configures, so that going
// over it is cheap and proves the setting reaches the API.
const e2eMaxSteps = 50

// TestWorkflowsEndToEnd walks the "done when" path against the real binary, once per
// engine: import the broken-account bundle into a location, analyse the location, find its seeded
// defects, analyse again unchanged (reused), change one workflow, analyse again, page through the
// history, diff the two analyses; another account gets 404 on every route for that location; the
// rule catalogue is public; the configured limits hold.
func TestWorkflowsEndToEnd(t *testing.T) {
	bundle, err := os.ReadFile(brokenAccount)
	require.NoError(t, err)
	var sample struct {
		Workflows []json.RawMessage `json:"workflows"`
	}
	require.NoError(t, json.Unmarshal(bundle, &sample))
	workflows := len(sample.Workflows)
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			databaseURL, dataDir := storetest.DSN(t, engine)
			env := map[string]string{
				"DATABASE_URL":                databaseURL,
				"GHLD_DATA_DIR":               dataDir,
				"GHLD_MAX_STEPS_PER_WORKFLOW": fmt.Sprint(e2eMaxSteps),
			}
			p := mustStart(t, env)
			t.Cleanup(func() { p.mustStop(t) })
			key := keyPattern.FindString(p.stdout.String())
			require.NotEmpty(t, key, "no admin key on stdout:\n%s", p.stdout)
			admin := client{base: p.baseURL, key: key}

			var loc gen.Location
			admin.mustDo(t, http.MethodPost, "/v1/locations", `{"ghlLocationId":"broken-account","name":"Broken Account"}`, http.StatusCreated, &loc)
			base := "/v1/locations/" + loc.Id

			var imported gen.ImportResult
			t.Run("import the bundle", func(t *testing.T) {
				admin.mustDo(t, http.MethodPost, base+"/workflows", string(bundle), http.StatusCreated, &imported)
				require.Equal(t, gen.ImportResultDialect("auditor-bundle"), imported.Dialect)
				require.True(t, imported.ContextUpdated)
				require.Equal(t, workflows, len(imported.Workflows))
				var list gen.WorkflowList
				admin.mustDo(t, http.MethodGet, base+"/workflows?limit=200", "", http.StatusOK, &list)
				require.Equal(t, workflows, len(list.Items))
			})
			noShow := workflowID(t, imported, "wf_noshow")

			var first gen.AnalysisRun
			t.Run("analyse the location", func(t *testing.T) {
				admin.mustDo(t, http.MethodPost, base+"/analyses", `{"scope":"location"}`, http.StatusCreated, &first)
				require.False(t, first.Reused)
				var rep analyzer.Report
				require.NoError(t, json.Unmarshal(first.Report, &rep))
				require.Equal(t, workflows, len(rep.Workflows))
				require.Positive(t, rep.Counts.Error)
				require.True(t, hasFinding(rep, "WD013", "wf_noshow"), "the unfiltered appointment trigger of wf_noshow")
				require.True(t, hasFinding(rep, "WD016", "wf_reminders"), "the deprecated booking trigger of wf_reminders")
				require.Equal(t, gen.MaxSeverityError, first.MaxSeverity)
			})
			t.Run("analyse again unchanged: reused", func(t *testing.T) {
				var again gen.AnalysisRun
				admin.mustDo(t, http.MethodPost, base+"/analyses", `{"scope":"location"}`, http.StatusOK, &again)
				require.True(t, again.Reused)
				require.Equal(t, first.Id, again.Id)
			})

			var second gen.AnalysisRun
			t.Run("change one workflow and analyse again", func(t *testing.T) {
				var res gen.ImportResult
				admin.mustDo(t, http.MethodPost, base+"/workflows", fixedNoShow(t, bundle), http.StatusCreated, &res)
				require.Len(t, res.Workflows, 1)
				require.Equal(t, noShow, res.Workflows[0].Id, "re-importing keeps the workflow's id")
				require.False(t, res.Workflows[0].Created)
				admin.mustDo(t, http.MethodPost, base+"/analyses", `{"scope":"location"}`, http.StatusCreated, &second)
				require.NotEqual(t, first.ContentHash, second.ContentHash)
			})
			t.Run("page through the history", func(t *testing.T) {
				var ids []string
				path := base + "/analyses?limit=1"
				for pages := 0; ; pages++ {
					require.Less(t, pages, 3, "too many pages")
					var page gen.AnalysisList
					admin.mustDo(t, http.MethodGet, path, "", http.StatusOK, &page)
					for _, a := range page.Items {
						ids = append(ids, a.Id)
					}
					if page.NextCursor == nil {
						break
					}
					path = base + "/analyses?limit=1&cursor=" + *page.NextCursor
				}
				require.Equal(t, []string{second.Id, first.Id}, ids, "newest first, each once")
				var filtered gen.AnalysisList
				since := url.Values{"workflowId": {noShow}, "since": {second.CreatedAt.Format(time.RFC3339Nano)}}
				admin.mustDo(t, http.MethodGet, base+"/analyses?"+since.Encode(), "", http.StatusOK, &filtered)
				require.Len(t, filtered.Items, 1)
				require.Equal(t, second.Id, filtered.Items[0].Id)
			})
			t.Run("diff the two analyses", func(t *testing.T) {
				var d gen.AnalysisDiff
				admin.mustDo(t, http.MethodGet, "/v1/analyses/"+second.Id+"/diff?against="+first.Id, "", http.StatusOK, &d)
				require.Equal(t, first.Id, d.From.Id)
				require.Equal(t, second.Id, d.To.Id)
				require.Len(t, d.Fixed, 1)
				require.Equal(t, "WD013", d.Fixed[0].RuleId)
				require.Equal(t, "wf_noshow", *d.Fixed[0].WorkflowId)
				require.Empty(t, d.New)
				require.Equal(t, int(first.Counts.Error+first.Counts.Warning+first.Counts.Info)-1, len(d.Unchanged))
			})
			t.Run("workflow list shows the last analysis", func(t *testing.T) {
				var w gen.WorkflowDetail
				admin.mustDo(t, http.MethodGet, base+"/workflows/"+noShow, "", http.StatusOK, &w)
				require.NotNil(t, w.LastAnalysis)
				require.Equal(t, second.Id, w.LastAnalysis.AnalysisId)
				require.Contains(t, string(w.Normalized), "appointment.status")
			})

			t.Run("another account gets 404 for the location", func(t *testing.T) {
				var acc accountOutput
				mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Rival Agency", "--tier", "pro")
				var k keyOutput
				mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "rival")
				rival := client{base: p.baseURL, key: k.Key}
				routes := []struct {
					method string
					path   string
					body   string
				}{
					{http.MethodGet, base + "/workflows", ""},
					{http.MethodPost, base + "/workflows", fixedNoShow(t, bundle)},
					{http.MethodGet, base + "/workflows/" + noShow, ""},
					{http.MethodDelete, base + "/workflows/" + noShow, ""},
					{http.MethodGet, base + "/context", ""},
					{http.MethodPut, base + "/context", `{"tags":["stolen"]}`},
					{http.MethodDelete, base + "/context", ""},
					{http.MethodPost, base + "/analyses", `{"scope":"location"}`},
					{http.MethodPost, base + "/analyses", `{"scope":"workflow","workflowId":"` + noShow + `"}`},
					{http.MethodGet, base + "/analyses", ""},
					{http.MethodGet, "/v1/analyses/" + first.Id, ""},
					{http.MethodGet, "/v1/analyses/" + second.Id + "/diff?against=" + first.Id, ""},
					{http.MethodPost, "/v1/analyses", `{"locationId":"` + loc.Id + `","document":` + fixedNoShow(t, bundle) + `}`},
				}
				for _, r := range routes {
					rival.mustProblem(t, r.method, r.path, r.body, http.StatusNotFound, "not-found")
				}
				// The rival changed nothing.
				var list gen.WorkflowList
				admin.mustDo(t, http.MethodGet, base+"/workflows?limit=200", "", http.StatusOK, &list)
				require.Equal(t, workflows, len(list.Items))
				var history gen.AnalysisList
				admin.mustDo(t, http.MethodGet, base+"/analyses", "", http.StatusOK, &history)
				require.Len(t, history.Items, 2)
			})
			t.Run("the rule catalogue is public", func(t *testing.T) {
				var rules gen.RuleList
				client{base: p.baseURL}.mustDo(t, http.MethodGet, "/v1/rules", "", http.StatusOK, &rules)
				require.Len(t, rules.Items, len(analyzer.Rules()))
				resp, _ := client{base: p.baseURL}.do(t, http.MethodGet, "/v1/rules/WD013", "")
				require.Equal(t, "public, max-age=3600", resp.Header.Get("Cache-Control"))
			})
			t.Run("the configured limits hold", func(t *testing.T) {
				steps := make([]string, e2eMaxSteps+1)
				for i := range steps {
					steps[i] = `{"type":"add_tag","name":"s","meta":{"tags":["t"]}}`
				}
				doc := `{"_id":"wf_long","name":"Long","steps":[` + strings.Join(steps, ",") + `]}`
				resp, data := admin.do(t, http.MethodPost, base+"/workflows", doc)
				require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", data)
				var p gen.Problem
				require.NoError(t, json.Unmarshal(data, &p))
				require.Equal(t, "https://ghl-debugger.dev/problems/limit-exceeded", p.Type)
				require.Contains(t, *p.Detail, "steps per workflow")
				require.Contains(t, *p.Detail, fmt.Sprint(e2eMaxSteps))
			})
		})
	}
}

// workflowID returns the id an import gave the workflow with GHL id ghlID.
func workflowID(tb testing.TB, res gen.ImportResult, ghlID string) string {
	tb.Helper()
	i := slices.IndexFunc(res.Workflows, func(w gen.ImportedWorkflow) bool { return w.GhlWorkflowId == ghlID })
	require.GreaterOrEqual(tb, i, 0, "the import has no workflow %s", ghlID)
	return res.Workflows[i].Id
}

// hasFinding reports whether the report has a finding of rule about workflow.
func hasFinding(rep analyzer.Report, rule, workflow string) bool {
	return slices.ContainsFunc(rep.Findings, func(f analyzer.Finding) bool { return f.RuleID == rule && f.WorkflowID == workflow })
}

// fixedNoShow returns wf_noshow of the bundle on its own, with the appointment-status and calendar
// filters whose absence WD013 reports.
func fixedNoShow(tb testing.TB, bundle []byte) string {
	tb.Helper()
	var doc struct {
		Calendars []struct {
			ID string `json:"id"`
		} `json:"calendars"`
		Workflows []map[string]any `json:"workflows"`
	}
	require.NoError(tb, json.Unmarshal(bundle, &doc))
	i := slices.IndexFunc(doc.Workflows, func(w map[string]any) bool { return w["_id"] == "wf_noshow" })
	require.GreaterOrEqual(tb, i, 0)
	wf := doc.Workflows[i]
	triggers, ok := wf["triggers"].([]any)
	require.True(tb, ok)
	trigger, ok := triggers[0].(map[string]any)
	require.True(tb, ok)
	trigger["filters"] = []map[string]string{
		{"field": "appointment_status", "value": "noshow"},
		{"field": "calendar", "value": doc.Calendars[0].ID},
	}
	out, err := json.Marshal(wf)
	require.NoError(tb, err)
	return string(out)
}
