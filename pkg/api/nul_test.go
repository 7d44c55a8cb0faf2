package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestNULRefused sends the NUL character (U+0000) in a string of every write route, and in query
// and path parameters, on both engines: each answers the same 400 naming the field, and nothing is
// stored or counted.
func TestNULRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "nulloc", "NUL")
		locPath := "/v1/locations/" + loc.Id
		nulBundle := strings.Replace(bundleDoc, `"No Show Recovery"`, `"No Show\u0000Recovery"`, 1)
		nulID := strings.Replace(bundleDoc, `"wf_welcome"`, `"wf_wel\u0000come"`, 1)

		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   string
			fields []gen.InvalidField
		}{
			{name: "location name", method: http.MethodPost, path: "/v1/locations",
				body:   `{"ghlLocationId":"nul2","name":"Down\u0000town","timezone":"UTC"}`,
				fields: []gen.InvalidField{field("name", gen.InvalidFieldLocationBody)}},
			{name: "API key name", method: http.MethodPost, path: "/v1/api-keys",
				body:   `{"name":"ci\u0000"}`,
				fields: []gen.InvalidField{field("name", gen.InvalidFieldLocationBody)}},
			{name: "workflow name in an import", method: http.MethodPost, path: locPath + "/workflows",
				body:   nulBundle,
				fields: []gen.InvalidField{field("workflows[0].name", gen.InvalidFieldLocationBody)}},
			{name: "workflow id in an import", method: http.MethodPost, path: locPath + "/workflows",
				body:   nulID,
				fields: []gen.InvalidField{field("workflows[1]._id", gen.InvalidFieldLocationBody)}},
			{name: "context key and value", method: http.MethodPut, path: locPath + "/context",
				body: `{"tags":["vip","v\u0000ip"],"cus\u0000tom":1}`,
				fields: []gen.InvalidField{field("tags[1]", gen.InvalidFieldLocationBody),
					field(`cus\u0000tom`, gen.InvalidFieldLocationBody)}},
			{name: "posted document", method: http.MethodPost, path: "/v1/analyses",
				body:   `{"document":` + nulBundle + `,"locationId":"` + loc.Id + `"}`,
				fields: []gen.InvalidField{field("document.workflows[0].name", gen.InvalidFieldLocationBody)}},
			{name: "analysis request", method: http.MethodPost, path: locPath + "/analyses",
				body:   `{"scope":"location\u0000"}`,
				fields: []gen.InvalidField{field("scope", gen.InvalidFieldLocationBody)}},
			{name: "query parameter", method: http.MethodGet, path: "/v1/locations?cursor=abc%00",
				fields: []gen.InvalidField{field("cursor", gen.InvalidFieldLocationQuery)}},
		} {
			t.Run("400/"+tc.name, func(t *testing.T) {
				rec := env.call(t, request{method: tc.method, path: tc.path, key: key, body: tc.body})
				mustInvalidFields(t, rec, tc.fields...)
				require.NotContains(t, rec.Body.String(), "Down", "the value itself is not repeated")
			})
		}

		t.Run("nothing stored or counted", func(t *testing.T) {
			require.Equal(t, 1, env.mustLocationCount(t, acc.ID))
			require.Equal(t, 0, env.mustWorkflowCount(t, acc.ID, loc.Id))
			keys, err := env.db.ListAPIKeys(context.Background(), acc.ID)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			ctxDoc, err := env.db.GetContext(context.Background(), acc.ID, loc.Id)
			require.NoError(t, err)
			require.Nil(t, ctxDoc)
			require.Zero(t, env.mustMe(t, key).Usage.AnalysesThisHour)
		})
		t.Run("an escaped backslash is no NUL", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/api-keys", key: key, body: `{"name":"ci\\u0000"}`})
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		})
	})
}

// failingAnalyses is a store whose CreateAnalysis fails while fail is set.
type failingAnalyses struct {
	api.Store
	fail *atomic.Bool
}

func (f failingAnalyses) CreateAnalysis(ctx context.Context, accountID string, in store.NewAnalysis) (store.Analysis, error) {
	if f.fail.Load() {
		return store.Analysis{}, errors.New("disk full")
	}
	return f.Store.CreateAnalysis(ctx, accountID, in)
}

// TestFailedAnalysisCostsNothing checks that an analysis that was admitted and then failed gives
// its place in the account's analyses per hour back, while a stored one keeps it.
func TestFailedAnalysisCostsNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierFree)
		fail := &atomic.Bool{}
		fail.Store(true)
		broken := mustEnvWithStore(t, env.db, failingAnalyses{Store: env.db, fail: fail})
		body := `{"document":` + bundleDoc + `}`
		rec := broken.do(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: body})
		mustProblem(t, rec, http.StatusInternalServerError, "internal-error")
		require.Zero(t, broken.mustMe(t, key).Usage.AnalysesThisHour)

		fail.Store(false)
		rec = broken.do(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: body})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		require.Equal(t, int32(1), broken.mustMe(t, key).Usage.AnalysesThisHour)
		rec = broken.do(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: body})
		require.Equal(t, http.StatusOK, rec.Code, "reused: %s", rec.Body.String())
		require.Equal(t, int32(1), broken.mustMe(t, key).Usage.AnalysesThisHour, "a reused analysis is free")
	})
}
