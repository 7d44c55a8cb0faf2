package store_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// mustSharedDatabase opens two DBs on one fresh, migrated database of engine, as two processes
// sharing it would, with cfg's pool and timeouts.
func mustSharedDatabase(tb testing.TB, engine string, cfg store.Config) (*store.DB, *store.DB) {
	tb.Helper()
	cfg.DatabaseURL, cfg.DataDir = storetest.DSN(tb, engine)
	db := mustOpen(tb, cfg)
	require.NoError(tb, db.Migrate(tb.Context()))
	return db, mustOpen(tb, cfg)
}

// mustHoldLock starts a transaction on db that runs statement and keeps what it locked until the
// returned function (also called when the test ends) rolls it back. On SQLite every transaction
// starts with BEGIN IMMEDIATE, which takes the database's write lock by itself.
func mustHoldLock(tb testing.TB, db *store.DB, statement string, args ...any) (release func()) {
	tb.Helper()
	tx, err := db.SQL().BeginTxx(context.Background(), nil)
	require.NoError(tb, err)
	if statement != "" {
		_, err = tx.Exec(store.Rebind(db, statement), args...)
		require.NoError(tb, err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			require.NoError(tb, tx.Rollback())
		}
	}
	tb.Cleanup(release)
	return release
}

// lockWorkflows locks a location's workflow rows on PostgreSQL. SQLite's lock is the whole database.
func lockWorkflows(engine string) string {
	if engine == store.EnginePostgres {
		return `SELECT id FROM workflows WHERE location_id = ? FOR UPDATE`
	}
	return ""
}

// TestPointLastAnalysisWritesOnlyChanges shows that reusing the analysis that already is the
// workflows' last writes nothing: it succeeds while another connection holds the workflows' rows
// (on SQLite, the database's write lock), where a write would wait for them until the statement
// timeout. Pointing them elsewhere still writes, and so waits.
func TestPointLastAnalysisWritesOnlyChanges(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			db, other := mustSharedDatabase(t, engine, store.Config{MaxOpenConns: 2, StatementTimeout: 500 * time.Millisecond})
			clock := mustFakeClock(t, db)
			acc := mustCreateAccount(t, db, "Acme Agency")
			loc := mustCreateLocation(t, db, acc.ID, "g1")
			out := mustImport(t, db, acc.ID, loc.ID, nil, importedWorkflow("wf-a", "A", "published"), importedWorkflow("wf-b", "B", "draft"))
			wa, wb := out.Workflows[0], out.Workflows[1]
			a1 := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb))
			clock.advance(time.Minute)
			a2 := mustCreateAnalysis(t, db, acc.ID, locationAnalysis(loc.ID, wa, wb))
			require.Equal(t, a2.ID, mustGetWorkflow(t, db, acc.ID, loc.ID, wa.ID).LastAnalysis.ID)

			release := mustHoldLock(t, other, lockWorkflows(engine), loc.ID)
			require.NoError(t, db.PointLastAnalysis(ctx, acc.ID, a2.ID), "already the last: nothing to write, nothing to wait for")
			err := db.PointLastAnalysis(ctx, acc.ID, a1.ID)
			require.ErrorIs(t, err, store.ErrUnavailable, "a change writes, and waits for the lock until the statement timeout")
			release()

			require.Equal(t, a2.ID, mustGetWorkflow(t, db, acc.ID, loc.ID, wa.ID).LastAnalysis.ID, "the refused change wrote nothing")
			require.NoError(t, db.PointLastAnalysis(ctx, acc.ID, a1.ID))
			require.Equal(t, lastAnalysis(a1, 0), mustGetWorkflow(t, db, acc.ID, loc.ID, wa.ID).LastAnalysis)
			require.Equal(t, lastAnalysis(a1, 1), mustGetWorkflow(t, db, acc.ID, loc.ID, wb.ID).LastAnalysis)

			mustHoldLock(t, other, lockWorkflows(engine), loc.ID)
			require.NoError(t, db.PointLastAnalysis(ctx, acc.ID, a1.ID), "pointed once, reused again: no write")
			require.ErrorIs(t, db.PointLastAnalysis(ctx, acc.ID, missingAnalysisID), store.ErrNotFound)
		})
	}
}

// TestSQLiteLocked: another process holding SQLite's write lock past the statement timeout makes
// writes fail with ErrUnavailable, within about the timeout; reads go on (WAL), and writes succeed
// again once the lock is released.
func TestSQLiteLocked(t *testing.T) {
	ctx := t.Context()
	const timeout = 300 * time.Millisecond
	db, other := mustSharedDatabase(t, store.EngineSQLite, store.Config{StatementTimeout: timeout})
	acc := mustCreateAccount(t, db, "Acme Agency")
	before := mustCreateLocation(t, db, acc.ID, "before")

	release := mustHoldLock(t, other, "")
	start := time.Now()
	_, err := db.CreateLocation(ctx, acc.ID, store.NewLocation{GHLLocationID: "during", Name: "During"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.Less(t, time.Since(start), timeout+time.Second, "the wait ends with the statement timeout")
	require.Equal(t, before, mustGetLocation(t, db, acc.ID, before.ID), "reads go on")
	require.NoError(t, db.Ping(ctx))
	release()

	after := mustCreateLocation(t, db, acc.ID, "after")
	locs, _, err := db.ListLocations(ctx, acc.ID, store.Page{Limit: 10})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{before.ID, after.ID}, locationIDs(locs))
}

// Timeouts of the PostgreSQL fault test, short so that it runs quickly.
const (
	faultStatementTimeout = time.Second
	faultConnectTimeout   = time.Second
	// faultSlack is what an answer during an outage may take beyond the statement timeout: the
	// grace for PostgreSQL's cancel request and a loaded test machine.
	faultSlack = time.Second
)

// mustProxiedPostgres opens a fresh, migrated PostgreSQL database through a tcpproxy that the test
// can break, with the fault test's timeouts.
func mustProxiedPostgres(t *testing.T) (*store.DB, *tcpproxy.Proxy) {
	t.Helper()
	databaseURL, _ := storetest.DSN(t, store.EnginePostgres)
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	p, err := tcpproxy.Listen("127.0.0.1:0", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	u.Host = p.Addr()
	db := mustOpen(t, store.Config{DatabaseURL: u.String(), MaxOpenConns: 4,
		ConnectTimeout: faultConnectTimeout, StatementTimeout: faultStatementTimeout})
	require.NoError(t, db.Migrate(t.Context()))
	return db, p
}

// TestPostgresUnavailable breaks the path to PostgreSQL, with a proxy, in the two ways a database
// goes away: frozen (connections stay open, nothing answers) and cut (connections reset, new ones
// refused). During the outage every method fails with ErrUnavailable within the statement timeout
// (and a little slack), whether it reads, writes, runs a transaction or looks up an unknown key; a
// caller that gives up gets its own context's error instead. After the outage the first call
// succeeds within a second, without reopening anything, and every write acknowledged before,
// between and after the outages is there.
func TestPostgresUnavailable(t *testing.T) {
	if !contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set: the fault test runs on PostgreSQL", storetest.EnvDatabaseURL)
	}
	db, proxy := mustProxiedPostgres(t)
	acc := mustCreateAccount(t, db, "Acme Agency")
	loc := mustCreateLocation(t, db, acc.ID, "g0")
	acknowledged := []string{loc.ID}
	unknownHash := newContentHash()

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "read", call: func(ctx context.Context) error { _, err := db.GetAccount(ctx, acc.ID); return err }},
		{name: "unknown key", call: func(ctx context.Context) error {
			_, _, err := db.AuthenticateAPIKey(ctx, unknownHash)
			return err
		}},
		{name: "write", call: func(ctx context.Context) error {
			_, err := db.CreateLocation(ctx, acc.ID, store.NewLocation{GHLLocationID: "lost", Name: "Lost"})
			return err
		}},
		{name: "transaction", call: func(ctx context.Context) error {
			_, err := db.ImportWorkflows(ctx, acc.ID, loc.ID, []store.ImportedWorkflow{importedWorkflow("wf-lost", "Lost", "draft")}, nil)
			return err
		}},
		{name: "ping", call: db.Ping},
	}
	outage := func(t *testing.T) {
		t.Helper()
		for _, c := range calls {
			start := time.Now()
			err := c.call(t.Context())
			took := time.Since(start)
			require.ErrorIs(t, err, store.ErrUnavailable, "%s", c.name)
			require.Less(t, took, faultStatementTimeout+faultSlack, "%s took %s", c.name, took)
			t.Logf("%s: unavailable after %s", c.name, took.Round(time.Millisecond))
		}
	}
	recovered := func(t *testing.T, ghlID string) {
		t.Helper()
		start := time.Now()
		loc, err := db.CreateLocation(t.Context(), acc.ID, store.NewLocation{GHLLocationID: ghlID, Name: ghlID})
		took := time.Since(start)
		require.NoError(t, err)
		require.Less(t, took, time.Second, "the first write after the outage took %s", took)
		t.Logf("first write after the outage: %s", took.Round(time.Millisecond))
		acknowledged = append(acknowledged, loc.ID)
	}

	t.Run("frozen", func(t *testing.T) {
		proxy.Freeze()
		outage(t)

		// A caller that gives up is told so, not that the database is unavailable.
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := db.GetAccount(ctx, acc.ID)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, store.ErrUnavailable)

		require.NoError(t, proxy.Resume())
		recovered(t, "after-freeze")
	})
	t.Run("cut", func(t *testing.T) {
		proxy.Cut()
		outage(t)
		require.NoError(t, proxy.Resume())
		recovered(t, "after-cut")
	})
	t.Run("slow", func(t *testing.T) {
		// A server slower than the statement timeout is as good as away.
		proxy.Slow(faultStatementTimeout)
		start := time.Now()
		_, err := db.GetAccount(t.Context(), acc.ID)
		require.ErrorIs(t, err, store.ErrUnavailable)
		require.Less(t, time.Since(start), faultStatementTimeout+faultSlack)
		require.NoError(t, proxy.Resume())
		recovered(t, "after-slow")
	})

	locs, _, err := db.ListLocations(t.Context(), acc.ID, store.Page{Limit: 50})
	require.NoError(t, err)
	// A write that timed out may still have been committed (the frozen proxy passes it on when it
	// resumes, as a network would); only the acknowledged ones must be there.
	require.Subset(t, locationIDs(locs), acknowledged, "every acknowledged write is there")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
