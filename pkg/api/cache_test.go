package api_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// mustSharedInstances builds two handlers over env's database, each with its own cache over one
// Redis (miniredis), as two instances of the service behind a load balancer are.
func (e *testEnv) mustSharedInstances(tb testing.TB) (*testEnv, *testEnv) {
	tb.Helper()
	mr := miniredis.RunT(tb)
	instance := func() *testEnv {
		client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
		tb.Cleanup(func() { _ = client.Close() })
		c, err := cache.New(cache.Config{Redis: client})
		require.NoError(tb, err)
		tb.Cleanup(c.Close)
		logs := &logtest.Buffer{}
		h, err := api.NewHandler(api.Config{
			Store: e.db, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Version: "v1.2.3-test",
			MaxBodyBytes: documentBodyBytes, UpgradeURL: testUpgradeURL, Cache: c,
		})
		require.NoError(tb, err)
		return &testEnv{db: e.db, handler: h, logs: logs}
	}
	return instance(), instance()
}

// TestCachedReads checks the reads that go through the cache against the writes that must
// invalidate them, on the same instance and on another one sharing Redis: a revoked key, a changed
// tier, a new import and a deleted location are seen at once, and two accounts with byte-identical
// data never share an entry.
func TestCachedReads(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustRateLimitEnv(t, engine, nil)
		one, two := env.mustSharedInstances(t)
		admin := env.mustAdmin(t)
		acc, key := env.mustAccount(t, "Acme", store.TierFree)

		t.Run("a revoked key is refused on the other instance", func(t *testing.T) {
			_, spare := env.mustAccount(t, "Spare", store.TierPro)
			require.Equal(t, http.StatusOK, two.do(t, request{method: http.MethodGet, path: "/v1/me", key: spare}).Code)
			keys := mustJSON[struct {
				Items []struct{ Id string } `json:"items"`
			}](t, one.do(t, request{method: http.MethodGet, path: "/v1/api-keys", key: spare}), http.StatusOK)
			require.Equal(t, http.StatusOK, one.do(t, request{method: http.MethodDelete, path: "/v1/api-keys/" + keys.Items[0].Id, key: spare}).Code)
			// Invalidations travel through Redis's pub/sub: the product promises a second.
			require.Eventually(t, func() bool {
				return two.do(t, request{method: http.MethodGet, path: "/v1/me", key: spare}).Code == http.StatusUnauthorized
			}, time.Second, 5*time.Millisecond)
		})
		t.Run("a tier change reaches the other instance", func(t *testing.T) {
			require.Equal(t, 20, mustFirstLimit(t, two, key))
			one.mustPatchAccount(t, admin, acc.ID, `{"tier":"pro"}`)
			require.Eventually(t, func() bool { return mustFirstLimit(t, two, key) == 100 }, time.Second, 5*time.Millisecond)
		})
		t.Run("an import shows in the other instance's list", func(t *testing.T) {
			loc := one.mustCreateLocation(t, key, "cached", "Cached")
			list := "/v1/locations/" + loc.Id + "/workflows"
			require.Empty(t, mustJSON[struct{ Items []any }](t, two.call(t, request{method: http.MethodGet, path: list, key: key}), http.StatusOK).Items)
			one.mustImport(t, key, loc.Id, bundleDoc)
			require.Eventually(t, func() bool {
				return len(mustJSON[struct{ Items []any }](t, two.call(t, request{method: http.MethodGet, path: list, key: key}), http.StatusOK).Items) == 3
			}, time.Second, 5*time.Millisecond)

			run := one.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
			history := "/v1/locations/" + loc.Id + "/analyses"
			require.Eventually(t, func() bool {
				return len(mustJSON[struct{ Items []any }](t, two.call(t, request{method: http.MethodGet, path: history, key: key}), http.StatusOK).Items) == 1
			}, time.Second, 5*time.Millisecond)
			analysis := "/v1/analyses/" + run.Id
			require.Equal(t, http.StatusOK, two.call(t, request{method: http.MethodGet, path: analysis, key: key}).Code)

			require.Equal(t, http.StatusNoContent, one.do(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id, key: key}).Code)
			require.Eventually(t, func() bool {
				return two.do(t, request{method: http.MethodGet, path: analysis, key: key}).Code == http.StatusNotFound &&
					two.do(t, request{method: http.MethodGet, path: list, key: key}).Code == http.StatusNotFound
			}, time.Second, 5*time.Millisecond)
		})
		t.Run("identical data of two accounts is never shared", func(t *testing.T) {
			_, k1 := env.mustAccount(t, "Twin One", store.TierPro)
			_, k2 := env.mustAccount(t, "Twin Two", store.TierPro)
			l1 := one.mustCreateLocation(t, k1, "twin", "Twin")
			l2 := one.mustCreateLocation(t, k2, "twin", "Twin")
			one.mustImport(t, k1, l1.Id, bundleDoc)
			a1 := one.mustAnalyze(t, k1, l1.Id, `{"scope":"location"}`, http.StatusCreated)
			require.Equal(t, http.StatusOK, two.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + a1.Id, key: k1}).Code)
			mustProblem(t, two.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + a1.Id, key: k2}), http.StatusNotFound, "not-found")
			require.Empty(t, mustJSON[struct{ Items []any }](t, two.call(t, request{method: http.MethodGet, path: "/v1/locations/" + l2.Id + "/workflows", key: k2}), http.StatusOK).Items)
		})
	})
}

// TestCachedAnalysisQueriesNothing checks that an analysis read again on the same instance is
// answered without a single database statement: authentication and the body both come from L1.
func TestCachedAnalysisQueriesNothing(t *testing.T) {
	env := mustDocumentEnv(t, store.EngineSQLite, nil)
	_, key := env.mustAccount(t, "Acme", store.TierPro)
	run := env.mustAnalyzeDocument(t, key, `{"document":`+bundleDoc+`}`, http.StatusCreated)
	path := "/v1/analyses/" + run.Id
	require.Equal(t, http.StatusOK, env.do(t, request{method: http.MethodGet, path: path, key: key}).Code)
	before := totalStatements()
	for range 10 {
		require.Equal(t, http.StatusOK, env.do(t, request{method: http.MethodGet, path: path, key: key}).Code)
	}
	require.Equal(t, before, totalStatements(), "an L1 hit sends no statement")
}

// totalStatements counts the statements every query family has sent, in this process.
func totalStatements() uint64 {
	var n uint64
	for _, q := range metrics.Queries() {
		n += q.Calls
	}
	return n
}

// TestListValidators checks that workflow lists and history pages carry a weak ETag of their
// generation, answer a matching If-None-Match with 304 until a write changes them, and never
// answer 304 for another account's location.
func TestListValidators(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		_, otherKey := env.mustAccount(t, "Rival", store.TierPro)
		loc := env.mustCreateLocation(t, key, "etags", "ETags")
		for i, path := range []string{"/v1/locations/" + loc.Id + "/workflows", "/v1/locations/" + loc.Id + "/analyses?limit=10"} {
			t.Run(path, func(t *testing.T) {
				first := env.call(t, request{method: http.MethodGet, path: path, key: key})
				require.Equal(t, http.StatusOK, first.Code)
				etag := first.Header().Get("ETag")
				require.Regexp(t, `^W/".+"$`, etag)
				require.Equal(t, "private, no-cache", first.Header().Get("Cache-Control"))

				same := env.call(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"If-None-Match": etag}})
				require.Equal(t, http.StatusNotModified, same.Code)
				require.Empty(t, same.Body.String())
				mustProblem(t, env.call(t, request{method: http.MethodGet, path: path, key: otherKey, headers: map[string]string{"If-None-Match": etag}}),
					http.StatusNotFound, "not-found")

				env.mustImport(t, key, loc.Id, strings.Replace(bundleDoc, `"Orphan"`, fmt.Sprintf(`"Orphan %d"`, i), 1))
				env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
				changed := env.call(t, request{method: http.MethodGet, path: path, key: key, headers: map[string]string{"If-None-Match": etag}})
				require.Equal(t, http.StatusOK, changed.Code, "a write moved the generation")
				require.NotEqual(t, etag, changed.Header().Get("ETag"))
				require.NotEqual(t, first.Body.String(), changed.Body.String())
			})
		}
	})
}
