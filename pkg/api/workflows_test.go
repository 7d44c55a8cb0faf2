package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

func TestImportWorkflows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "importloc", "Imports")
		imports := "/v1/locations/" + loc.Id + "/workflows"

		var first gen.ImportResult
		t.Run("import-201/bundle", func(t *testing.T) {
			first = env.mustImport(t, key, loc.Id, bundleDoc)
			require.Equal(t, gen.ImportResultDialect("auditor-bundle"), first.Dialect)
			require.True(t, first.ContextUpdated)
			require.Len(t, first.Workflows, 3)
			for i, ghlID := range []string{"wf_noshow", "wf_welcome", "wf_orphan"} {
				w := first.Workflows[i]
				require.Equal(t, ghlID, w.GhlWorkflowId, "in the document's order")
				require.Regexp(t, `^wfl_[a-z2-7]{20}$`, w.Id)
				require.True(t, w.Created)
				require.Equal(t, int32(1), w.Steps)
			}
			require.Equal(t, "No Show Recovery", first.Workflows[0].Name)
			require.Equal(t, "draft", first.Workflows[1].Status)
		})
		t.Run("import-201/re-import replaces and keeps the id", func(t *testing.T) {
			before := mustJSON[gen.WorkflowDetail](t, env.call(t, request{method: http.MethodGet, path: imports + "/" + first.Workflows[0].Id, key: key}), http.StatusOK)
			res := env.mustImport(t, key, loc.Id, strings.Replace(noShowFixed, "No Show Recovery", "No-Show Recovery v2", 1))
			require.Equal(t, gen.ImportResultDialect("auditor-bundle"), res.Dialect)
			require.False(t, res.ContextUpdated, "a single workflow carries no context")
			require.Len(t, res.Workflows, 1)
			require.Equal(t, first.Workflows[0].Id, res.Workflows[0].Id)
			require.False(t, res.Workflows[0].Created)
			after := mustJSON[gen.WorkflowDetail](t, env.call(t, request{method: http.MethodGet, path: imports + "/" + res.Workflows[0].Id, key: key}), http.StatusOK)
			require.Equal(t, "No-Show Recovery v2", after.Name)
			require.Equal(t, before.CreatedAt, after.CreatedAt)
			require.False(t, after.UpdatedAt.Before(before.UpdatedAt))
			require.Contains(t, string(after.Normalized), "appointment.status", "the definition was replaced")
			require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
		t.Run("import-201/builder export", func(t *testing.T) {
			doc := `{"$schema":"ghl-workflow-export/v1","exportedAt":"2026-11-25T10:00:00Z",
				"source":{"locationId":"importloc","workflowId":"3f1c9d2e"},
				"workflow":{"id":"3f1c9d2e","name":"New Lead Welcome","status":"published","version":4,
					"workflowData":{"templates":[{"id":"9b7e1c52","type":"sms","name":"Welcome text","attributes":{"body":"Hi!"}}]}},
				"triggers":[{"id":"0c4f7a1e","type":"contact_tag","name":"Tag added","active":true}]}`
			res := env.mustImport(t, key, loc.Id, doc)
			require.Equal(t, gen.ImportResultDialect("ghl-builder"), res.Dialect)
			require.Equal(t, "3f1c9d2e", res.Workflows[0].GhlWorkflowId)
			got := mustJSON[gen.WorkflowDetail](t, env.call(t, request{method: http.MethodGet, path: imports + "/" + res.Workflows[0].Id, key: key}), http.StatusOK)
			require.Equal(t, int32(4), got.GhlVersion)
			require.Equal(t, "ghl-builder", got.Dialect)
		})
		t.Run("import-201/normalized model", func(t *testing.T) {
			doc := `{"id":"importloc","complete":true,"workflows":[{"id":"wf_norm","name":"Normalized","status":"draft",
				"settings":{"allowReEntry":false,"allowMultipleOpportunity":false,"stopOnResponse":false,"removeContactFromLastStep":false,"autoMarkAsRead":false},
				"triggers":[],"steps":[{"id":"s1","kind":"tag_add","type":"add_contact_tag","tags":["x"]}],"edges":[]}]}`
			res := env.mustImport(t, key, loc.Id, doc)
			require.Equal(t, gen.ImportResultDialect("normalized"), res.Dialect)
			require.Equal(t, "wf_norm", res.Workflows[0].GhlWorkflowId)
		})

		count := env.mustWorkflowCount(t, acc.ID, loc.Id)
		t.Run("import-422", func(t *testing.T) {
			tests := []struct {
				name  string
				doc   string
				field string
			}{
				{name: "wrong type deep inside", doc: `{"workflows":[{"_id":"a","name":"A","steps":"oops"}]}`, field: "$.workflows[0].steps"},
				{name: "duplicated workflow id", doc: `{"workflows":[{"_id":"a","name":"A","steps":[]},{"_id":"a","name":"B","steps":[]}]}`, field: "$.workflows[1]._id"},
				{name: "unknown dialect", doc: `{"hello":"world"}`, field: "$"},
				{name: "name too long to store", doc: `{"workflows":[{"_id":"ok","name":"Fine","steps":[]},{"_id":"long","name":"` + strings.Repeat("n", 501) + `","steps":[]}]}`, field: "$"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: tt.doc})
					p := mustUnprocessable(t, rec, "invalid-document")
					require.NotNil(t, p.InvalidFields)
					require.Len(t, *p.InvalidFields, 1)
					f := (*p.InvalidFields)[0]
					require.Equal(t, tt.field, f.Field)
					require.Equal(t, gen.InvalidFieldLocationBody, f.Location)
					require.NotEmpty(t, f.Reason)
				})
			}
		})
		t.Run("import-400", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: `{"workflows":[`})
			mustProblem(t, rec, http.StatusBadRequest, "malformed-json")
			mustInvalidFields(t, env.call(t, request{method: http.MethodPost, path: imports, key: key, body: `"a string"`}), field("body", bodyLoc))
			mustInvalidFields(t, env.call(t, request{method: http.MethodPost, path: imports, key: key,
				headers: map[string]string{"Content-Type": "application/json"}}), field("body", bodyLoc))
			mustInvalidFields(t, env.call(t, request{method: http.MethodPost, path: "/v1/locations/LOC/workflows", key: key, body: bundleDoc}), field("locationId", pathLoc))
		})
		t.Run("import-415", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: bundleDoc, headers: map[string]string{"Content-Type": "text/plain"}})
			mustProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-media-type")
		})
		t.Run("import-404", func(t *testing.T) {
			mustProblem(t, env.call(t, request{method: http.MethodPost, path: imports, key: otherKey, body: bundleDoc}), http.StatusNotFound, "not-found")
			mustProblem(t, env.call(t, request{method: http.MethodPost, path: "/v1/locations/loc_aaaaaaaaaaaaaaaaaaaa/workflows", key: key, body: bundleDoc}), http.StatusNotFound, "not-found")
		})
		t.Run("import-401", func(t *testing.T) {
			mustProblem(t, env.call(t, request{method: http.MethodPost, path: imports, body: bundleDoc}), http.StatusUnauthorized, "unauthorized")
		})
		t.Run("bad input writes nothing", func(t *testing.T) {
			require.Equal(t, count, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
	})
}

func TestWorkflowRoutes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "wfroutes", "Routes")
		second := env.mustCreateLocation(t, key, "wfroutes2", "Second")
		imported := byGHLID(env.mustImport(t, key, loc.Id, bundleDoc))
		base := "/v1/locations/" + loc.Id + "/workflows"
		noShow := imported["wf_noshow"]

		t.Run("get-200", func(t *testing.T) {
			got := mustJSON[gen.WorkflowDetail](t, env.call(t, request{method: http.MethodGet, path: base + "/" + noShow.Id, key: key}), http.StatusOK)
			require.Equal(t, noShow.Id, got.Id)
			require.Equal(t, "wf_noshow", got.GhlWorkflowId)
			require.Equal(t, "auditor-bundle", got.Dialect)
			require.Equal(t, int32(1), got.Steps)
			require.Nil(t, got.LastAnalysis)
			var wf analyzer.Workflow
			require.NoError(t, json.Unmarshal(got.Normalized, &wf))
			require.Equal(t, "wf_noshow", wf.ID)
			require.Equal(t, analyzer.TriggerAppointment, wf.Triggers[0].Type)
			require.Len(t, wf.Steps, 1)
			// The raw document is the workflow exactly as sent: its keys keep their order.
			require.NotNil(t, got.Raw)
			start := strings.Index(bundleDoc, `{"name":"No Show Recovery"`)
			end := strings.Index(bundleDoc, "\n{\"name\":\"Welcome\"") - 1
			var want bytes.Buffer
			require.NoError(t, json.Compact(&want, []byte(bundleDoc[start:end])))
			require.Equal(t, want.String(), string(*got.Raw))
		})
		t.Run("list-200", func(t *testing.T) {
			page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: base, key: key}), http.StatusOK)
			require.Len(t, page.Items, 3)
			require.Nil(t, page.NextCursor)
			for _, w := range page.Items {
				require.Nil(t, w.LastAnalysis, "not analysed yet")
			}
		})
		t.Run("list-200/pages", func(t *testing.T) {
			seen := map[string]bool{}
			path := base + "?limit=2"
			for pages := 0; ; pages++ {
				require.Less(t, pages, 2, "too many pages")
				page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: path, key: key}), http.StatusOK)
				for _, w := range page.Items {
					require.False(t, seen[w.Id], "workflow %s listed twice", w.Id)
					seen[w.Id] = true
				}
				if page.NextCursor == nil {
					break
				}
				path = base + "?limit=2&cursor=" + *page.NextCursor
			}
			require.Len(t, seen, 3)
		})
		t.Run("list-200/by status", func(t *testing.T) {
			page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: base + "?status=draft", key: key}), http.StatusOK)
			require.Len(t, page.Items, 1)
			require.Equal(t, "wf_welcome", page.Items[0].GhlWorkflowId)
			page = mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: base + "?status=archived", key: key}), http.StatusOK)
			require.Empty(t, page.Items)
		})
		t.Run("list-200/empty location", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + second.Id + "/workflows", key: key})
			require.JSONEq(t, `{"items":[],"nextCursor":null}`, rec.Body.String())
		})
		t.Run("list-400", func(t *testing.T) {
			tests := []struct {
				name  string
				query string
				want  gen.InvalidField
			}{
				{name: "empty status", query: "status=", want: field("status", queryLoc)},
				{name: "limit too big", query: "limit=500", want: field("limit", queryLoc)},
				{name: "cursor not issued", query: "cursor=bm90LWEtY3Vyc29y", want: field("cursor", queryLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: base + "?" + tt.query, key: key}), tt.want)
				})
			}
		})
		t.Run("get-400", func(t *testing.T) {
			mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: base + "/WF-1", key: key}), field("workflowId", pathLoc))
		})
		t.Run("404", func(t *testing.T) {
			tests := []struct {
				name   string
				method string
				path   string
				key    string
			}{
				{name: "list of another account's location", method: http.MethodGet, path: base, key: otherKey},
				{name: "get in another account's location", method: http.MethodGet, path: base + "/" + noShow.Id, key: otherKey},
				{name: "delete in another account's location", method: http.MethodDelete, path: base + "/" + noShow.Id, key: otherKey},
				{name: "get through another of my locations", method: http.MethodGet, path: "/v1/locations/" + second.Id + "/workflows/" + noShow.Id, key: key},
				{name: "delete through another of my locations", method: http.MethodDelete, path: "/v1/locations/" + second.Id + "/workflows/" + noShow.Id, key: key},
				{name: "get a missing workflow", method: http.MethodGet, path: base + "/wfl_aaaaaaaaaaaaaaaaaaaa", key: key},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := mustProblem(t, env.call(t, request{method: tt.method, path: tt.path, key: tt.key}), http.StatusNotFound, "not-found")
					require.Equal(t, "The requested resource does not exist.", *p.Detail, "indistinguishable from a missing resource")
				})
			}
		})
		t.Run("delete-204", func(t *testing.T) {
			welcome := imported["wf_welcome"]
			rec := env.call(t, request{method: http.MethodDelete, path: base + "/" + welcome.Id, key: key})
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			require.Empty(t, rec.Body.String())
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: base + "/" + welcome.Id, key: key}), http.StatusNotFound, "not-found")
			mustProblem(t, env.call(t, request{method: http.MethodDelete, path: base + "/" + welcome.Id, key: key}), http.StatusNotFound, "not-found")
			page := mustJSON[gen.WorkflowList](t, env.call(t, request{method: http.MethodGet, path: base, key: key}), http.StatusOK)
			require.Len(t, page.Items, 2)
		})
	})
}

func TestLocationContext(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "ctxloc", "Context")
		path := "/v1/locations/" + loc.Id + "/context"
		get := func(t *testing.T) gen.StoredContext {
			t.Helper()
			return mustJSON[gen.StoredContext](t, env.call(t, request{method: http.MethodGet, path: path, key: key}), http.StatusOK)
		}
		mustModel := func(t *testing.T, c gen.StoredContext) analyzer.Context {
			t.Helper()
			require.True(t, c.Known)
			require.NotNil(t, c.Context)
			var out analyzer.Context
			require.NoError(t, json.Unmarshal(*c.Context, &out))
			return out
		}

		t.Run("get-200/unknown", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: path, key: key})
			require.JSONEq(t, `{"known":false}`, rec.Body.String())
		})
		t.Run("put-200", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPut, path: path, key: key,
				body: `{"tags":["vip"],"calendars":[{"id":"cal_1","name":"Consult"}],"pipelines":[{"id":"p1"}],"smsCompliance":{"enabled":true}}`})
			put := mustModel(t, mustJSON[gen.StoredContext](t, rec, http.StatusOK))
			got := mustModel(t, get(t))
			require.Equal(t, put, got)
			require.Equal(t, []string{"vip"}, got.Tags)
			require.Equal(t, []analyzer.Object{{ID: "cal_1", Name: "Consult"}}, got.Calendars)
			require.Nil(t, got.Users, "a list left out is unknown")
			require.Nil(t, got.Pipelines[0].Stages)
			require.True(t, got.SMSCompliance.Enabled)
		})
		t.Run("put-200/empty lists are known", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPut, path: path, key: key, body: `{"tags":[],"users":null}`})
			got := mustModel(t, mustJSON[gen.StoredContext](t, rec, http.StatusOK))
			require.NotNil(t, got.Tags)
			require.Empty(t, got.Tags)
			require.Nil(t, got.Users)
			require.Nil(t, got.Calendars, "PUT replaces the whole context")
		})
		t.Run("put-400", func(t *testing.T) {
			tests := []struct {
				name string
				body string
				want gen.InvalidField
			}{
				{name: "unknown field", body: `{"tagz":["vip"]}`, want: field("tagz", bodyLoc)},
				{name: "unknown nested field", body: `{"calendars":[{"id":"c","color":"red"}]}`, want: field("calendars[0].color", bodyLoc)},
				{name: "wrong type", body: `{"tags":"vip"}`, want: field("tags", bodyLoc)},
				{name: "object without id", body: `{"users":[{"name":"Ann"}]}`, want: field("users[0].id", bodyLoc)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					mustInvalidFields(t, env.call(t, request{method: http.MethodPut, path: path, key: key, body: tt.body}), tt.want)
				})
			}
		})
		t.Run("import with context replaces it", func(t *testing.T) {
			env.mustImport(t, key, loc.Id, bundleDoc)
			got := mustModel(t, get(t))
			require.Equal(t, []string{"new-lead", "no-show"}, got.Tags)
			require.Equal(t, []analyzer.Object{{ID: "cal_consult", Name: "Consult"}}, got.Calendars)
		})
		t.Run("import without context leaves it", func(t *testing.T) {
			before := get(t)
			env.mustImport(t, key, loc.Id, noShowFixed)
			require.JSONEq(t, string(*before.Context), string(*get(t).Context))
		})
		t.Run("404", func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
				t.Run(method, func(t *testing.T) {
					r := request{method: method, path: path, key: otherKey}
					if method == http.MethodPut {
						r.body = `{"tags":["stolen"]}`
					}
					mustProblem(t, env.call(t, r), http.StatusNotFound, "not-found")
				})
			}
			require.Equal(t, []string{"new-lead", "no-show"}, mustModel(t, get(t)).Tags, "another account changed nothing")
		})
		t.Run("delete-204", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodDelete, path: path, key: key})
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			got := get(t)
			require.False(t, got.Known)
			require.Nil(t, got.Context)
			rec = env.call(t, request{method: http.MethodDelete, path: path, key: key})
			require.Equal(t, http.StatusNoContent, rec.Code, "forgetting an unknown context is not an error")
		})
	})
}

// TestImportAtomic checks that a document refused because of one of its workflows leaves the
// location as it was: none of its workflows is stored, and its context replaces nothing.
func TestImportAtomic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "atomic", "Atomic")
		env.mustImport(t, key, loc.Id, bundleDoc)
		before := mustJSON[gen.StoredContext](t, env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/context", key: key}), http.StatusOK)

		// The first workflow is new and valid, the second too long to store: nothing is written, not
		// even the context the document carries.
		doc := fmt.Sprintf(`{"tags":["other"],"workflows":[{"_id":"wf_new","name":"New","steps":[]},{"_id":"%s","name":"Long","steps":[]}]}`, strings.Repeat("x", 256))
		rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/workflows", key: key, body: doc})
		mustUnprocessable(t, rec, "invalid-document", "longer than 255")
		require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
		after := mustJSON[gen.StoredContext](t, env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/context", key: key}), http.StatusOK)
		require.JSONEq(t, string(*before.Context), string(*after.Context))
	})
}
