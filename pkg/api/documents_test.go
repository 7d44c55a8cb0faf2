package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// documentBodyBytes is the body limit of the workflow tests: room for the fixtures, small enough to
// exceed cheaply.
const documentBodyBytes = 64 << 10

// bundleDoc is an auditor bundle with the location's tags and calendars and three workflows whose
// analysis has known findings: WD013 (warning) and WD024 (info) on wf_noshow, WD018 (info) on
// wf_welcome and WD012 (error) on wf_orphan. Its keys are deliberately not in alphabetical order,
// so a document re-encoded on the way would show.
const bundleDoc = `{"tags":["new-lead","no-show"],"calendars":[{"id":"cal_consult","name":"Consult"}],"workflows":[
{"name":"No Show Recovery","_id":"wf_noshow","status":"published","triggers":[{"type":"appointment","name":"Appointment Status","filters":[]}],"steps":[{"type":"sms","name":"Sorry we missed you","meta":{"body":"Sorry we missed you today. Want to grab another time? Reply STOP to opt out."}}]},
{"name":"Welcome","_id":"wf_welcome","status":"draft","triggers":[{"type":"contact_tag_added","name":"Tagged new-lead","filters":[{"tag":"new-lead"}]}],"steps":[{"type":"add_tag","name":"Mark welcomed","meta":{"tags":["welcomed"]}}]},
{"name":"Orphan","_id":"wf_orphan","status":"published","triggers":[],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["x"]}}]}
]}`

// noShowFixed is wf_noshow alone, as a single bundle workflow (so without context), with the status
// and calendar filters whose absence WD013 reports.
const noShowFixed = `{"name":"No Show Recovery","_id":"wf_noshow","status":"published","triggers":[{"type":"appointment","name":"Appointment Status","filters":[{"field":"appointment_status","value":"noshow"},{"field":"calendar","value":"cal_consult"}]}],"steps":[{"type":"sms","name":"Sorry we missed you","meta":{"body":"Sorry we missed you today. Want to grab another time? Reply STOP to opt out."}}]}`

// mustDocumentEnv builds the handler over a fresh database on engine with room for workflow
// documents; edit, when not nil, adjusts the configuration further.
func mustDocumentEnv(tb testing.TB, engine string, edit func(*api.Config)) *testEnv {
	tb.Helper()
	db := storetest.New(tb, engine)
	logs := &logtest.Buffer{}
	cfg := api.Config{
		Store:        db,
		Logger:       slog.New(slog.NewJSONHandler(logs, nil)),
		Version:      "v1.2.3-test",
		MaxBodyBytes: documentBodyBytes,
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := api.NewHandler(cfg)
	require.NoError(tb, err)
	return &testEnv{db: db, handler: h, logs: logs}
}

// specRouter finds the operation of a request in the embedded spec, for checking responses.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, err
	}
	spec.Servers = nil
	return gorillamux.NewRouter(spec)
})

// call sends r like do and requires the response to be one the spec documents for the operation:
// a listed status, the declared headers and a body that matches its schema.
func (e *testEnv) call(tb testing.TB, r request) *httptest.ResponseRecorder {
	tb.Helper()
	rec := e.do(tb, r)
	route := mustMatchSpec(tb, r, rec)
	if needsKey(route) && (rec.Code < http.StatusMultipleChoices || rec.Code == http.StatusTooManyRequests) {
		// The spec declares the rate-limit headers optional, so that the generated responses
		// leave them to the middleware; every authenticated answer must carry them all the same.
		mustRateLimitHeaders(tb, rec)
	}
	return rec
}

// mustMatchSpec requires rec, the answer to r, to be one the spec documents for the operation of r,
// and returns that operation's route.
func mustMatchSpec(tb testing.TB, r request, rec *httptest.ResponseRecorder) *routers.Route {
	tb.Helper()
	router, err := specRouter()
	require.NoError(tb, err)
	req := httptest.NewRequestWithContext(context.Background(), r.method, r.path, nil)
	route, params, err := router.FindRoute(req)
	require.NoError(tb, err, "%s %s is not an operation of the spec", r.method, r.path)
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	require.NoError(tb, err, "%s %s answered %d outside the spec: %s", r.method, r.path, rec.Code, rec.Body.String())
	return route
}

// needsKey reports whether the operation of route requires an API key (bearerAuth).
func needsKey(route *routers.Route) bool {
	security := route.Operation.Security
	if security == nil {
		security = &route.Spec.Security
	}
	return len(*security) > 0
}

// mustImport imports doc into the location and returns the result.
func (e *testEnv) mustImport(tb testing.TB, key, locationID, doc string) gen.ImportResult {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/workflows", key: key, body: doc})
	return mustJSON[gen.ImportResult](tb, rec, http.StatusCreated)
}

// mustWorkflowCount counts a location's workflows directly in the store.
func (e *testEnv) mustWorkflowCount(tb testing.TB, accountID, locationID string) int {
	tb.Helper()
	wfs, err := e.db.LocationWorkflows(context.Background(), accountID, locationID)
	require.NoError(tb, err)
	return len(wfs)
}

// byGHLID indexes an import's workflows by their GHL id.
func byGHLID(res gen.ImportResult) map[string]gen.ImportedWorkflow {
	out := make(map[string]gen.ImportedWorkflow, len(res.Workflows))
	for _, w := range res.Workflows {
		out[w.GhlWorkflowId] = w
	}
	return out
}

// mustUnprocessable checks a 422 problem of the given slug whose detail contains every want.
func mustUnprocessable(tb testing.TB, rec *httptest.ResponseRecorder, slug string, want ...string) gen.Problem {
	tb.Helper()
	p := mustProblem(tb, rec, http.StatusUnprocessableEntity, slug)
	for _, w := range want {
		require.Contains(tb, *p.Detail, w)
	}
	return p
}

// bundleOf writes a bundle of n workflows of steps steps each.
func bundleOf(n, steps int) string {
	wfs := make([]string, n)
	for i := range wfs {
		ss := make([]string, steps)
		for j := range ss {
			ss[j] = fmt.Sprintf(`{"type":"add_tag","name":"Step %d","meta":{"tags":["t%d"]}}`, j, j)
		}
		wfs[i] = fmt.Sprintf(`{"_id":"wf_%d","name":"W%d","status":"draft","triggers":[],"steps":[%s]}`, i, i, strings.Join(ss, ","))
	}
	return `{"workflows":[` + strings.Join(wfs, ",") + `]}`
}

func TestDocumentLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, func(c *api.Config) {
			c.MaxWorkflowsPerImport = 3
			c.MaxStepsPerWorkflow = 4
		})
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "limits", "Limits")
		imports := "/v1/locations/" + loc.Id + "/workflows"

		t.Run("import-201/at the limits", func(t *testing.T) {
			res := env.mustImport(t, key, loc.Id, bundleOf(3, 4))
			require.Len(t, res.Workflows, 3)
		})
		tests := []struct {
			name   string
			doc    string
			detail []string
		}{
			{name: "workflows per import", doc: bundleOf(4, 1), detail: []string{"workflows per import", "at most 3"}},
			{name: "steps per workflow", doc: bundleOf(1, 5), detail: []string{"steps per workflow", "at most 4", "has 5 steps"}},
			{name: "nesting depth", doc: `{"workflows":[` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `]}`, detail: []string{"levels of nesting", "at most 64"}},
		}
		for _, tt := range tests {
			t.Run("import-422/"+tt.name, func(t *testing.T) {
				rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: tt.doc})
				mustUnprocessable(t, rec, "limit-exceeded", tt.detail...)
			})
			t.Run("analyze document-422/"+tt.name, func(t *testing.T) {
				body := `{"document":` + tt.doc + `}`
				rec := env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: body})
				mustUnprocessable(t, rec, "limit-exceeded", tt.detail...)
			})
		}
		t.Run("import-413", func(t *testing.T) {
			doc := bundleOf(1, 1)
			doc = doc[:len(doc)-1] + `,"padding":"` + strings.Repeat("x", documentBodyBytes) + `"}`
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: doc})
			mustProblem(t, rec, http.StatusRequestEntityTooLarge, "payload-too-large")
			rec = env.call(t, request{method: http.MethodPost, path: imports, key: key, body: doc, chunked: true})
			mustProblem(t, rec, http.StatusRequestEntityTooLarge, "payload-too-large")
		})
		t.Run("over a limit writes nothing", func(t *testing.T) {
			require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
	})
}
