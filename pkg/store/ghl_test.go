package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// ciphertext is a stand-in for what pkg/ghl writes: the store only checks the prefix.
func ciphertext(s string) string { return "ghlenc1:k1:" + s }

// oauthConnection is a new OAuth connection to GHL location ghlID expiring at exp.
func oauthConnection(ghlID string, exp time.Time) store.NewGHLConnection {
	return store.NewGHLConnection{Kind: store.GHLOAuth, GHLLocationID: ghlID, Scopes: "workflows.readonly",
		KeyID: "k1", AccessToken: ciphertext("at1"), RefreshToken: ciphertext("rt1"), AccessExpiresAt: &exp}
}

// mustConnect connects the location with OAuth and returns the connection.
func mustConnect(tb testing.TB, db *store.DB, loc store.Location) store.GHLConnection {
	tb.Helper()
	c, err := db.PutGHLConnection(tb.Context(), loc.AccountID, loc.ID, oauthConnection(loc.GHLLocationID, time.Now().Add(time.Hour)))
	require.NoError(tb, err)
	return c
}

func TestGHLOAuthStates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		other := mustCreateAccount(t, db, "Other Agency")
		now := time.Now().UTC().Truncate(time.Second)
		st := store.GHLOAuthState{Nonce: "nonce-aaaaaaaaaaaaaaaa", AccountID: acc.ID, LocationID: loc.ID, ExpiresAt: now.Add(10 * time.Minute)}
		require.NoError(t, db.CreateGHLOAuthState(ctx, st))
		require.ErrorIs(t, db.CreateGHLOAuthState(ctx, st), store.ErrConflict, "a nonce is recorded once")
		stolen := st
		stolen.Nonce, stolen.AccountID = "nonce-bbbbbbbbbbbbbbbb", other.ID
		require.ErrorIs(t, db.CreateGHLOAuthState(ctx, stolen), store.ErrNotFound, "another account's location")

		got, err := db.ConsumeGHLOAuthState(ctx, st.Nonce, now)
		require.NoError(t, err)
		require.Equal(t, st, got)
		_, err = db.ConsumeGHLOAuthState(ctx, st.Nonce, now)
		require.ErrorIs(t, err, store.ErrConflict, "replayed")

		late := store.GHLOAuthState{Nonce: "nonce-cccccccccccccccc", AccountID: acc.ID, LocationID: loc.ID, ExpiresAt: now.Add(time.Minute)}
		require.NoError(t, db.CreateGHLOAuthState(ctx, late))
		_, err = db.ConsumeGHLOAuthState(ctx, late.Nonce, now.Add(time.Minute))
		require.ErrorIs(t, err, store.ErrGHLStateExpired)
		require.ErrorIs(t, err, store.ErrNotFound)

		_, err = db.ConsumeGHLOAuthState(ctx, "nonce-never-issued-xx", now)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NotErrorIs(t, err, store.ErrGHLStateExpired)
	})
}

// TestGHLOAuthStateConsumedOnce races callbacks with one state: exactly one wins.
func TestGHLOAuthStateConsumedOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		now := time.Now().UTC()
		st := store.GHLOAuthState{Nonce: "nonce-race-aaaaaaaaaa", AccountID: acc.ID, LocationID: loc.ID, ExpiresAt: now.Add(time.Minute)}
		require.NoError(t, db.CreateGHLOAuthState(t.Context(), st))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, replays := 0, 0
		for range 8 {
			wg.Go(func() {
				_, err := db.ConsumeGHLOAuthState(t.Context(), st.Nonce, now)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, store.ErrConflict):
					replays++
				default:
					t.Errorf("consume: %v", err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, wins)
		require.Equal(t, 7, replays)
	})
}

func TestGHLConnection(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		other := mustCreateAccount(t, db, "Other Agency")

		_, err := db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "not connected")

		exp := clock.now().Add(24 * time.Hour)
		c, err := db.PutGHLConnection(ctx, acc.ID, loc.ID, oauthConnection("g1", exp))
		require.NoError(t, err)
		require.Equal(t, store.GHLConnection{
			LocationID: loc.ID, AccountID: acc.ID, GHLLocationID: "g1", Kind: store.GHLOAuth, State: store.GHLConnected,
			Scopes: "workflows.readonly", KeyID: "k1", AccessToken: ciphertext("at1"), RefreshToken: ciphertext("rt1"),
			AccessExpiresAt: &exp, ConnectedAt: clock.now(), UpdatedAt: clock.now(),
		}, c)
		got, err := db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
		_, err = db.GetGHLConnection(ctx, other.ID, loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "another account's location")
		_, err = db.PutGHLConnection(ctx, other.ID, loc.ID, oauthConnection("g1", exp))
		require.ErrorIs(t, err, store.ErrNotFound)

		refs, err := db.ListGHLConnections(ctx)
		require.NoError(t, err)
		require.Equal(t, []store.GHLConnectionRef{{AccountID: acc.ID, LocationID: loc.ID}}, refs)

		// Broken connections are shown with their reason and left out of the periodic sync.
		require.NoError(t, db.MarkGHLBroken(ctx, acc.ID, loc.ID, "GHL refused the refresh token"))
		got, err = db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Equal(t, store.GHLBroken, got.State)
		require.Equal(t, "GHL refused the refresh token", got.BrokenReason)
		refs, err = db.ListGHLConnections(ctx)
		require.NoError(t, err)
		require.Empty(t, refs)
		require.ErrorIs(t, db.MarkGHLBroken(ctx, other.ID, loc.ID, "x"), store.ErrNotFound)

		// Connecting again with a Private Integration Token replaces the tokens and the state.
		clock.advance(time.Minute)
		pit, err := db.PutGHLConnection(ctx, acc.ID, loc.ID, store.NewGHLConnection{Kind: store.GHLPIT, GHLLocationID: "g1", KeyID: "k1", AccessToken: ciphertext("pit")})
		require.NoError(t, err)
		require.Equal(t, store.GHLConnected, pit.State)
		require.Empty(t, pit.BrokenReason)
		require.Empty(t, pit.RefreshToken)
		require.Nil(t, pit.AccessExpiresAt)
		require.Equal(t, clock.now(), pit.ConnectedAt)

		last := store.GHLSyncResult{At: clock.now(), OK: false, Detail: "GHL is unavailable", Workflows: 0}
		require.NoError(t, db.RecordGHLSync(ctx, acc.ID, loc.ID, last))
		got, err = db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Equal(t, &last, got.LastSync)

		invalid := []store.NewGHLConnection{
			{Kind: store.GHLOAuth, GHLLocationID: "g1", KeyID: "k1", AccessToken: ciphertext("at")},
			{Kind: store.GHLPIT, GHLLocationID: "g1", KeyID: "k1", AccessToken: ciphertext("at"), RefreshToken: ciphertext("rt")},
			{Kind: "password", GHLLocationID: "g1", KeyID: "k1", AccessToken: ciphertext("at")},
			{Kind: store.GHLPIT, GHLLocationID: "g1", KeyID: "k1", AccessToken: "pit-plaintext"},
		}
		for i, in := range invalid {
			_, err := db.PutGHLConnection(ctx, acc.ID, loc.ID, in)
			require.ErrorIs(t, err, store.ErrInvalid, "case %d", i)
		}

		require.NoError(t, db.DeleteGHLConnection(ctx, acc.ID, loc.ID))
		require.ErrorIs(t, db.DeleteGHLConnection(ctx, acc.ID, loc.ID), store.ErrNotFound)
		_, err = db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestGHLRefreshLease(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := mustFakeClock(t, db)
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		mustConnect(t, db, loc)

		c, err := db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-a", clock.now().Add(30*time.Second))
		require.NoError(t, err)
		require.Equal(t, ciphertext("rt1"), c.RefreshToken)
		_, err = db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-b", clock.now().Add(30*time.Second))
		require.ErrorIs(t, err, store.ErrConflict, "one refresher at a time")

		exp := clock.now().Add(24 * time.Hour)
		next := store.GHLTokens{KeyID: "k1", AccessToken: ciphertext("at2"), RefreshToken: ciphertext("rt2"), AccessExpiresAt: exp}
		require.ErrorIs(t, db.StoreGHLRefresh(ctx, acc.ID, loc.ID, "instance-b", next), store.ErrConflict, "not the lease's owner")
		clock.advance(time.Second)
		require.NoError(t, db.StoreGHLRefresh(ctx, acc.ID, loc.ID, "instance-a", next))
		got, err := db.GetGHLConnection(ctx, acc.ID, loc.ID)
		require.NoError(t, err)
		require.Equal(t, ciphertext("at2"), got.AccessToken)
		require.Equal(t, ciphertext("rt2"), got.RefreshToken)
		require.Equal(t, &exp, got.AccessExpiresAt)
		require.Equal(t, clock.now(), *got.RefreshedAt)
		require.Equal(t, "workflows.readonly", got.Scopes, "an empty Scopes keeps the granted ones")

		// The lease was released with the store: B takes it now.
		_, err = db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-b", clock.now().Add(30*time.Second))
		require.NoError(t, err)
		// A lease whose owner died is taken over once its time ran out, and the old owner's late
		// store does not land.
		clock.advance(31 * time.Second)
		_, err = db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-c", clock.now().Add(30*time.Second))
		require.NoError(t, err)
		require.ErrorIs(t, db.StoreGHLRefresh(ctx, acc.ID, loc.ID, "instance-b", next), store.ErrConflict)
		require.NoError(t, db.ReleaseGHLLease(ctx, loc.ID, "instance-c"))
		_, err = db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-a", clock.now().Add(30*time.Second))
		require.NoError(t, err, "released")

		require.NoError(t, db.MarkGHLBroken(ctx, acc.ID, loc.ID, "refresh refused"))
		_, err = db.LeaseGHLRefresh(ctx, acc.ID, loc.ID, "instance-a", clock.now().Add(30*time.Second))
		require.ErrorIs(t, err, store.ErrNotFound, "a broken connection does not refresh")
		require.ErrorIs(t, db.StoreGHLRefresh(ctx, acc.ID, loc.ID, "instance-a", next), store.ErrConflict)
	})
}

// seen is GHL's list entry of id at version.
func seen(id string, version int) store.GHLWorkflowSeen {
	return store.GHLWorkflowSeen{ID: id, Name: "Workflow " + id, Status: "published", Version: version}
}

func TestApplyGHLWorkflowList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		out, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{
			withVersion(importedWorkflow("wf-a", "A", "published"), 3),
			withVersion(importedWorkflow("wf-b", "B", "published"), 3),
			withVersion(importedWorkflow("wf-local", "Only imported", "draft"), 1),
		}, nil)
		require.NoError(t, err)
		wa, wb := out.Workflows[0], out.Workflows[1]

		_, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-a", 3)}, time.Now())
		require.ErrorIs(t, err, store.ErrNotFound, "not connected")
		mustConnect(t, db, loc)

		t1 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		res, err := db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-a", 3), seen("wf-b", 5), seen("wf-new", 1)}, t1)
		require.NoError(t, err)
		require.Equal(t, store.GHLApplyResult{Workflows: 3, Stale: 1, StaleWorkflowIDs: []string{wb.ID}, NotImported: 1, Changed: true}, res,
			"exactly the moved workflow is stale")

		t2 := t1.Add(time.Hour)
		res, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-new", 1), seen("wf-b", 5), seen("wf-a", 3)}, t2)
		require.NoError(t, err)
		require.False(t, res.Changed, "the same list in another order changes nothing")
		require.Equal(t, 1, res.Stale)

		// wf-a moves, wf-b is deleted in GHL.
		t3 := t2.Add(time.Hour)
		res, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-a", 4), seen("wf-new", 1)}, t3)
		require.NoError(t, err)
		require.Equal(t, store.GHLApplyResult{Workflows: 2, Stale: 1, StaleWorkflowIDs: []string{wa.ID}, NotImported: 1, Deleted: 1, Changed: true}, res,
			"a workflow deleted in GHL is not stale")

		list, next, err := db.ListGHLWorkflows(ctx, acc.ID, loc.ID, store.Page{})
		require.NoError(t, err)
		require.Empty(t, next)
		importedA, importedB := 3, 3
		require.Equal(t, []store.GHLWorkflow{
			{GHLWorkflowID: "wf-a", Name: "Workflow wf-a", Status: "published", Version: 4, FirstSeenAt: t1, LastSeenAt: t3,
				WorkflowID: wa.ID, ImportedVersion: &importedA, Stale: true},
			{GHLWorkflowID: "wf-b", Name: "Workflow wf-b", Status: "published", Version: 5, FirstSeenAt: t1, LastSeenAt: t2,
				DeletedAt: &t3, WorkflowID: wb.ID, ImportedVersion: &importedB},
			{GHLWorkflowID: "wf-new", Name: "Workflow wf-new", Status: "published", Version: 1, FirstSeenAt: t1, LastSeenAt: t3},
		}, list)

		// Importing the new version clears stale without a sync.
		_, err = db.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{withVersion(importedWorkflow("wf-a", "A", "published"), 4)}, nil)
		require.NoError(t, err)
		byID, err := db.GHLWorkflowsOf(ctx, acc.ID, loc.ID, []string{"wf-a", "wf-local", "wf-b"})
		require.NoError(t, err)
		require.False(t, byID["wf-a"].Stale)
		require.Equal(t, 4, *byID["wf-a"].ImportedVersion)
		require.NotContains(t, byID, "wf-local", "never listed by GHL")
		require.NotNil(t, byID["wf-b"].DeletedAt)
		byStored, err := db.GHLWorkflowsByStoredID(ctx, acc.ID, loc.ID, []string{wa.ID, wb.ID, out.Workflows[2].ID})
		require.NoError(t, err)
		require.Equal(t, map[string]store.GHLWorkflow{wa.ID: byID["wf-a"], wb.ID: byID["wf-b"]}, byStored,
			"the same records, keyed by the stored ids; wf-local was never listed")

		// wf-b comes back.
		t4 := t3.Add(time.Hour)
		res, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-a", 4), seen("wf-b", 6), seen("wf-new", 1)}, t4)
		require.NoError(t, err)
		require.Equal(t, store.GHLApplyResult{Workflows: 3, Stale: 1, StaleWorkflowIDs: []string{wb.ID}, NotImported: 1, Changed: true}, res)

		h, next, err := db.ListGHLWorkflowVersions(ctx, acc.ID, loc.ID, wa.ID, store.Page{})
		require.NoError(t, err)
		require.Empty(t, next)
		require.Equal(t, store.GHLVersionHistory{WorkflowID: wa.ID, GHLWorkflowID: "wf-a", ImportedVersion: 4,
			Versions: []store.GHLVersion{{Version: 4, SeenAt: t3}, {Version: 3, SeenAt: t1}}}, h)
		h, next, err = db.ListGHLWorkflowVersions(ctx, acc.ID, loc.ID, wb.ID, store.Page{Limit: 1})
		require.NoError(t, err)
		require.True(t, h.Stale)
		require.Equal(t, []store.GHLVersion{{Version: 6, SeenAt: t4}}, h.Versions)
		h, next, err = db.ListGHLWorkflowVersions(ctx, acc.ID, loc.ID, wb.ID, store.Page{Limit: 1, Cursor: next})
		require.NoError(t, err)
		require.Empty(t, next)
		require.Equal(t, []store.GHLVersion{{Version: 5, SeenAt: t1}}, h.Versions)
		_, _, err = db.ListGHLWorkflowVersions(ctx, acc.ID, loc.ID, wb.ID, store.Page{Cursor: "v007"})
		require.ErrorIs(t, err, store.ErrInvalidCursor)
		_, _, err = db.ListGHLWorkflowVersions(ctx, acc.ID, loc.ID, missingWorkflowID, store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)

		_, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("wf-a", 4), seen("wf-a", 5)}, t4)
		require.ErrorIs(t, err, store.ErrInvalid)
		_, err = db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, []store.GHLWorkflowSeen{seen("", 4)}, t4)
		require.ErrorIs(t, err, store.ErrInvalid)

		// Disconnecting deletes what the syncs recorded; the imports stay.
		require.NoError(t, db.DeleteGHLConnection(ctx, acc.ID, loc.ID))
		list, _, err = db.ListGHLWorkflows(ctx, acc.ID, loc.ID, store.Page{})
		require.NoError(t, err)
		require.Empty(t, list)
		require.Len(t, mustListWorkflows(t, db, acc.ID, loc.ID, ""), 3)
	})
}

func TestListGHLWorkflowsPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		loc := mustCreateLocation(t, db, acc.ID, "g1")
		mustConnect(t, db, loc)
		var list []store.GHLWorkflowSeen
		for i := range 5 {
			list = append(list, seen(fmt.Sprintf("wf-%d", i), 1))
		}
		_, err := db.ApplyGHLWorkflowList(ctx, acc.ID, loc.ID, list, time.Now())
		require.NoError(t, err)
		var ids []string
		cursor := ""
		for {
			page, next, err := db.ListGHLWorkflows(ctx, acc.ID, loc.ID, store.Page{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, w := range page {
				ids = append(ids, w.GHLWorkflowID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, []string{"wf-0", "wf-1", "wf-2", "wf-3", "wf-4"}, ids)
		_, _, err = db.ListGHLWorkflows(ctx, acc.ID, loc.ID, store.Page{Cursor: "not-a-cursor"})
		require.ErrorIs(t, err, store.ErrInvalidCursor)
		other := mustCreateAccount(t, db, "Other")
		_, _, err = db.ListGHLWorkflows(ctx, other.ID, loc.ID, store.Page{})
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestGHLCiphertextRotation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		l1 := mustCreateLocation(t, db, acc.ID, "g1")
		l2 := mustCreateLocation(t, db, acc.ID, "g2")
		mustConnect(t, db, l1)
		_, err := db.PutGHLConnection(ctx, acc.ID, l2.ID, store.NewGHLConnection{Kind: store.GHLPIT, GHLLocationID: "g2", KeyID: "k2", AccessToken: "ghlenc1:k2:pit"})
		require.NoError(t, err)

		old, err := db.GHLCiphertextsNotUnder(ctx, "k2")
		require.NoError(t, err)
		require.Equal(t, []store.GHLCiphertexts{{LocationID: l1.ID, KeyID: "k1", AccessToken: ciphertext("at1"), RefreshToken: ciphertext("rt1")}}, old)

		updated := store.GHLCiphertexts{LocationID: l1.ID, KeyID: "k2", AccessToken: "ghlenc1:k2:at1", RefreshToken: "ghlenc1:k2:rt1"}
		ok, err := db.ReplaceGHLCiphertexts(ctx, old[0], updated)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = db.ReplaceGHLCiphertexts(ctx, old[0], updated)
		require.NoError(t, err)
		require.False(t, ok, "the row changed since it was read: left alone")
		left, err := db.GHLCiphertextsNotUnder(ctx, "k2")
		require.NoError(t, err)
		require.Empty(t, left)
		got, err := db.GetGHLConnection(ctx, acc.ID, l1.ID)
		require.NoError(t, err)
		require.Equal(t, "ghlenc1:k2:rt1", got.RefreshToken)
	})
}
