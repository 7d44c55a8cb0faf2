package ghl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/metrics"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// env is one test's world: a database, a fake GHL, a service and an account's location.
type env struct {
	db      *store.DB
	fake    *ghltest.Server
	svc     *ghl.Service
	cfg     ghl.Config
	client  *ghl.Client
	logs    *syncBuffer
	account store.Account
	loc     store.Location
	// secrets collects every token and code the test saw, for the scans of logs, metrics and
	// error messages.
	secrets []string
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// forEachEngine runs fn once per storage engine, with a fresh env.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, mustEnv(t, engine)) })
	}
}

// mustEnv builds an env on engine.
func mustEnv(tb testing.TB, engine string, opts ...func(*ghl.ServiceConfig)) *env {
	tb.Helper()
	e := &env{db: storetest.New(tb, engine), fake: ghltest.New(tb), logs: &syncBuffer{}}
	e.cfg = fakeConfig(tb, e.fake)
	e.client = mustClient(tb, e.fake)
	var err error
	e.account, err = e.db.CreateAccount(tb.Context(), "Acme Agency", store.TierPro, false)
	require.NoError(tb, err)
	e.loc, err = e.db.CreateLocation(tb.Context(), e.account.ID, store.NewLocation{GHLLocationID: "ghl-loc-1", Name: "Downtown Dental"})
	require.NoError(tb, err)
	e.svc = e.newService(tb, opts...)
	return e
}

// newService returns another service (another instance) on the env's database and fake.
func (e *env) newService(tb testing.TB, opts ...func(*ghl.ServiceConfig)) *ghl.Service {
	tb.Helper()
	cfg := ghl.ServiceConfig{GHL: e.cfg, Client: e.client, Store: e.db,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LeaseTTL: 300 * time.Millisecond, LeaseWait: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := ghl.NewService(cfg)
	require.NoError(tb, err)
	return svc
}

// mustAuthorize runs the browser's part of the OAuth flow: connect, GHL's page (which picks
// ghlLocationID), and back to the redirect URL; it returns the code and state of the callback.
func (e *env) mustAuthorize(tb testing.TB, ghlLocationID string) (code, state string) {
	tb.Helper()
	authURL, expires, err := e.svc.StartOAuth(tb.Context(), e.account.ID, e.loc.ID)
	require.NoError(tb, err)
	require.WithinDuration(tb, time.Now().Add(ghl.StateTTL), expires, 2*time.Second)
	require.True(tb, strings.HasPrefix(authURL, e.fake.URL+"/oauth/chooselocation?"), authURL)
	e.fake.ChooseLocation(ghlLocationID)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	require.Equal(tb, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(tb, err)
	require.Equal(tb, e.cfg.RedirectURL, back.Scheme+"://"+back.Host+back.Path)
	code, state = back.Query().Get("code"), back.Query().Get("state")
	e.secrets = append(e.secrets, code)
	return code, state
}

// mustConnectOAuth connects the env's location through the whole OAuth flow.
func (e *env) mustConnectOAuth(tb testing.TB) store.GHLConnection {
	tb.Helper()
	code, state := e.mustAuthorize(tb, e.loc.GHLLocationID)
	conn, err := e.svc.CompleteOAuth(tb.Context(), code, state)
	require.NoError(tb, err)
	e.collectTokens(tb)
	return conn
}

// storedTokens decrypts the location's stored tokens.
func (e *env) storedTokens(tb testing.TB) (access, refresh string) {
	tb.Helper()
	c, err := e.db.GetGHLConnection(tb.Context(), e.account.ID, e.loc.ID)
	require.NoError(tb, err)
	a, err := e.cfg.TokenKeys.Decrypt(c.AccessToken, ghl.TokenAAD(e.loc.ID, "access"))
	require.NoError(tb, err)
	if c.RefreshToken == "" {
		return a.Reveal(), ""
	}
	r, err := e.cfg.TokenKeys.Decrypt(c.RefreshToken, ghl.TokenAAD(e.loc.ID, "refresh"))
	require.NoError(tb, err)
	return a.Reveal(), r.Reveal()
}

// collectTokens remembers the stored tokens for the scans.
func (e *env) collectTokens(tb testing.TB) {
	tb.Helper()
	a, r := e.storedTokens(tb)
	e.secrets = append(e.secrets, a)
	if r != "" {
		e.secrets = append(e.secrets, r)
	}
}

// mustNotLeak scans the logs, the metrics and the given texts (error messages, the API's problem
// details) for every secret the test saw.
func (e *env) mustNotLeak(tb testing.TB, texts ...string) {
	tb.Helper()
	var m bytes.Buffer
	require.NoError(tb, metrics.WritePrometheus(&m))
	outputs := append([]string{e.logs.String(), m.String()}, texts...)
	require.NotEmpty(tb, e.secrets)
	for _, secret := range append(e.secrets, ghltest.ClientSecret) {
		for i, out := range outputs {
			require.NotContains(tb, out, secret, "output %d leaks a secret", i)
		}
	}
}

// wf is a GHL workflow of the fake's list.
func wf(id string, version int) ghltest.Workflow {
	return ghltest.Workflow{ID: id, Name: "Workflow " + id, Status: "published", Version: version}
}

func TestOAuthFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		st, err := e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateNotConnected, st.State)

		code, state := e.mustAuthorize(t, e.loc.GHLLocationID)
		conn, err := e.svc.CompleteOAuth(ctx, code, state)
		require.NoError(t, err)
		e.collectTokens(t)
		require.Equal(t, store.GHLOAuth, conn.Kind)
		require.Equal(t, store.GHLConnected, conn.State)
		require.Equal(t, "ghl-loc-1", conn.GHLLocationID)
		require.Equal(t, "workflows.readonly", conn.Scopes)

		st, err = e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateConnected, st.State)

		// The same callback again (a replay) is refused, and GHL is not asked again.
		before := len(e.fake.Requests())
		_, replayErr := e.svc.CompleteOAuth(ctx, code, state)
		require.ErrorIs(t, replayErr, ghl.ErrStateUsed)
		require.Len(t, e.fake.Requests(), before)

		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 2), wf("wf-b", 1)})
		res, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, res.Workflows)
		require.Equal(t, 2, res.NotImported)
		st, err = e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.True(t, st.Connection.LastSync.OK)
		require.Equal(t, 2, st.Connection.LastSync.Workflows)

		require.NoError(t, e.svc.Disconnect(ctx, e.account.ID, e.loc.ID))
		st, err = e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateNotConnected, st.State)
		require.ErrorIs(t, e.svc.Disconnect(ctx, e.account.ID, e.loc.ID), store.ErrNotFound)
		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, ghl.ErrNotConnected)

		e.mustNotLeak(t, replayErr.Error(), err.Error())
	})
}

// TestOAuthStateRefused: a tampered, replayed, expired or foreign state is refused before GHL is
// asked for anything, and nothing is stored.
func TestOAuthStateRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		code, state := e.mustAuthorize(t, e.loc.GHLLocationID)
		payload, sig, _ := strings.Cut(state, ".")
		other := mustEnv(t, store.EngineSQLite, func(cfg *ghl.ServiceConfig) { cfg.GHL.TokenKeys = mustRing(t, "k1:"+mustKey(t, 9)) })
		_, otherState := other.mustAuthorize(t, "ghl-loc-1")
		// A state signed with this deployment's key whose nonce this database never recorded.
		twin := mustEnv(t, store.EngineSQLite)
		_, unrecorded := twin.mustAuthorize(t, "ghl-loc-1")
		later := e.newService(t, func(cfg *ghl.ServiceConfig) { cfg.Now = func() time.Time { return time.Now().Add(ghl.StateTTL) } })
		flipped := []byte(sig)
		flipped[0] ^= 1

		tests := []struct {
			name  string
			svc   *ghl.Service
			state string
			want  error
		}{
			{name: "tampered account", svc: e.svc, state: mustForgeState(t, payload, e.account.ID, other.account.ID) + "." + sig, want: ghl.ErrStateInvalid},
			{name: "tampered signature", svc: e.svc, state: payload + "." + string(flipped), want: ghl.ErrStateInvalid},
			{name: "another deployment's key", svc: e.svc, state: otherState, want: ghl.ErrStateInvalid},
			{name: "never recorded", svc: e.svc, state: unrecorded, want: ghl.ErrStateInvalid},
			{name: "expired", svc: later, state: state, want: ghl.ErrStateExpired},
			{name: "empty", svc: e.svc, state: "", want: ghl.ErrStateInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(e.fake.Requests())
				_, err := tt.svc.CompleteOAuth(ctx, code, tt.state)
				require.ErrorIs(t, err, tt.want)
				require.Len(t, e.fake.Requests(), before, "GHL was not asked")
				_, err = e.db.GetGHLConnection(ctx, e.account.ID, e.loc.ID)
				require.ErrorIs(t, err, store.ErrNotFound, "nothing stored")
			})
		}
		// The genuine state still works once, then is used up.
		_, err := e.svc.CompleteOAuth(ctx, code, state)
		require.NoError(t, err)
		_, err = e.svc.CompleteOAuth(ctx, code, state)
		require.ErrorIs(t, err, ghl.ErrStateUsed)
	})
}

// TestOAuthLocationMismatch: the user picked another sub-account on GHL's page.
func TestOAuthLocationMismatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		code, state := e.mustAuthorize(t, "ghl-someone-else")
		_, err := e.svc.CompleteOAuth(t.Context(), code, state)
		require.ErrorIs(t, err, ghl.ErrLocationMismatch)
		var mismatch *ghl.LocationMismatchError
		require.ErrorAs(t, err, &mismatch)
		require.Equal(t, ghl.LocationMismatchError{Authorized: "ghl-someone-else", Want: "ghl-loc-1"}, *mismatch)
		_, err = e.db.GetGHLConnection(t.Context(), e.account.ID, e.loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "a token for another location is not stored")
	})
}

func TestNotConfigured(t *testing.T) {
	db := storetest.New(t, store.EngineSQLite)
	svc, err := ghl.NewService(ghl.ServiceConfig{Store: db})
	require.NoError(t, err)
	_, _, err = svc.StartOAuth(t.Context(), "acc_x", "loc_x")
	var nc *ghl.NotConfiguredError
	require.ErrorAs(t, err, &nc)
	require.ErrorIs(t, err, ghl.ErrNotConfigured)
	require.Equal(t, []string{ghl.EnvClientID, ghl.EnvClientSecret, ghl.EnvRedirectURL, ghl.EnvTokenKeys}, nc.Missing)
	_, err = svc.ConnectPIT(t.Context(), "acc_x", "loc_x", ghl.NewSecret("pit-x"))
	require.ErrorAs(t, err, &nc)
	require.Equal(t, []string{ghl.EnvTokenKeys}, nc.Missing)
	_, err = svc.CompleteOAuth(t.Context(), "code", "state")
	require.ErrorIs(t, err, ghl.ErrNotConfigured)
	_, err = svc.Reencrypt(t.Context())
	require.ErrorIs(t, err, ghl.ErrNotConfigured)
}

// TestRefreshRotation: a sync refreshes a token about to expire, stores the rotated refresh token,
// and the old one stops working once the new pair is used.
func TestRefreshRotation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.fake.SetTokenTTL(time.Minute) // within the refresh margin: every sync refreshes
		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 1)})
		e.mustConnectOAuth(t)
		_, firstRefresh := e.storedTokens(t)

		_, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		e.collectTokens(t)
		_, secondRefresh := e.storedTokens(t)
		require.NotEqual(t, firstRefresh, secondRefresh, "the rotated refresh token is stored")
		require.True(t, e.fake.RefreshTokenValid(secondRefresh))
		require.False(t, e.fake.RefreshTokenValid(firstRefresh), "the old one ended when the new pair was used")
		c, err := e.db.GetGHLConnection(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.NotNil(t, c.RefreshedAt)

		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		e.collectTokens(t)
		grants := 0
		for _, r := range e.fake.Requests() {
			if r.GrantType == "refresh_token" {
				grants++
			}
		}
		require.Equal(t, 2, grants)
		require.Contains(t, e.logs.String(), "GHL tokens refreshed")
		e.mustNotLeak(t)
	})
}

// errCrash stands for the process dying between GHL's refresh answer and the store.
var errCrash = errors.New("crash")

// TestRefreshCrash: a process that dies after GHL refreshed but before the new pair was stored
// leaves the old refresh token in the database, and it still works: the next sync refreshes from
// it. Against a GHL that ends a refresh token on first use (Strict) the connection is marked broken
// with the reason instead of failing silently.
func TestRefreshCrash(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.fake.SetTokenTTL(time.Minute)
		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 1)})
		e.mustConnectOAuth(t)
		_, stored := e.storedTokens(t)

		crashed := true
		ghl.SetAfterRefresh(e.svc, func() error {
			if crashed {
				crashed = false
				return errCrash
			}
			return nil
		})
		_, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, errCrash)
		_, after := e.storedTokens(t)
		require.Equal(t, stored, after, "nothing was stored")
		require.True(t, e.fake.RefreshTokenValid(after), "the only stored refresh token still works")

		// Another instance (the crashed one's lease runs out first) refreshes from it.
		other := e.newService(t)
		_, err = other.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		e.collectTokens(t)
		_, now := e.storedTokens(t)
		require.NotEqual(t, stored, now)
		require.True(t, e.fake.RefreshTokenValid(now))
		st, err := other.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateConnected, st.State)
	})

	t.Run("strict rotation", func(t *testing.T) {
		e := mustEnv(t, store.EngineSQLite)
		ctx := t.Context()
		e.fake.SetRotation(ghltest.Strict)
		e.fake.SetTokenTTL(time.Minute)
		e.fake.SetWorkflows("ghl-loc-1", nil)
		e.mustConnectOAuth(t)
		ghl.SetAfterRefresh(e.svc, func() error { return errCrash })
		_, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, errCrash)
		_, syncErr := e.newService(t).Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, syncErr, ghl.ErrNotConnected)
		st, err := e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateBroken, st.State)
		require.Contains(t, st.Connection.BrokenReason, "refused the refresh token")
		e.mustNotLeak(t, syncErr.Error(), st.Connection.BrokenReason)
	})
}

// TestConcurrentRefresh: several instances sync one location whose token is due for a refresh;
// one refreshes (under the lease), the others wait for it and use what it stored.
func TestConcurrentRefresh(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.fake.SetTokenTTL(time.Minute) // within the refresh margin: due now
		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 1)})
		e.mustConnectOAuth(t)
		e.fake.SetTokenTTL(24 * time.Hour) // the refreshed token is good for a day
		instances := make([]*ghl.Service, 4)
		for i := range instances {
			instances[i] = e.newService(t, func(cfg *ghl.ServiceConfig) { cfg.LeaseTTL = 10 * time.Second })
		}
		var wg sync.WaitGroup
		for _, svc := range instances {
			wg.Go(func() {
				_, err := svc.Sync(t.Context(), e.account.ID, e.loc.ID, ghl.SyncOptions{})
				require.NoError(t, err)
			})
		}
		wg.Wait()
		grants := 0
		for _, r := range e.fake.Requests() {
			if r.GrantType == "refresh_token" {
				grants++
			}
		}
		require.Equal(t, 1, grants, "one instance refreshed")
		_, rt := e.storedTokens(t)
		require.True(t, e.fake.RefreshTokenValid(rt))
		st, err := e.svc.Status(t.Context(), e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateConnected, st.State)
	})
}

// TestSyncDrift: drift marks exactly the moved workflows stale, lists GHL's workflows never
// imported and notices deletions.
func TestSyncDrift(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		imported := func(id string, version int) store.ImportedWorkflow {
			return store.ImportedWorkflow{GHLWorkflowID: id, Name: id, Status: "published", Dialect: "ghl-builder",
				GHLVersion: version, Steps: 1, Normalized: []byte(fmt.Sprintf(`{"id":%q}`, id))}
		}
		out, err := e.db.ImportWorkflows(ctx, e.account.ID, e.loc.ID, []store.ImportedWorkflow{
			imported("wf-a", 3), imported("wf-b", 7), imported("wf-c", 2),
		}, nil)
		require.NoError(t, err)
		ids := map[string]string{}
		for _, w := range out.Workflows {
			ids[w.GHLWorkflowID] = w.ID
		}
		e.mustConnectOAuth(t)

		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 3), wf("wf-b", 7), wf("wf-c", 2), wf("wf-new", 1)})
		res, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		require.Zero(t, res.Stale, "nothing moved")
		require.Equal(t, 1, res.NotImported)

		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 4), wf("wf-b", 7), wf("wf-new", 2)})
		res, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		require.Equal(t, []string{ids["wf-a"]}, res.StaleWorkflowIDs, "exactly the moved workflow")
		require.Equal(t, 1, res.Deleted, "wf-c was deleted in GHL")
		require.Equal(t, 1, res.NotImported)

		h, _, err := e.db.ListGHLWorkflowVersions(ctx, e.account.ID, e.loc.ID, ids["wf-a"], store.Page{})
		require.NoError(t, err)
		require.True(t, h.Stale)
		require.Equal(t, 3, h.ImportedVersion)
		require.Len(t, h.Versions, 2)
		require.Equal(t, 4, h.Versions[0].Version)
	})
}

// TestSyncBroken: a token GHL no longer accepts marks the connection broken, with the reason.
func TestSyncBroken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.fake.SetWorkflows("ghl-loc-1", nil)
		e.mustConnectOAuth(t)
		e.fake.RevokeAll("ghl-loc-1") // the app was uninstalled in GHL
		_, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, ghl.ErrNotConnected)
		st, err := e.svc.Status(ctx, e.account.ID, e.loc.ID)
		require.NoError(t, err)
		require.Equal(t, ghl.StateBroken, st.State)
		require.Equal(t, "GHL refused the refresh token; connect the location again", st.Connection.BrokenReason)
		require.False(t, st.Connection.LastSync.OK)
		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, ghl.ErrNotConnected, "a broken connection is not synced")

		// Connecting again repairs it.
		e.mustConnectOAuth(t)
		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
	})
}

// TestSyncUnavailable: a GHL that keeps failing fails the sync (to be tried again) without breaking
// the connection, and the failure is recorded.
func TestSyncUnavailable(t *testing.T) {
	e := mustEnv(t, store.EngineSQLite)
	e.fake.SetWorkflows("ghl-loc-1", nil)
	e.mustConnectOAuth(t)
	e.fake.FailNext(503, 503, 503, 503, 503, 503)
	_, err := e.svc.Sync(t.Context(), e.account.ID, e.loc.ID, ghl.SyncOptions{})
	require.ErrorIs(t, err, ghl.ErrUnavailable)
	st, err := e.svc.Status(t.Context(), e.account.ID, e.loc.ID)
	require.NoError(t, err)
	require.Equal(t, ghl.StateConnected, st.State)
	require.Equal(t, "GHL is unavailable (GHL answered 503)", st.Connection.LastSync.Detail)
}

func TestConnectPIT(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 1)})
		pit := e.fake.AddPIT("ghl-loc-1")
		wrong := e.fake.AddPIT("ghl-loc-2")
		e.secrets = append(e.secrets, pit, wrong)

		_, rejected := e.svc.ConnectPIT(ctx, e.account.ID, e.loc.ID, ghl.NewSecret(wrong))
		require.ErrorIs(t, rejected, ghl.ErrTokenRejected)
		_, err := e.db.GetGHLConnection(ctx, e.account.ID, e.loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "a refused token is not stored")

		conn, err := e.svc.ConnectPIT(ctx, e.account.ID, e.loc.ID, ghl.NewSecret(pit))
		require.NoError(t, err)
		require.Equal(t, store.GHLPIT, conn.Kind)
		require.True(t, conn.LastSync.OK, "the list read to check the token is the first sync")
		require.Equal(t, 1, conn.LastSync.Workflows)
		access, _ := e.storedTokens(t)
		require.Equal(t, pit, access)

		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
		e.mustNotLeak(t, rejected.Error())
	})
}

// TestTokensUnreadableAtRest reads the connection's row as the database holds it: no token
// appears, and the ciphertexts do not open without the key.
func TestTokensUnreadableAtRest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.mustConnectOAuth(t)
		access, refresh := e.storedTokens(t)
		rows, err := e.db.SQL().QueryxContext(t.Context(), `SELECT * FROM ghl_connections`)
		require.NoError(t, err)
		defer rows.Close()
		var dump strings.Builder
		for rows.Next() {
			cols, err := rows.SliceScan()
			require.NoError(t, err)
			for _, c := range cols {
				fmt.Fprintf(&dump, "%v|%s\n", c, c)
			}
		}
		require.NoError(t, rows.Err())
		require.Contains(t, dump.String(), "ghlenc1:k1:")
		require.NotContains(t, dump.String(), access)
		require.NotContains(t, dump.String(), refresh)

		c, err := e.db.GetGHLConnection(t.Context(), e.account.ID, e.loc.ID)
		require.NoError(t, err)
		stranger := mustRing(t, "k1:"+mustKey(t, 9)) // same id, another key
		_, err = stranger.Decrypt(c.AccessToken, ghl.TokenAAD(e.loc.ID, "access"))
		require.ErrorIs(t, err, ghl.ErrDecrypt)
	})
}

// TestRotateKey moves the stored tokens to a new key; the old key can then be dropped.
func TestRotateKey(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.fake.SetWorkflows("ghl-loc-1", nil)
		e.mustConnectOAuth(t)
		rotated := e.newService(t, func(cfg *ghl.ServiceConfig) {
			cfg.GHL.TokenKeys = mustRing(t, "k2:"+mustKey(t, 2)+",k1:"+mustKey(t, 1))
		})
		n, err := rotated.Reencrypt(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = rotated.Reencrypt(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left under the old key")

		onlyNew := e.newService(t, func(cfg *ghl.ServiceConfig) { cfg.GHL.TokenKeys = mustRing(t, "k2:"+mustKey(t, 2)) })
		_, err = onlyNew.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err, "the tokens open with the new key alone")
		_, err = e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.ErrorIs(t, err, ghl.ErrUnknownKey, "and no longer with the old one alone")
	})
}

// TestSyncThroughCache: GHL's list goes through the cache; a fresh sync reads GHL again.
func TestSyncThroughCache(t *testing.T) {
	c, err := cache.New(cache.Config{})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	e := mustEnv(t, store.EngineSQLite, func(cfg *ghl.ServiceConfig) { cfg.Cache = c })
	e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 1)})
	e.mustConnectOAuth(t)
	lists := func() int {
		n := 0
		for _, r := range e.fake.Requests() {
			if r.Endpoint == "workflows" {
				n++
			}
		}
		return n
	}
	ctx := context.Background()
	for range 3 {
		_, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{})
		require.NoError(t, err)
	}
	require.Equal(t, 1, lists(), "the periodic syncs within the TTL read the cached list")
	e.fake.SetWorkflows("ghl-loc-1", []ghltest.Workflow{wf("wf-a", 2)})
	res, err := e.svc.Sync(ctx, e.account.ID, e.loc.ID, ghl.SyncOptions{Fresh: true})
	require.NoError(t, err)
	require.Equal(t, 2, lists())
	require.True(t, res.Changed)
}
