package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// testMaxBodyBytes is a small body limit so the 413 tests need no megabytes.
const testMaxBodyBytes = 4096

// testEnv is the API over a fresh database, exercised in process through httptest.
type testEnv struct {
	db      *store.DB
	handler *echo.Echo
	logs    *logtest.Buffer
}

// forEachEngine runs fn once per engine that storetest offers (SQLite always, PostgreSQL when
// configured) as a subtest named after the engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, engine) })
	}
}

// mustEnv builds the handler over a fresh database on engine.
func mustEnv(tb testing.TB, engine string) *testEnv {
	tb.Helper()
	db := storetest.New(tb, engine)
	return mustEnvWithStore(tb, db, db)
}

// mustEnvWithStore builds the handler over st; db is the database behind it, for direct setup.
func mustEnvWithStore(tb testing.TB, db *store.DB, st api.Store) *testEnv {
	tb.Helper()
	logs := &logtest.Buffer{}
	h, err := api.NewHandler(api.Config{
		Store:        st,
		Logger:       slog.New(slog.NewJSONHandler(logs, nil)),
		Version:      "v1.2.3-test",
		MaxBodyBytes: testMaxBodyBytes,
	})
	require.NoError(tb, err)
	return &testEnv{db: db, handler: h, logs: logs}
}

// mustAccount creates an account with one API key and returns them with the key's secret.
func (e *testEnv) mustAccount(tb testing.TB, name string, tier store.Tier) (store.Account, string) {
	tb.Helper()
	ctx := context.Background()
	acc, err := e.db.CreateAccount(ctx, name, tier, false)
	require.NoError(tb, err)
	key, err := apikey.New()
	require.NoError(tb, err)
	_, err = e.db.CreateAPIKey(ctx, acc.ID, "test", key.Hash, key.Display)
	require.NoError(tb, err)
	return acc, key.Secret
}

// request is one HTTP request to the handler.
type request struct {
	method  string
	path    string
	key     string
	body    string
	headers map[string]string
	// chunked hides the body's length, as a streaming client would, so the server cannot refuse an
	// oversize body by its Content-Length.
	chunked bool
}

// do sends r through the whole handler (middleware, spec gate, generated router) and returns the
// recorded response. A body defaults to Content-Type application/json.
func (e *testEnv) do(tb testing.TB, r request) *httptest.ResponseRecorder {
	tb.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
		if r.chunked {
			body = struct{ io.Reader }{body}
		}
	}
	req := httptest.NewRequestWithContext(context.Background(), r.method, r.path, body)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// mustJSON decodes a 2xx JSON response into T after checking status and media type.
func mustJSON[T any](tb testing.TB, rec *httptest.ResponseRecorder, status int) T {
	tb.Helper()
	require.Equal(tb, status, rec.Code, "body: %s", rec.Body.String())
	require.Equal(tb, "application/json", rec.Header().Get("Content-Type"))
	var v T
	require.NoError(tb, json.Unmarshal(rec.Body.Bytes(), &v), "body: %s", rec.Body.String())
	return v
}

// mustProblem checks that rec is a problem document of the given status and slug, with the request
// id of the response header, and returns it.
func mustProblem(tb testing.TB, rec *httptest.ResponseRecorder, status int, slug string) gen.Problem {
	tb.Helper()
	require.Equal(tb, status, rec.Code, "body: %s", rec.Body.String())
	require.Equal(tb, "application/problem+json", rec.Header().Get("Content-Type"))
	var p gen.Problem
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(tb, dec.Decode(&p), "body: %s", rec.Body.String())
	require.Equal(tb, api.ProblemTypeBase+slug, p.Type)
	require.Equal(tb, int32(status), p.Status)
	require.NotEmpty(tb, p.Title)
	require.NotNil(tb, p.Detail)
	require.NotEmpty(tb, *p.Detail)
	if p.Instance != nil {
		require.NotEmpty(tb, *p.Instance)
	}
	require.NotEmpty(tb, p.RequestId)
	require.Equal(tb, rec.Header().Get(api.HeaderRequestID), p.RequestId)
	return p
}

// mustInvalidFields checks that a validation problem names exactly the given fields (field and
// location; reasons are checked to be present).
func mustInvalidFields(tb testing.TB, rec *httptest.ResponseRecorder, want ...gen.InvalidField) {
	tb.Helper()
	p := mustProblem(tb, rec, http.StatusBadRequest, "validation-error")
	require.NotNil(tb, p.InvalidFields, "body: %s", rec.Body.String())
	var got []gen.InvalidField
	for _, f := range *p.InvalidFields {
		require.NotEmpty(tb, f.Reason, "field %s has no reason", f.Field)
		got = append(got, gen.InvalidField{Field: f.Field, Location: f.Location})
	}
	require.ElementsMatch(tb, want, got, "body: %s", rec.Body.String())
}

// field is shorthand for an expected invalid field without its reason.
func field(name string, loc gen.InvalidFieldLocation) gen.InvalidField {
	return gen.InvalidField{Field: name, Location: loc}
}

// mustCreateLocation creates a location through the API and returns it.
func (e *testEnv) mustCreateLocation(tb testing.TB, key, ghlID, name string) gen.Location {
	tb.Helper()
	rec := e.do(tb, request{method: http.MethodPost, path: "/v1/locations", key: key,
		body: `{"ghlLocationId":"` + ghlID + `","name":"` + name + `","timezone":"America/Chicago"}`})
	return mustJSON[gen.Location](tb, rec, http.StatusCreated)
}

// mustLocationCount counts the account's locations directly in the store.
func (e *testEnv) mustLocationCount(tb testing.TB, accountID string) int {
	tb.Helper()
	locs, _, err := e.db.ListLocations(context.Background(), accountID, store.Page{Limit: store.MaxPageLimit})
	require.NoError(tb, err)
	return len(locs)
}
