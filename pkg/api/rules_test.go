package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

func TestRules(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierFree)
	etag := `W/"rules-` + analyzer.Version + `"`
	requireCacheable := func(t *testing.T, h http.Header) {
		t.Helper()
		require.Equal(t, "public, max-age=3600", h.Get("Cache-Control"))
		require.Equal(t, etag, h.Get("ETag"))
	}

	t.Run("list-200/without a key", func(t *testing.T) {
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/rules"})
		got := mustJSON[gen.RuleList](t, rec, http.StatusOK)
		requireCacheable(t, rec.Header())
		require.Equal(t, analyzer.Version, got.AnalyzerVersion)
		docs := analyzer.Rules()
		require.Len(t, got.Items, len(docs))
		for i, d := range docs {
			r := got.Items[i]
			require.Equal(t, d.ID, r.Id, "ordered by id")
			require.Equal(t, d.Title, r.Title)
			require.Equal(t, d.Why, r.Why)
			require.Equal(t, d.Fix, r.Fix)
			require.Len(t, r.Needs, len(d.Needs))
		}
	})
	t.Run("list-200/a key is not needed but does no harm", func(t *testing.T) {
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/rules", key: key})
		require.Equal(t, http.StatusOK, rec.Code)
	})
	t.Run("get-200", func(t *testing.T) {
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/rules/WD013"})
		got := mustJSON[gen.Rule](t, rec, http.StatusOK)
		requireCacheable(t, rec.Header())
		doc, ok := analyzer.Rule("WD013")
		require.True(t, ok)
		require.Equal(t, gen.Rule{
			Id: doc.ID, Category: doc.Category, Severity: gen.Severity(doc.Severity), Title: doc.Title, Summary: doc.Summary,
			Why: doc.Why, Fix: doc.Fix, Example: doc.Example, Needs: []gen.RuleNeeds{gen.RuleNeeds(analyzer.NeedsWorkflow)},
		}, got)
	})
	conditional := []struct {
		name        string
		ifNoneMatch string
		status      int
	}{
		{name: "same tag", ifNoneMatch: etag, status: http.StatusNotModified},
		{name: "strong form of the tag", ifNoneMatch: strings.TrimPrefix(etag, "W/"), status: http.StatusNotModified},
		{name: "one of several", ifNoneMatch: `"old", ` + etag, status: http.StatusNotModified},
		{name: "any", ifNoneMatch: "*", status: http.StatusNotModified},
		{name: "an older version", ifNoneMatch: `W/"rules-0.0.1"`, status: http.StatusOK},
	}
	for _, path := range []string{"/v1/rules", "/v1/rules/WD001"} {
		for _, tt := range conditional {
			t.Run(path+"/if-none-match/"+tt.name, func(t *testing.T) {
				rec := env.call(t, request{method: http.MethodGet, path: path, headers: map[string]string{"If-None-Match": tt.ifNoneMatch}})
				require.Equal(t, tt.status, rec.Code, rec.Body.String())
				requireCacheable(t, rec.Header())
				if tt.status == http.StatusNotModified {
					require.Empty(t, rec.Body.String())
				}
			})
		}
	}
	t.Run("get-404", func(t *testing.T) {
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/rules/WD999", headers: map[string]string{"If-None-Match": "*"}})
		p := mustProblem(t, rec, http.StatusNotFound, "not-found")
		require.Contains(t, *p.Detail, "WD999")
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
	t.Run("get-400", func(t *testing.T) {
		mustInvalidFields(t, env.call(t, request{method: http.MethodGet, path: "/v1/rules/wd13"}), field("ruleId", pathLoc))
		rec := env.call(t, request{method: http.MethodGet, path: "/v1/rules", headers: map[string]string{"If-None-Match": strings.Repeat("x", 1025)}})
		mustInvalidFields(t, rec, field("If-None-Match", gen.InvalidFieldLocationHeader))
	})
}
