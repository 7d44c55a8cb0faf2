package api_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// mustGzip compresses data.
func mustGzip(tb testing.TB, data []byte) string {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(tb, err)
	require.NoError(tb, zw.Close())
	return buf.String()
}

// TestGzipRequestBodies checks that a body sent with Content-Encoding: gzip is read decompressed,
// that the body limit applies to the decompressed size, and that a body that is not gzip, or in
// another coding, is refused without changing anything.
func TestGzipRequestBodies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		acc, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "gziploc", "Gzip")
		imports := "/v1/locations/" + loc.Id + "/workflows"
		gz := map[string]string{"Content-Encoding": "gzip"}

		t.Run("import-201/gzip body", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: mustGzip(t, []byte(bundleDoc)), headers: gz})
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
			// The raw document is stored as it was before compression.
			wfs, err := env.db.LocationWorkflows(t.Context(), acc.ID, loc.Id)
			require.NoError(t, err)
			w, err := env.db.GetWorkflow(t.Context(), acc.ID, loc.Id, wfs[0].ID)
			require.NoError(t, err)
			require.Contains(t, string(w.Raw), "No Show Recovery")
		})
		t.Run("create-201/gzip body on a small route", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: "/v1/api-keys", key: key, body: mustGzip(t, []byte(`{"name":"zipped"}`)), headers: gz})
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		})
		t.Run("import-413/inflates past the limit", func(t *testing.T) {
			bomb := `{"tags":["` + strings.Repeat("a", documentBodyBytes*4) + `"],"workflows":[]}`
			compressed := mustGzip(t, []byte(bomb))
			require.Less(t, len(compressed), documentBodyBytes/10, "the compressed body is well within the limit")
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: compressed, headers: gz})
			mustProblem(t, rec, http.StatusRequestEntityTooLarge, "payload-too-large")
		})
		t.Run("import-400/not gzip", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: bundleDoc, headers: gz})
			p := mustProblem(t, rec, http.StatusBadRequest, "bad-request")
			require.Contains(t, *p.Detail, "gzip")
		})
		t.Run("import-400/truncated gzip", func(t *testing.T) {
			compressed := mustGzip(t, []byte(bundleDoc))
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: compressed[:len(compressed)/2], headers: gz})
			mustProblem(t, rec, http.StatusBadRequest, "bad-request")
		})
		t.Run("import-415/other coding", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodPost, path: imports, key: key, body: bundleDoc, headers: map[string]string{"Content-Encoding": "br"}})
			p := mustProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-media-type")
			require.Contains(t, *p.Detail, "gzip")
		})
		t.Run("nothing else was stored", func(t *testing.T) {
			require.Equal(t, 3, env.mustWorkflowCount(t, acc.ID, loc.Id))
		})
	})
}
