package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestAnalysisValidators checks that an analysis by id carries a strong ETag, answers a matching
// If-None-Match with 304, and is sent gzipped only to a client that takes gzip, the same bytes
// either way.
func TestAnalysisValidators(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		run := env.mustAnalyzeDocument(t, key, `{"document":`+bundleDoc+`}`, http.StatusCreated)
		path := "/v1/analyses/" + run.Id

		plain := env.call(t, request{method: http.MethodGet, path: path, key: key})
		got := mustJSON[gen.Analysis](t, plain, http.StatusOK)
		require.Equal(t, run.Id, got.Id)
		etag := plain.Header().Get("ETag")
		require.Regexp(t, `^"[0-9a-f]{32}"$`, etag, "a strong validator")
		require.Equal(t, "private, no-cache", plain.Header().Get("Cache-Control"))
		require.Empty(t, plain.Header().Get("Content-Encoding"))

		t.Run("get-200/the same validator every time", func(t *testing.T) {
			again := env.call(t, request{method: http.MethodGet, path: path, key: key})
			require.Equal(t, etag, again.Header().Get("ETag"))
			require.Equal(t, plain.Body.String(), again.Body.String())
		})
		t.Run("get-304", func(t *testing.T) {
			for _, inm := range []string{etag, `"other", ` + etag, "*", "W/" + etag} {
				rec := env.call(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"If-None-Match": inm}})
				require.Equal(t, http.StatusNotModified, rec.Code, inm)
				require.Empty(t, rec.Body.String())
				require.Equal(t, etag, rec.Header().Get("ETag"))
				mustRateLimitHeaders(t, rec)
			}
		})
		t.Run("get-200/a stale validator gets the body", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"If-None-Match": `"stale"`}})
			require.Equal(t, http.StatusOK, rec.Code)
		})
		t.Run("get-200/gzip", func(t *testing.T) {
			rec := env.do(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"Accept-Encoding": "gzip"}})
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
			require.Equal(t, etag, rec.Header().Get("ETag"))
			require.Equal(t, plain.Body.String(), string(mustGunzip(t, rec.Body.Bytes())), "gzipped once, the same bytes")
			noZip := env.do(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"Accept-Encoding": "gzip", "X-No-Compression": "1"}})
			require.Empty(t, noZip.Header().Get("Content-Encoding"))
			require.Equal(t, plain.Body.String(), noZip.Body.String())
		})
		t.Run("get-404/another account's validator", func(t *testing.T) {
			rec := env.call(t, request{method: http.MethodGet, path: path, key: otherKey, headers: map[string]string{"If-None-Match": etag}})
			mustProblem(t, rec, http.StatusNotFound, "not-found")
		})
	})
}
