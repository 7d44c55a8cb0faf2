package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// fakeSyncer answers its calls with errs in turn (nil once they run out) and records them.
type fakeSyncer struct {
	mu    sync.Mutex
	errs  []error
	calls []jobs.GHLSyncArgs
}

func (f *fakeSyncer) Sync(_ context.Context, accountID, locationID string, opts ghl.SyncOptions) (store.GHLApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, jobs.GHLSyncArgs{AccountID: accountID, LocationID: locationID, Fresh: opts.Fresh})
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return store.GHLApplyResult{}, err
		}
	}
	return store.GHLApplyResult{Workflows: 3, Stale: 1, Changed: true}, nil
}

func (f *fakeSyncer) called() []jobs.GHLSyncArgs {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeConnections lists fixed connections.
type fakeConnections []store.GHLConnectionRef

func (f fakeConnections) ListGHLConnections(context.Context) ([]store.GHLConnectionRef, error) {
	return f, nil
}

// TestGHLSyncOutcomes checks what each error of a sync does to its job: a location not connected
// or a deployment without settings cancels it at once, GHL's 429 snoozes it for Retry-After, GHL
// unavailable retries it, and an internal error is retried without showing its text.
func TestGHLSyncOutcomes(t *testing.T) {
	unavailable := &ghl.APIError{Endpoint: "workflows", Status: 503, Attempts: 4, Kind: ghl.ErrUnavailable}
	limited := &ghl.APIError{Endpoint: "workflows", Status: 429, Attempts: 4, RetryAfter: 200 * time.Millisecond, Kind: ghl.ErrRateLimited}
	tests := []struct {
		name      string
		errs      []error
		state     string
		calls     int
		lastError string
	}{
		{name: "ok", state: jobs.StateCompleted, calls: 1},
		{name: "not connected", errs: []error{fmt.Errorf("sync GHL: %w: the connection is broken", ghl.ErrNotConnected)}, state: jobs.StateCancelled,
			calls: 1, lastError: ghl.ErrNotConnected.Error()},
		{name: "not configured", errs: []error{&ghl.NotConfiguredError{Missing: []string{ghl.EnvTokenKeys}}}, state: jobs.StateCancelled, calls: 1,
			lastError: ghl.EnvTokenKeys},
		{name: "GHL unavailable, then ok", errs: []error{unavailable}, state: jobs.StateCompleted, calls: 2, lastError: "503"},
		{name: "429 snoozed, then ok", errs: []error{limited}, state: jobs.StateCompleted, calls: 2},
		{name: "internal error", errs: []error{errors.New("pq: relation secret_table does not exist")}, state: jobs.StateCompleted, calls: 2,
			lastError: "internal error; the sync will be tried again"},
	}
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				syncer := &fakeSyncer{errs: tt.errs}
				cfg := testConfig(db)
				cfg.GHLSyncer = syncer
				q := mustNew(t, cfg)
				mustStart(t, q)
				j, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_" + tt.name, Fresh: true})
				require.NoError(t, err)
				require.Equal(t, jobs.KindGHLSync, j.Kind)
				done := mustWaitFinal(t, q, "acc_1", j.ID)
				require.Equal(t, tt.state, done.State)
				require.Len(t, syncer.called(), tt.calls)
				require.True(t, syncer.called()[0].Fresh)
				require.Nil(t, done.Result, "a sync's outcome is read on the location, not the job")
				if tt.lastError != "" {
					require.NotNil(t, done.LastError)
					require.Contains(t, done.LastError.Message, tt.lastError)
					require.NotContains(t, done.LastError.Message, "secret_table")
				}
			})
		}
	})
}

// TestGHLSyncUnique checks that a location has one sync of each kind waiting at a time: a second
// request joins the one of its kind, a user's (fresh) sync never joins a periodic one, and another
// location gets its own.
func TestGHLSyncUnique(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig(db)
		cfg.GHLSyncer = &fakeSyncer{}
		q := mustNew(t, cfg) // not started: the jobs stay available
		first, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_1", Fresh: true})
		require.NoError(t, err)
		again, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_1", Fresh: true})
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		periodic, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_1"})
		require.NoError(t, err)
		require.NotEqual(t, first.ID, periodic.ID)
		periodicAgain, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_1"})
		require.NoError(t, err)
		require.Equal(t, periodic.ID, periodicAgain.ID)
		other, err := q.EnqueueGHLSync(t.Context(), jobs.GHLSyncArgs{AccountID: "acc_1", LocationID: "loc_2"})
		require.NoError(t, err)
		require.NotEqual(t, first.ID, other.ID)
		list, _, err := q.List(t.Context(), "acc_1", "", "", 0)
		require.NoError(t, err)
		require.Len(t, list, 3)
		_, err = q.Get(t.Context(), "acc_2", first.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "another account's sync")
	})
}

// TestGHLSyncSchedule checks the periodic job: when the queue starts, one sync per connected
// location, read through the cache (not fresh).
func TestGHLSyncSchedule(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		syncer := &fakeSyncer{}
		cfg := testConfig(db)
		cfg.GHLSyncer = syncer
		cfg.GHLConnections = fakeConnections{{AccountID: "acc_1", LocationID: "loc_1"}, {AccountID: "acc_2", LocationID: "loc_2"}}
		cfg.GHLSyncInterval = time.Hour
		q := mustNew(t, cfg)
		mustStart(t, q)
		require.Eventually(t, func() bool { return len(syncer.called()) == 2 }, 20*time.Second, 20*time.Millisecond)
		require.ElementsMatch(t, []jobs.GHLSyncArgs{{AccountID: "acc_1", LocationID: "loc_1"}, {AccountID: "acc_2", LocationID: "loc_2"}}, syncer.called())
	})
}
