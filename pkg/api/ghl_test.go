package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// ghlRedirectURL is the app's redirect URL in the tests: the callback of the handler under test.
const ghlRedirectURL = "https://ghl-debugger.example/v1/ghl/oauth/callback"

// ghlEnv is the API with a GHL service pointed at a fake GHL, a running job queue and a clock the
// test moves.
type ghlEnv struct {
	*testEnv
	fake *ghltest.Server
	keys *ghl.KeyRing
	// clock is the service's time; the tests move it to expire states.
	mu    sync.Mutex
	clock time.Time
	// secrets are every token, code and the client secret the test saw, for the leak scans.
	secrets []string
}

// now is the service's clock.
func (g *ghlEnv) now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.clock
}

// advance moves the service's clock.
func (g *ghlEnv) advance(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clock = g.clock.Add(d)
}

// secret records a value that must never appear in logs, metrics or problem documents.
func (g *ghlEnv) secret(s string) { g.secrets = append(g.secrets, s) }

// mustGHLKeys is a key ring of one fixed key.
func mustGHLKeys(tb testing.TB) *ghl.KeyRing {
	tb.Helper()
	keys, err := ghl.ParseKeyRing("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, ghl.KeySize)))
	require.NoError(tb, err)
	return keys
}

// mustFakeGHLService builds a service of the fake over db, with short client waits.
func mustFakeGHLService(tb testing.TB, db *store.DB, fake *ghltest.Server, keys *ghl.KeyRing, c *cache.Cache, logger *slog.Logger, now func() time.Time) *ghl.Service {
	tb.Helper()
	cfg := ghl.Config{
		ClientID: ghltest.ClientID, ClientSecret: ghl.NewSecret(ghltest.ClientSecret), RedirectURL: ghlRedirectURL,
		AuthURL: fake.URL, APIURL: fake.URL, TokenKeys: keys,
	}
	client, err := ghl.NewClient(ghl.ClientConfig{GHL: cfg, RequestTimeout: 2 * time.Second, BaseBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, MaxElapsed: 5 * time.Second})
	require.NoError(tb, err)
	svc, err := ghl.NewService(ghl.ServiceConfig{GHL: cfg, Client: client, Store: db, Cache: c, Logger: logger, Now: now})
	require.NoError(tb, err)
	return svc
}

// mustGHLEnv builds the API over a fresh database on engine with a GHL service of a fake GHL and a
// running job queue that syncs with it.
func mustGHLEnv(tb testing.TB, engine string) *ghlEnv {
	tb.Helper()
	db := storetest.New(tb, engine)
	logs := &logtest.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	g := &ghlEnv{fake: ghltest.New(tb), keys: mustGHLKeys(tb), clock: time.Now()}
	g.secret(ghltest.ClientSecret)
	c, err := cache.New(cache.Config{Logger: logger})
	require.NoError(tb, err)
	tb.Cleanup(c.Close)
	svc := mustFakeGHLService(tb, db, g.fake, g.keys, c, logger, g.now)
	analyzer := api.NewJobAnalyzer(logger)
	q, err := jobs.New(jobs.Config{
		DB: db.SQL().DB, Engine: db.Engine(), Logger: logger, Analyzer: analyzer, GHLSyncer: svc, GHLConnections: db,
		PollInterval: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond,
	})
	require.NoError(tb, err)
	h, err := api.NewHandler(api.Config{
		Store: db, Logger: logger, Version: "v1.2.3-test", MaxBodyBytes: documentBodyBytes, Cache: c,
		Jobs: q, JobAnalyzer: analyzer, GHL: svc,
	})
	require.NoError(tb, err)
	require.NoError(tb, q.Start(context.Background()))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, q.Stop(ctx))
	})
	g.testEnv = &testEnv{db: db, handler: h, logs: logs}
	return g
}

// mustAuthorize connects the location through the OAuth flow as a browser would: the connect
// route's URL, the fake's choose-location page (which picks chosen), and its redirect to the
// callback. It returns the callback's request, for a replay.
func (g *ghlEnv) mustAuthorize(tb testing.TB, key, locationID, chosen string) request {
	tb.Helper()
	auth := mustJSON[gen.GHLAuthorization](tb, g.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/ghl/connect", key: key}), http.StatusOK)
	require.True(tb, strings.HasPrefix(auth.AuthorizationUrl, g.fake.URL+"/oauth/chooselocation?"), auth.AuthorizationUrl)
	require.WithinDuration(tb, g.now().Add(ghl.StateTTL), auth.ExpiresAt, time.Second)
	g.fake.ChooseLocation(chosen)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, auth.AuthorizationUrl, nil)
	require.NoError(tb, err)
	resp, err := browser.Do(req)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	require.Equal(tb, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(tb, err)
	require.Equal(tb, "/v1/ghl/oauth/callback", back.Path)
	g.secret(back.Query().Get("code"))
	return request{method: http.MethodGet, path: back.Path + "?" + back.RawQuery}
}

// mustTokens records the location's stored tokens, decrypted, as secrets.
func (g *ghlEnv) mustTokens(tb testing.TB, accountID, locationID string) {
	tb.Helper()
	conn, err := g.db.GetGHLConnection(context.Background(), accountID, locationID)
	require.NoError(tb, err)
	access, err := g.keys.Decrypt(conn.AccessToken, "ghl-token/"+locationID+"/access")
	require.NoError(tb, err)
	g.secret(access.Reveal())
	if conn.RefreshToken != "" {
		refresh, err := g.keys.Decrypt(conn.RefreshToken, "ghl-token/"+locationID+"/refresh")
		require.NoError(tb, err)
		g.secret(refresh.Reveal())
	}
}

// mustLocation reads a location through the API.
func (g *ghlEnv) mustLocation(tb testing.TB, key, locationID string) gen.Location {
	tb.Helper()
	return mustJSON[gen.Location](tb, g.call(tb, request{method: http.MethodGet, path: "/v1/locations/" + locationID, key: key}), http.StatusOK)
}

// mustSynced queues a sync and waits for its job to complete.
func (g *ghlEnv) mustSynced(tb testing.TB, key, locationID string) gen.Job {
	tb.Helper()
	rec := g.call(tb, request{method: http.MethodPost, path: "/v1/locations/" + locationID + "/ghl/sync", key: key})
	j := mustJSON[gen.Job](tb, rec, http.StatusAccepted)
	require.Equal(tb, gen.JobKindGhlSync, j.Kind)
	require.Equal(tb, locationID, *j.LocationId)
	require.Equal(tb, "/v1/jobs/"+j.Id, rec.Header().Get("Location"))
	done := g.mustJobDone(tb, key, j.Id)
	require.Equal(tb, gen.JobStateCompleted, done.State, "last error: %+v", done.LastError)
	require.Nil(tb, done.Result)
	return done
}

// mustWorkflowsByGHLID lists the location's stored workflows, by GHL id.
func (g *ghlEnv) mustWorkflowsByGHLID(tb testing.TB, key, locationID string) map[string]gen.Workflow {
	tb.Helper()
	list := mustJSON[gen.WorkflowList](tb, g.call(tb, request{method: http.MethodGet, path: "/v1/locations/" + locationID + "/workflows", key: key}), http.StatusOK)
	out := map[string]gen.Workflow{}
	for _, w := range list.Items {
		out[w.GhlWorkflowId] = w
	}
	return out
}

// mustNoSecrets scans text for every secret recorded.
func (g *ghlEnv) mustNoSecrets(tb testing.TB, what, text string) {
	tb.Helper()
	for _, s := range g.secrets {
		require.NotEmpty(tb, s)
		require.NotContains(tb, text, s, "%s holds a secret", what)
	}
}

// versionedDoc is an auditor bundle of three workflows with their GHL versions.
const versionedDoc = `{"workflows":[
{"name":"No Show Recovery","_id":"wf_a","status":"published","version":1,"triggers":[{"type":"contact_tag_added","name":"Tagged","filters":[{"tag":"x"}]}],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["y"]}}]},
{"name":"Welcome","_id":"wf_b","status":"published","version":2,"triggers":[{"type":"contact_tag_added","name":"Tagged","filters":[{"tag":"z"}]}],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["w"]}}]}
]}`

// TestGHLOAuthFlow runs the whole connection: connect, GHL's page, the callback, the location
// connected, syncs that mark exactly the moved workflows (and the analyses that read them) stale,
// GHL's list and the drift history, and the disconnect; then scans every log line, the metrics and
// the problem documents for the tokens, the codes and the client secret.
func TestGHLOAuthFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		g := mustGHLEnv(t, engine)
		acc, key := g.mustAccount(t, "Acme", store.TierPro)
		loc := g.mustCreateLocation(t, key, "ghl-loc-a", "Downtown")
		require.Equal(t, gen.GHLConnectionStateNotConnected, loc.Ghl.State)
		g.mustImport(t, key, loc.Id, versionedDoc)
		g.fake.SetWorkflows("ghl-loc-a", []ghltest.Workflow{
			{ID: "wf_a", Name: "No Show Recovery", Status: "published", Version: 1},
			{ID: "wf_b", Name: "Welcome", Status: "published", Version: 2},
			{ID: "wf_c", Name: "Birthday", Status: "draft", Version: 1},
		})
		var problems []string

		callback := g.mustAuthorize(t, key, loc.Id, "ghl-loc-a")
		connected := mustJSON[gen.GHLConnectedLocation](t, g.call(t, callback), http.StatusOK)
		require.Equal(t, loc.Id, connected.LocationId)
		require.Equal(t, "ghl-loc-a", connected.GhlLocationId)
		require.Equal(t, gen.GHLConnectionStateConnected, connected.Ghl.State)
		require.Equal(t, gen.GHLConnectionKindOauth, *connected.Ghl.Kind)
		g.mustTokens(t, acc.ID, loc.Id)

		t.Run("callback-400/replayed state", func(t *testing.T) {
			p := mustProblem(t, g.call(t, callback), http.StatusBadRequest, "ghl-state-invalid")
			require.Contains(t, *p.Detail, "already been used")
			problems = append(problems, *p.Detail)
		})

		// The callback queued the first sync; a sync asked for now joins it or follows it.
		g.mustSynced(t, key, loc.Id)
		got := g.mustLocation(t, key, loc.Id)
		require.Equal(t, gen.GHLConnectionStateConnected, got.Ghl.State)
		require.NotNil(t, got.Ghl.LastSync)
		require.True(t, got.Ghl.LastSync.Ok)
		require.Equal(t, int32(3), got.Ghl.LastSync.Workflows)
		require.Equal(t, int32(1), got.Ghl.LastSync.NotImported)
		require.Equal(t, int32(0), got.Ghl.LastSync.Stale)
		for id, w := range g.mustWorkflowsByGHLID(t, key, loc.Id) {
			require.False(t, w.Stale, id)
			require.Equal(t, w.ImportedVersion, w.GhlVersion, id)
		}
		run := g.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		require.False(t, run.Stale)
		// Read once, so that the cache holds the analysis and the history page: the sync below must
		// invalidate them.
		require.False(t, mustJSON[gen.Analysis](t, g.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + run.Id, key: key}), http.StatusOK).Stale)
		require.False(t, mustJSON[gen.AnalysisList](t, g.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses", key: key}), http.StatusOK).Items[0].Stale)

		// wf_a is saved twice in GHL, wf_c once; wf_b does not move.
		g.fake.SetWorkflows("ghl-loc-a", []ghltest.Workflow{
			{ID: "wf_a", Name: "No Show Recovery", Status: "published", Version: 3},
			{ID: "wf_b", Name: "Welcome", Status: "published", Version: 2},
			{ID: "wf_c", Name: "Birthday", Status: "draft", Version: 2},
		})
		g.mustSynced(t, key, loc.Id)
		g.mustTokens(t, acc.ID, loc.Id)

		t.Run("drift marks exactly the moved workflows stale", func(t *testing.T) {
			wfs := g.mustWorkflowsByGHLID(t, key, loc.Id)
			require.True(t, wfs["wf_a"].Stale)
			require.Equal(t, int32(3), wfs["wf_a"].GhlVersion)
			require.Equal(t, int32(1), wfs["wf_a"].ImportedVersion)
			require.False(t, wfs["wf_b"].Stale)
			require.Equal(t, int32(2), wfs["wf_b"].GhlVersion)
			detail := mustJSON[gen.WorkflowDetail](t, g.call(t, request{method: http.MethodGet,
				path: "/v1/locations/" + loc.Id + "/workflows/" + wfs["wf_a"].Id, key: key}), http.StatusOK)
			require.True(t, detail.Stale)
			require.Equal(t, int32(3), detail.GhlVersion)
			require.Equal(t, int32(1), detail.ImportedVersion)
			require.Equal(t, int32(1), g.mustLocation(t, key, loc.Id).Ghl.LastSync.Stale)
		})
		t.Run("the analysis that read the old version is stale", func(t *testing.T) {
			a := mustJSON[gen.Analysis](t, g.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + run.Id, key: key}), http.StatusOK)
			require.True(t, a.Stale)
			hist := mustJSON[gen.AnalysisList](t, g.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/analyses", key: key}), http.StatusOK)
			require.Len(t, hist.Items, 1)
			require.True(t, hist.Items[0].Stale)
		})
		t.Run("the syncs are the account's jobs", func(t *testing.T) {
			list := mustJSON[gen.JobList](t, g.call(t, request{method: http.MethodGet, path: "/v1/jobs", key: key}), http.StatusOK)
			syncs := 0
			for _, j := range list.Items {
				if j.Kind == gen.JobKindGhlSync {
					syncs++
					require.Equal(t, loc.Id, *j.LocationId)
				}
			}
			require.GreaterOrEqual(t, syncs, 2)
			_, otherKey := g.mustAccount(t, "Other", store.TierPro)
			other := mustJSON[gen.JobList](t, g.call(t, request{method: http.MethodGet, path: "/v1/jobs", key: otherKey}), http.StatusOK)
			require.Empty(t, other.Items)
		})
		t.Run("GHL's list shows what was never imported", func(t *testing.T) {
			list := mustJSON[gen.GHLWorkflowList](t, g.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/ghl/workflows", key: key}), http.StatusOK)
			require.Len(t, list.Items, 3)
			byID := map[string]gen.GHLWorkflow{}
			for _, w := range list.Items {
				byID[w.GhlWorkflowId] = w
			}
			require.True(t, byID["wf_a"].Imported)
			require.True(t, byID["wf_a"].Stale)
			require.False(t, byID["wf_c"].Imported)
			require.Nil(t, byID["wf_c"].WorkflowId)
			require.False(t, byID["wf_c"].Stale)
		})
		t.Run("drift history", func(t *testing.T) {
			wfA := g.mustWorkflowsByGHLID(t, key, loc.Id)["wf_a"]
			h := mustJSON[gen.GHLVersionList](t, g.call(t, request{method: http.MethodGet,
				path: "/v1/locations/" + loc.Id + "/workflows/" + wfA.Id + "/ghl-versions", key: key}), http.StatusOK)
			require.Equal(t, "wf_a", h.GhlWorkflowId)
			require.Equal(t, int32(1), h.ImportedVersion)
			require.True(t, h.Stale)
			require.Len(t, h.Items, 2)
			require.Equal(t, int32(3), h.Items[0].Version)
			require.Equal(t, int32(1), h.Items[1].Version)
		})
		t.Run("importing the new version clears stale", func(t *testing.T) {
			g.mustImport(t, key, loc.Id, strings.Replace(versionedDoc, `"version":1`, `"version":3`, 1))
			require.False(t, g.mustWorkflowsByGHLID(t, key, loc.Id)["wf_a"].Stale)
		})
		t.Run("a revoked authorization breaks the connection", func(t *testing.T) {
			g.fake.RevokeAll("ghl-loc-a")
			rec := g.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/ghl/sync", key: key})
			j := g.mustJobDone(t, key, mustJSON[gen.Job](t, rec, http.StatusAccepted).Id)
			require.Equal(t, gen.JobStateCancelled, j.State)
			got := g.mustLocation(t, key, loc.Id)
			require.Equal(t, gen.GHLConnectionStateBroken, got.Ghl.State)
			require.NotNil(t, got.Ghl.BrokenReason)
			require.Contains(t, *got.Ghl.BrokenReason, "connect the location again")
			require.False(t, got.Ghl.LastSync.Ok)
			p := mustProblem(t, g.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/ghl/sync", key: key}),
				http.StatusConflict, "ghl-not-connected")
			problems = append(problems, *p.Detail, *got.Ghl.BrokenReason, *got.Ghl.LastSync.Detail)
		})
		t.Run("disconnect", func(t *testing.T) {
			rec := g.call(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id + "/ghl", key: key})
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			require.Equal(t, gen.GHLConnectionStateNotConnected, g.mustLocation(t, key, loc.Id).Ghl.State)
			_, err := g.db.GetGHLConnection(context.Background(), acc.ID, loc.Id)
			require.ErrorIs(t, err, store.ErrNotFound)
			list := mustJSON[gen.GHLWorkflowList](t, g.call(t, request{method: http.MethodGet, path: "/v1/locations/" + loc.Id + "/ghl/workflows", key: key}), http.StatusOK)
			require.Empty(t, list.Items)
			a := mustJSON[gen.Analysis](t, g.call(t, request{method: http.MethodGet, path: "/v1/analyses/" + run.Id, key: key}), http.StatusOK)
			require.False(t, a.Stale)
			p := mustProblem(t, g.call(t, request{method: http.MethodPost, path: "/v1/locations/" + loc.Id + "/ghl/sync", key: key}),
				http.StatusConflict, "ghl-not-connected")
			problems = append(problems, *p.Detail)
			mustProblem(t, g.call(t, request{method: http.MethodDelete, path: "/v1/locations/" + loc.Id + "/ghl", key: key}), http.StatusNotFound, "not-found")
		})
		t.Run("no secret in logs, metrics or problems", func(t *testing.T) {
			require.Greater(t, len(g.secrets), 4)
			g.mustNoSecrets(t, "the logs", g.logs.String())
			g.mustNoSecrets(t, "the metrics", g.mustScrape(t, nil).text)
			g.mustNoSecrets(t, "the problems", strings.Join(problems, "\n"))
		})
	})
}

// TestGHLCallbackRefused checks the callbacks that store nothing: a tampered, an expired or a
// foreign state, a token of another sub-account, and an authorization the user declined.
func TestGHLCallbackRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		g := mustGHLEnv(t, engine)
		acc, key := g.mustAccount(t, "Acme", store.TierPro)
		loc := g.mustCreateLocation(t, key, "ghl-loc-a", "Downtown")
		notConnected := func(t *testing.T) {
			t.Helper()
			_, err := g.db.GetGHLConnection(context.Background(), acc.ID, loc.Id)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.Equal(t, gen.GHLConnectionStateNotConnected, g.mustLocation(t, key, loc.Id).Ghl.State)
		}
		var problems []string

		t.Run("callback-400/tampered state", func(t *testing.T) {
			cb := g.mustAuthorize(t, key, loc.Id, "ghl-loc-a")
			u, err := url.Parse(cb.path)
			require.NoError(t, err)
			q := u.Query()
			state := []byte(q.Get("state"))
			// Change one character of the claims, keeping the signature.
			if state[2] == 'A' {
				state[2] = 'B'
			} else {
				state[2] = 'A'
			}
			q.Set("state", string(state))
			u.RawQuery = q.Encode()
			p := mustProblem(t, g.call(t, request{method: http.MethodGet, path: u.String()}), http.StatusBadRequest, "ghl-state-invalid")
			problems = append(problems, *p.Detail)
			notConnected(t)
		})
		t.Run("callback-400/expired state", func(t *testing.T) {
			cb := g.mustAuthorize(t, key, loc.Id, "ghl-loc-a")
			g.advance(ghl.StateTTL + time.Minute)
			p := mustProblem(t, g.call(t, cb), http.StatusBadRequest, "ghl-state-invalid")
			require.Contains(t, *p.Detail, "expired")
			problems = append(problems, *p.Detail)
			notConnected(t)
		})
		t.Run("callback-400/declined", func(t *testing.T) {
			p := mustProblem(t, g.call(t, request{method: http.MethodGet, path: "/v1/ghl/oauth/callback?error=access_denied&state=x"}),
				http.StatusBadRequest, "ghl-authorization-failed")
			require.Contains(t, *p.Detail, "access_denied")
			notConnected(t)
		})
		t.Run("callback-400/no code", func(t *testing.T) {
			mustInvalidFields(t, g.call(t, request{method: http.MethodGet, path: "/v1/ghl/oauth/callback?state=x"}),
				field("code", gen.InvalidFieldLocationQuery))
		})
		t.Run("callback-409/token of another sub-account", func(t *testing.T) {
			cb := g.mustAuthorize(t, key, loc.Id, "ghl-loc-other")
			p := mustProblem(t, g.call(t, cb), http.StatusConflict, "ghl-location-mismatch")
			require.Contains(t, *p.Detail, "ghl-loc-other")
			problems = append(problems, *p.Detail)
			notConnected(t)
		})
		g.mustNoSecrets(t, "the problems", strings.Join(problems, "\n"))
		g.mustNoSecrets(t, "the logs", g.logs.String())
	})
}

// TestGHLPrivateToken connects with a Private Integration Token: refused by GHL (422, nothing
// stored), then accepted, which records the first sync at once.
func TestGHLPrivateToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		g := mustGHLEnv(t, engine)
		acc, key := g.mustAccount(t, "Acme", store.TierPro)
		loc := g.mustCreateLocation(t, key, "ghl-loc-p", "PIT")
		g.mustImport(t, key, loc.Id, versionedDoc)
		g.fake.SetWorkflows("ghl-loc-p", []ghltest.Workflow{{ID: "wf_a", Name: "A", Status: "published", Version: 4}})
		path := "/v1/locations/" + loc.Id + "/ghl"

		bad := "pit-not-issued-by-the-fake"
		g.secret(bad)
		p := mustProblem(t, g.call(t, request{method: http.MethodPut, path: path, key: key, body: `{"privateIntegrationToken":"` + bad + `"}`}),
			http.StatusUnprocessableEntity, "ghl-token-rejected")
		_, err := g.db.GetGHLConnection(context.Background(), acc.ID, loc.Id)
		require.ErrorIs(t, err, store.ErrNotFound)

		pit := g.fake.AddPIT("ghl-loc-p")
		g.secret(pit)
		conn := mustJSON[gen.GHLConnection](t, g.call(t, request{method: http.MethodPut, path: path, key: key,
			body: `{"privateIntegrationToken":"` + pit + `"}`}), http.StatusOK)
		require.Equal(t, gen.GHLConnectionStateConnected, conn.State)
		require.Equal(t, gen.GHLConnectionKindPit, *conn.Kind)
		require.NotNil(t, conn.LastSync)
		require.True(t, conn.LastSync.Ok)
		require.True(t, g.mustWorkflowsByGHLID(t, key, loc.Id)["wf_a"].Stale)

		locs := mustJSON[gen.LocationList](t, g.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), http.StatusOK)
		require.Len(t, locs.Items, 1)
		require.Equal(t, gen.GHLConnectionStateConnected, locs.Items[0].Ghl.State)

		raw, err := g.db.GetGHLConnection(context.Background(), acc.ID, loc.Id)
		require.NoError(t, err)
		require.NotContains(t, raw.AccessToken, pit, "the token is stored encrypted")
		g.mustNoSecrets(t, "the problems", *p.Detail)
		g.mustNoSecrets(t, "the logs", g.logs.String())
	})
}

// TestGHLTenancy checks that every GHL route answers 404 for another account's location, whatever
// the location's connection.
func TestGHLTenancy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		g := mustGHLEnv(t, engine)
		_, ownerKey := g.mustAccount(t, "Owner", store.TierPro)
		_, otherKey := g.mustAccount(t, "Other", store.TierPro)
		loc := g.mustCreateLocation(t, ownerKey, "ghl-loc-t", "Tenant")
		res := g.mustImport(t, ownerKey, loc.Id, versionedDoc)
		pit := g.fake.AddPIT("ghl-loc-t")
		mustJSON[gen.GHLConnection](t, g.call(t, request{method: http.MethodPut, path: "/v1/locations/" + loc.Id + "/ghl", key: ownerKey,
			body: `{"privateIntegrationToken":"` + pit + `"}`}), http.StatusOK)
		base := "/v1/locations/" + loc.Id
		for _, r := range []request{
			{method: http.MethodPost, path: base + "/ghl/connect"},
			{method: http.MethodPut, path: base + "/ghl", body: `{"privateIntegrationToken":"pit-not-a-real-token"}`},
			{method: http.MethodDelete, path: base + "/ghl"},
			{method: http.MethodPost, path: base + "/ghl/sync"},
			{method: http.MethodGet, path: base + "/ghl/workflows"},
			{method: http.MethodGet, path: base + "/workflows/" + res.Workflows[0].Id + "/ghl-versions"},
		} {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				r.key = otherKey
				mustProblem(t, g.call(t, r), http.StatusNotFound, "not-found")
			})
		}
		require.Equal(t, gen.GHLConnectionStateConnected, g.mustLocation(t, ownerKey, loc.Id).Ghl.State)
	})
}

// TestGHLNotConfigured checks a deployment without GHL settings: the routes that need them answer
// 501 naming the missing settings, and everything else works.
func TestGHLNotConfigured(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		env := mustDocumentEnv(t, engine, nil)
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		loc := env.mustCreateLocation(t, key, "ghl-loc-n", "Plain")
		require.Equal(t, gen.GHLConnectionStateNotConnected, loc.Ghl.State)
		base := "/v1/locations/" + loc.Id

		p := mustProblem(t, env.call(t, request{method: http.MethodPost, path: base + "/ghl/connect", key: key}), http.StatusNotImplemented, "ghl-not-configured")
		for _, name := range []string{ghl.EnvClientID, ghl.EnvClientSecret, ghl.EnvRedirectURL, ghl.EnvTokenKeys} {
			require.Contains(t, *p.Detail, name)
		}
		p = mustProblem(t, env.call(t, request{method: http.MethodPut, path: base + "/ghl", key: key, body: `{"privateIntegrationToken":"pit-not-a-real-token"}`}),
			http.StatusNotImplemented, "ghl-not-configured")
		require.Contains(t, *p.Detail, ghl.EnvTokenKeys)
		require.NotContains(t, *p.Detail, ghl.EnvClientID)
		mustProblem(t, env.call(t, request{method: http.MethodGet, path: "/v1/ghl/oauth/callback?code=c&state=s"}), http.StatusNotImplemented, "ghl-not-configured")

		mustProblem(t, env.call(t, request{method: http.MethodPost, path: base + "/ghl/sync", key: key}), http.StatusConflict, "ghl-not-connected")
		mustProblem(t, env.call(t, request{method: http.MethodDelete, path: base + "/ghl", key: key}), http.StatusNotFound, "not-found")
		list := mustJSON[gen.GHLWorkflowList](t, env.call(t, request{method: http.MethodGet, path: base + "/ghl/workflows", key: key}), http.StatusOK)
		require.Empty(t, list.Items)
		env.mustImport(t, key, loc.Id, versionedDoc)
		run := env.mustAnalyze(t, key, loc.Id, `{"scope":"location"}`, http.StatusCreated)
		require.False(t, run.Stale)
		require.Equal(t, gen.GHLConnectionStateNotConnected, mustJSON[gen.Location](t, env.call(t, request{method: http.MethodGet, path: base, key: key}), http.StatusOK).Ghl.State)
	})
}

// withFakeGHL configures the handler's GHL service against fake, over the handler's database.
func withFakeGHL(tb testing.TB, fake *ghltest.Server) func(*api.Config) {
	tb.Helper()
	return func(cfg *api.Config) {
		db, ok := cfg.Store.(*store.DB)
		require.True(tb, ok, "the handler's store is not a database")
		cfg.GHL = mustFakeGHLService(tb, db, fake, mustGHLKeys(tb), nil, cfg.Logger, time.Now)
	}
}

// mustGHLConnected connects a new location of the account with a Private Integration Token of the
// fake: one request to GHL's workflow list, whose answer carries GHL's rate-limit headers.
func (e *testEnv) mustGHLConnected(tb testing.TB, key string, fake *ghltest.Server) {
	tb.Helper()
	loc := e.mustCreateLocation(tb, key, "ghl-loc-metrics", "GHL metrics")
	rec := e.call(tb, request{method: http.MethodPut, path: "/v1/locations/" + loc.Id + "/ghl", key: key,
		body: `{"privateIntegrationToken":"` + fake.AddPIT("ghl-loc-metrics") + `"}`})
	require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
}

// TestGHLLocationListOneQuery checks that a page of locations reads its connections in one query,
// not one per location, and shows each location's own state.
func TestGHLLocationListOneQuery(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		fake := ghltest.New(t)
		env := mustDocumentEnv(t, engine, withFakeGHL(t, fake))
		_, key := env.mustAccount(t, "Acme", store.TierPro)
		for _, id := range []string{"ghl-l1", "ghl-l2", "ghl-l3"} {
			env.mustCreateLocation(t, key, id, id)
		}
		env.mustGHLConnected(t, key, fake)
		queries := func(family string) float64 {
			return env.mustScrape(t, nil).series[`database_query_duration_seconds_count{query="`+family+`"}`]
		}
		gets, pages := queries("ghl_connections.get"), queries("ghl_connections.of_locations")
		list := mustJSON[gen.LocationList](t, env.call(t, request{method: http.MethodGet, path: "/v1/locations", key: key}), http.StatusOK)
		require.Equal(t, gets, queries("ghl_connections.get"), "a query per location")
		require.Equal(t, pages+1, queries("ghl_connections.of_locations"))
		states := map[string]gen.GHLConnectionState{}
		for _, l := range list.Items {
			states[l.GhlLocationId] = l.Ghl.State
		}
		require.Equal(t, map[string]gen.GHLConnectionState{
			"ghl-l1": gen.GHLConnectionStateNotConnected, "ghl-l2": gen.GHLConnectionStateNotConnected,
			"ghl-l3": gen.GHLConnectionStateNotConnected, "ghl-loc-metrics": gen.GHLConnectionStateConnected,
		}, states)
	})
}
