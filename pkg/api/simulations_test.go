package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// quoteDoc is a location with one speed-to-lead sequence: a text at once, another a day later.
const quoteDoc = `{"workflows":[{"_id":"wf_quote","name":"Quote Follow Up","status":"published",
"triggers":[{"type":"form_submitted","filters":[{"field":"form","value":"Quote request"}]}],
"steps":[{"type":"sms","name":"Thanks","meta":{"body":"Hi {{contact.first_name}}, thanks for the quote request."}},
{"type":"wait","name":"A day","meta":{"delay":"1 day"}},
{"type":"sms","name":"Follow up","meta":{"body":"Still keen?"}}]}]}`

// quoteRequest is a lead from New York asking for a quote at 21:40.
const quoteRequest = `{"contact":{"id":"lead-42","fields":{"first_name":"Ana"},"timezone":"America/New_York"},
"start":{"at":"2026-03-01T21:40:00-05:00","type":"form_submitted","form":"Quote request"},"horizon":"7d"}`

func (e *testEnv) mustSimulate(tb testing.TB, key, locationID, body string) gen.Simulation {
	tb.Helper()
	rec := e.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/simulations", key: key, body: body})
	sim := mustJSON[gen.Simulation](tb, rec, http.StatusCreated)
	require.Equal(tb, "/v1/simulations/"+sim.Id, rec.Header().Get("Location"))
	return sim
}

func TestSimulations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "simloc", "Simulations")
		empty := env.mustCreateLocation(t, key, "emptysim", "Empty")
		theirs := env.mustCreateLocation(t, otherKey, "theirsim", "Theirs")
		env.mustImport(t, key, loc.Id, quoteDoc)
		env.mustImport(t, otherKey, theirs.Id, quoteDoc)
		path := "/v1/locations/" + loc.Id + "/simulations"

		var first gen.Simulation
		t.Run("simulate-201", func(t *testing.T) {
			first = env.mustSimulate(t, key, loc.Id, quoteRequest)
			require.Regexp(t, `^sim_[a-z2-7]{20}$`, first.Id)
			require.Equal(t, loc.Id, first.LocationId)
			res := first.Result
			require.Len(t, res.Messages, 2)
			require.Equal(t, "2026-03-01T21:40:00-05:00", res.Messages[0].Local)
			require.Equal(t, "Hi Ana, thanks for the quote request.", res.Messages[0].Text)
			require.Equal(t, "2026-03-02T21:40:00-05:00", res.Messages[1].Local)
			require.Equal(t, "America/New_York", res.Timezone)
			var kinds []gen.SimulationFindingKind
			for _, f := range res.Findings {
				kinds = append(kinds, f.Kind)
			}
			require.Equal(t, []gen.SimulationFindingKind{gen.SimulationFindingKindQuietHours, gen.SimulationFindingKindQuietHours}, kinds)
			require.Equal(t, "lead-42", *first.Request.Contact.Id)
		})
		t.Run("get-200", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/simulations/" + first.Id, key: key})
			got := mustJSON[gen.Simulation](t, rec, http.StatusOK)
			want, err := json.Marshal(first)
			require.NoError(t, err)
			require.JSONEq(t, string(want), rec.Body.String())
			require.Equal(t, first.Id, got.Id)
		})
		t.Run("get-404/another account's simulation", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/simulations/" + first.Id, key: otherKey})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
		t.Run("list-200", func(t *testing.T) {
			second := env.mustSimulate(t, key, loc.Id, quoteRequest)
			rec := env.call(t, request{method: http.MethodGet, path: path + "?limit=1", key: key})
			page := mustJSON[gen.SimulationList](t, rec, http.StatusOK)
			require.Len(t, page.Items, 1)
			require.Equal(t, second.Id, page.Items[0].Id)
			require.Equal(t, int32(2), page.Items[0].Messages)
			require.Equal(t, gen.MaxSeverityError, page.Items[0].MaxSeverity)
			require.NotNil(t, page.NextCursor)
			rec = env.call(t, request{method: http.MethodGet, path: path + "?limit=1&cursor=" + *page.NextCursor, key: key})
			page = mustJSON[gen.SimulationList](t, rec, http.StatusOK)
			require.Len(t, page.Items, 1)
			require.Equal(t, first.Id, page.Items[0].Id)
			require.Nil(t, page.NextCursor)
		})
		t.Run("list-404/another account's location", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/locations/" + theirs.Id + "/simulations", key: key})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
		t.Run("simulate-404/another account's location", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + theirs.Id + "/simulations", key: key, body: quoteRequest})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
		t.Run("simulate-422/over a limit", func(t *testing.T) {
			body := `{"start":{"at":"2026-03-01T21:40:00-05:00","type":"form_submitted","form":"Quote request"},"contact":{},"horizon":"400d"}`
			rec := env.call(t, request{method: http.MethodPost, path: path, key: key, body: body})
			p := mustProblem(t, rec, http.StatusUnprocessableEntity, "limit-exceeded")
			require.Contains(t, *p.Detail, "MaxHorizon")
		})
		t.Run("simulate-422/unknown time zone", func(t *testing.T) {
			body := `{"start":{"at":"2026-03-01T21:40:00-05:00","type":"form_submitted"},"contact":{"timezone":"Mars/Olympus"}}`
			rec := env.call(t, request{method: http.MethodPost, path: path, key: key, body: body})
			p := mustProblem(t, rec, http.StatusUnprocessableEntity, "invalid-simulation")
			require.NotNil(t, p.InvalidFields)
			require.Equal(t, "contact.timezone", (*p.InvalidFields)[0].Field)
		})
		t.Run("simulate-422/no workflows", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + empty.Id + "/simulations", key: key, body: quoteRequest})
			mustProblem(t, rec, http.StatusUnprocessableEntity, "no-workflows")
		})
		t.Run("simulate-400/no start", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: path, key: key, body: `{"contact":{}}`})
			mustInvalidFields(t, rec, field("start", gen.InvalidFieldLocationBody))
		})
		t.Run("document-200", func(t *testing.T) {
			var req map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(quoteRequest), &req))
			req["document"] = json.RawMessage(quoteDoc)
			body, err := json.Marshal(req)
			require.NoError(t, err)
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/simulations", key: key, body: string(body)})
			res := mustJSON[gen.SimulationResult](t, rec, http.StatusOK)
			require.Len(t, res.Messages, 2)
			require.Equal(t, first.Result.Messages, res.Messages)
			// Nothing was stored: the location still lists the two simulations above.
			rec = env.call(t, request{method: http.MethodGet, path: path, key: key})
			require.Len(t, mustJSON[gen.SimulationList](t, rec, http.StatusOK).Items, 2)
		})
		t.Run("document-422/unreadable document", func(t *testing.T) {
			body := `{"document":{"nothing":"here"},"contact":{},"start":{"at":"2026-03-01T21:40:00-05:00","type":"contact_created"}}`
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/simulations", key: key, body: body})
			mustProblem(t, rec, http.StatusUnprocessableEntity, "invalid-document")
		})
	})
}
