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

// TestPreparedStatementsReused checks that a statement is prepared the first time its text is met
// and reused after that, whatever method or transaction sends it, and that each call is still
// counted under its query family.
func TestPreparedStatementsReused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustFakeClock(t, db)
		f := mustReadFixture(t, db)

		// The fixture has not run every hot read yet: running each once prepares it.
		require.NoError(t, f.hotReads(ctx, db))
		before := store.Prepares(db)
		counts := mustCountQueries(t, func() {
			for range 20 {
				require.NoError(t, f.hotReads(ctx, db))
			}
		})
		require.Equal(t, before, store.Prepares(db), "nothing is prepared again")
		for _, family := range []string{"api_keys.authenticate", "analyses.get", "workflows.list", "analyses.history", "locations.get"} {
			require.Equal(t, [2]uint64{20, 0}, counts[family], "%s is counted per call", family)
		}

		// A new text is prepared once, on its first call.
		_, err := db.GetAccount(ctx, f.account.ID)
		require.NoError(t, err)
		require.Equal(t, before+1, store.Prepares(db))
		for range 5 {
			_, err := db.GetAccount(ctx, f.account.ID)
			require.NoError(t, err)
		}
		require.Equal(t, before+1, store.Prepares(db))

		// A transaction uses the statements the pool prepared.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			for range 3 {
				if _, err := tx.GetAccount(ctx, f.account.ID); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, before+1, store.Prepares(db))
	})
}

// TestPreparedStatementsWithoutPreparation is the reference of TestPreparedStatementsReused: with
// preparation off nothing is prepared, and the store works the same.
func TestPreparedStatementsWithoutPreparation(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			db := mustOpenEngine(t, engine, store.WithoutPreparedStatements(store.Config{}))
			mustFakeClock(t, db)
			f := mustReadFixture(t, db)
			require.NoError(t, f.hotReads(t.Context(), db))
			require.Zero(t, store.Prepares(db))
		})
	}
}

// TestPostgresPreparedOncePerConnection looks at the statements prepared on the server, from inside
// a transaction, which holds one connection: a statement that ran three times in it is prepared
// there once (pg_prepared_statements lists it once), and not at all without preparation.
func TestPostgresPreparedOncePerConnection(t *testing.T) {
	if !contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set: pg_prepared_statements is PostgreSQL's", storetest.EnvDatabaseURL)
	}
	for _, tt := range []struct {
		name string
		cfg  store.Config
		want int
	}{
		{name: "prepared", cfg: store.Config{MaxOpenConns: 2}, want: 1},
		{name: "unprepared", cfg: store.WithoutPreparedStatements(store.Config{MaxOpenConns: 2}), want: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpenEngine(t, store.EnginePostgres, tt.cfg)
			acc := mustCreateAccount(t, db, "Acme Agency")
			for range 4 {
				require.Equal(t, acc, mustGetAccount(t, db, acc.ID))
			}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for range 3 {
					got, err := tx.GetAccount(ctx, acc.ID)
					require.NoError(t, err)
					require.Equal(t, acc, got)
				}
				var n int
				require.NoError(t, tx.SQL().GetContext(ctx, &n,
					`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM accounts WHERE id = $1'`))
				require.Equal(t, tt.want, n)
				return nil
			})
			require.NoError(t, err)
		})
	}
}

// TestPreparedStatementsKeepTimeouts checks that prepared statements keep the statement timeout and
// its errors: on SQLite, a write whose statement is prepared already waits for another process's
// lock no longer than the timeout and fails with ErrUnavailable, while prepared reads go on; a
// caller that gave up gets its own context's error.
func TestPreparedStatementsKeepTimeouts(t *testing.T) {
	ctx := t.Context()
	const timeout = 300 * time.Millisecond
	db, other := mustSharedDatabase(t, store.EngineSQLite, store.Config{StatementTimeout: timeout})
	acc := mustCreateAccount(t, db, "Acme Agency")
	before := mustCreateLocation(t, db, acc.ID, "before")
	mustGetLocation(t, db, acc.ID, before.ID)
	prepared := store.Prepares(db)

	release := mustHoldLock(t, other, "")
	start := time.Now()
	_, err := db.CreateLocation(ctx, acc.ID, store.NewLocation{GHLLocationID: "during", Name: "During"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.Less(t, time.Since(start), timeout+time.Second, "the wait ends with the statement timeout")
	require.Equal(t, before, mustGetLocation(t, db, acc.ID, before.ID), "reads go on")
	require.Equal(t, prepared, store.Prepares(db), "the statements were the prepared ones")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.GetLocation(canceled, acc.ID, before.ID)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, store.ErrUnavailable)
	release()
	mustCreateLocation(t, db, acc.ID, "after")
}

// TestPostgresPreparedUnavailable freezes PostgreSQL (through a proxy) after the hot statements were
// prepared on the pool's connection, and checks that they fail like unprepared ones: with
// ErrUnavailable, within the statement timeout and its grace. lib/pq makes a prepared statement
// whose context ended wait for its cancel request; on a frozen server that wait used to last the
// connect timeout, here the default 5 s.
func TestPostgresPreparedUnavailable(t *testing.T) {
	if !contains(storetest.Engines(t), store.EnginePostgres) {
		t.Skipf("%s is not set: the fault test runs on PostgreSQL", storetest.EnvDatabaseURL)
	}
	databaseURL, _ := storetest.DSN(t, store.EnginePostgres)
	u, err := url.Parse(databaseURL)
	require.NoError(t, err)
	proxy, err := tcpproxy.Listen("127.0.0.1:0", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, proxy.Close()) })
	u.Host = proxy.Addr()
	// One connection, so that every statement below runs where the earlier ones were prepared.
	db := mustOpen(t, store.Config{DatabaseURL: u.String(), MaxOpenConns: 1, StatementTimeout: faultStatementTimeout})
	require.NoError(t, db.Migrate(t.Context()))
	mustFakeClock(t, db)
	f := mustReadFixture(t, db)
	require.NoError(t, f.hotReads(t.Context(), db))
	write := func(ctx context.Context) error {
		_, err := db.CreateLocation(ctx, f.account.ID, store.NewLocation{GHLLocationID: "frozen", Name: "Frozen"})
		return err
	}
	// Prepared now; the same write again would be a conflict, were the server to answer it.
	require.NoError(t, write(t.Context()))

	proxy.Freeze()
	defer func() { require.NoError(t, proxy.Resume()) }()
	for _, c := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "read", call: func(ctx context.Context) error { return f.hotReads(ctx, db) }},
		{name: "write", call: write},
	} {
		start := time.Now()
		err := c.call(t.Context())
		took := time.Since(start)
		require.ErrorIs(t, err, store.ErrUnavailable, c.name)
		require.Less(t, took, faultStatementTimeout+faultSlack, "%s took %s", c.name, took)
		t.Logf("%s: unavailable after %s", c.name, took.Round(time.Millisecond))
	}
}
