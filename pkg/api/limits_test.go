package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestContextObjectsLimit checks that a document or a context describing more location context
// objects than the limit is refused with 422 limit-exceeded naming it, on every route that takes
// one, and that nothing is stored.
func TestContextObjectsLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, func(c *api.Config) { c.MaxContextObjects = 3 })
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "ctxlimit", "Context limit")
		require.Equal(t, int32(3), env.mustMe(t, key).Limits.MaxContextObjects)
		// bundleDoc describes two tags and one calendar: exactly the limit.
		over := `{"tags":["a","b"],"calendars":[{"id":"c1"},{"id":"c2"}],"workflows":[{"name":"W","_id":"wf_w","status":"published","triggers":[],"steps":[]}]}`

		t.Run("import-422", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/workflows", key: key, body: over})
			p := mustProblem(t, rec, http.StatusUnprocessableEntity, "limit-exceeded")
			require.Contains(t, *p.Detail, "at most 3")
			require.Zero(t, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
		t.Run("analyze document-422", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/analyses", key: key, body: `{"document":` + over + `}`})
			mustProblem(t, rec, http.StatusUnprocessableEntity, "limit-exceeded")
			require.Zero(t, env.mustMe(t, key).Usage.AnalysesThisHour)
		})
		t.Run("put context-422", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPut, path: "/v1/locations/" + loc.Id + "/context", key: key,
				body: `{"tags":["a"],"pipelines":[{"id":"p1","stages":[{"id":"s1"},{"id":"s2"}]}]}`})
			p := mustProblem(t, rec, http.StatusUnprocessableEntity, "limit-exceeded")
			require.Contains(t, *p.Detail, "4 objects")
		})
		t.Run("at the limit-201", func(t *testing.T) {
			env.mustImport(t, key, loc.Id, bundleDoc)
		})
	})
}
