package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

func init() {
	// The spec check of the answers (mustMatchSpec) decodes a body by its media type; the reports'
	// are plain text to it.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/markdown", openapi3filter.PlainBodyDecoder)
}

// mustReportBody requires a 200 report in media and returns its body.
func mustReportBody(tb testing.TB, rec *httptest.ResponseRecorder, media string) string {
	tb.Helper()
	require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(tb, media+"; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(tb, rec.Header().Values("Vary"), "Accept")
	return rec.Body.String()
}

func TestAnalysisReport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "reportloc", "Reports")
		env.mustImport(t, key, loc.Id, bundleDoc)
		a := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		path := "/v1/analyses/" + a.Id + "/report"
		get := func(t *testing.T, key, accept string) *httptest.ResponseRecorder {
			t.Helper()
			r := request{method: http.MethodGet, path: path, key: key}
			if accept != "" {
				r.headers = map[string]string{"Accept": accept}
			}
			return env.call(t, r)
		}

		t.Run("report-200/html by default, every workflow drawn", func(t *testing.T) {
			for _, accept := range []string{"", "*/*", "text/html", "text/*", "text/markdown;q=0.5, text/html"} {
				page := mustReportBody(t, get(t, key, accept), "text/html")
				require.True(t, strings.HasPrefix(page, "<!doctype html>"), "Accept %q", accept)
				require.Contains(t, page, "<h1>Workflow health report</h1>")
				for _, wf := range []string{"wf-1", "wf-2", "wf-3"} {
					require.Contains(t, page, `<svg id="`+wf+`-drawing" role="img"`, "Accept %q", accept)
				}
				require.Contains(t, page, `href="#finding-1"`)
				require.NotContains(t, page, "http://")
			}
		})
		t.Run("report-200/markdown", func(t *testing.T) {
			for _, accept := range []string{"text/markdown", "text/html;q=0.2, text/markdown", "application/json, text/markdown;q=0.1"} {
				md := mustReportBody(t, get(t, key, accept), "text/markdown")
				require.True(t, strings.HasPrefix(md, "# Workflow health report"), "Accept %q", accept)
				require.Contains(t, md, "WD013")
			}
		})
		t.Run("report-200/workflows changed since: findings without drawings", func(t *testing.T) {
			env.mustImport(t, key, loc.Id, noShowFixed)
			page := mustReportBody(t, get(t, key, ""), "text/html")
			require.Contains(t, page, "have changed since this analysis")
			require.NotContains(t, page, `-drawing" role="img"`)
			require.Contains(t, page, `id="finding-1"`)
			env.mustImport(t, key, loc.Id, bundleDoc)
			require.Contains(t, mustReportBody(t, get(t, key, ""), "text/html"), `<svg id="wf-1-drawing"`, "drawn again once the workflows are back")
		})
		t.Run("report-200/a posted document is not drawn", func(t *testing.T) {
			doc := env.mustAnalyzeDocument(t, key, `{"document":`+noShowFixed+`}`, http.StatusCreated)
			rec := env.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + doc.Id + "/report", key: key})
			page := mustReportBody(t, rec, "text/html")
			require.Contains(t, page, "posted document")
			require.NotContains(t, page, `-drawing" role="img"`)
		})
		t.Run("report-404/another account's analysis", func(t *testing.T) {
			mustProblem(t, get(t, otherKey, ""), http.StatusNotFound, "not-found")
			mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/analyses/ana_missing/report", key: key}), http.StatusNotFound, "not-found")
		})
		t.Run("report-406/accept admits neither", func(t *testing.T) {
			for _, accept := range []string{"application/json", "text/html;q=0, text/markdown;q=0", "image/*"} {
				p := mustProblem(t, get(t, key, accept), http.StatusNotAcceptable, "not-acceptable")
				require.NotNil(t, p.Detail)
				require.Contains(t, *p.Detail, "text/html, text/markdown")
			}
		})
		t.Run("report-401/no key", func(t *testing.T) {
			mustProblem(t, get(t, "", ""), http.StatusUnauthorized, "unauthorized")
		})
	})
}

func TestDiffReport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "diffreport", "Diffs")
		other := env.mustCreateLocation(t, key, "elsewhere", "Elsewhere")
		env.mustImport(t, key, loc.Id, bundleDoc)
		env.mustImport(t, key, other.Id, bundleDoc)
		a := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		env.mustImport(t, key, loc.Id, noShowFixed)
		b := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		elsewhere := env.mustAnalyze(t, key, other.Id, `{"scope":"location"}`, http.StatusCreated)
		get := func(t *testing.T, key, to, against, accept string) *httptest.ResponseRecorder {
			t.Helper()
			r := request{method: http.MethodGet, path: "/v1/analyses/" + to + "/diff/report?against=" + against, key: key}
			if accept != "" {
				r.headers = map[string]string{"Accept": accept}
			}
			return env.call(t, r)
		}

		t.Run("diff-report-200/html", func(t *testing.T) {
			page := mustReportBody(t, get(t, key, b.Id, a.Id, ""), "text/html")
			require.Contains(t, page, "<h1>Before and after</h1>")
			require.Contains(t, page, "1 finding fixed, 0 new, 3 unchanged")
			require.Contains(t, page, `<h2 id="fixed-h">Fixed (1)</h2>`)
			require.Contains(t, page, "before: "+a.Id+" of ")
		})
		t.Run("diff-report-200/markdown", func(t *testing.T) {
			md := mustReportBody(t, get(t, key, b.Id, a.Id, "text/markdown"), "text/markdown")
			require.True(t, strings.HasPrefix(md, "# Before and after"))
			require.Contains(t, md, "## Fixed (1)\n\n### WARNING WD013")
		})
		t.Run("diff-report-404/another account's analysis", func(t *testing.T) {
			mustProblem(t, get(t, otherKey, b.Id, a.Id, ""), http.StatusNotFound, "not-found")
		})
		t.Run("diff-report-422/another location", func(t *testing.T) {
			mustProblem(t, get(t, key, b.Id, elsewhere.Id, ""), http.StatusUnprocessableEntity, "not-comparable")
		})
		t.Run("diff-report-406/accept admits neither", func(t *testing.T) {
			mustProblem(t, get(t, key, b.Id, a.Id, "application/json"), http.StatusNotAcceptable, "not-acceptable")
		})
	})
}
