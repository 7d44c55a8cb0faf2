package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// mustOpenEngine opens a fresh, migrated database of engine with cfg's pools and timeouts.
func mustOpenEngine(tb testing.TB, engine string, cfg store.Config) *store.DB {
	tb.Helper()
	cfg.DatabaseURL, cfg.DataDir = storetest.DSN(tb, engine)
	db := mustOpen(tb, cfg)
	require.NoError(tb, db.Migrate(tb.Context()))
	return db
}

// readFixture is an account with a live key, a location and an analysis: something for every hot
// read to find.
type readFixture struct {
	account  store.Account
	hash     string
	location store.Location
	analysis store.Analysis
}

func mustReadFixture(tb testing.TB, db *store.DB) readFixture {
	tb.Helper()
	f := readFixture{account: mustCreateAccount(tb, db, "Acme Agency"), hash: randomHash(tb)}
	_, err := db.CreateAPIKey(tb.Context(), f.account.ID, "reads", f.hash, "ghld_r")
	require.NoError(tb, err)
	f.location = mustCreateLocation(tb, db, f.account.ID, "g1")
	wfs := mustImport(tb, db, f.account.ID, f.location.ID, nil, importedWorkflow("wf-a", "A", "published")).Workflows
	f.analysis = mustCreateAnalysis(tb, db, f.account.ID, locationAnalysis(f.location.ID, wfs...))
	// The first authentication records the key's use, a write; later ones at the same time of the
	// (stopped) clock only read.
	_, _, err = db.AuthenticateAPIKey(tb.Context(), f.hash)
	require.NoError(tb, err)
	return f
}

// hotReads runs each hot read of f once on db and returns the first error.
func (f readFixture) hotReads(ctx context.Context, db *store.DB) error {
	if _, _, err := db.AuthenticateAPIKey(ctx, f.hash); err != nil {
		return err
	}
	if _, err := db.GetAnalysis(ctx, f.account.ID, f.analysis.ID); err != nil {
		return err
	}
	if _, _, err := db.ListWorkflows(ctx, f.account.ID, f.location.ID, "", store.Page{}); err != nil {
		return err
	}
	if _, _, err := db.ListAnalyses(ctx, f.account.ID, f.location.ID, store.HistoryFilter{}, store.Page{}); err != nil {
		return err
	}
	_, err := db.GetLocation(ctx, f.account.ID, f.location.ID)
	return err
}

// TestReadsDuringWriteTransaction holds a write transaction open (on SQLite it holds the only
// connection that writes) and, while it is open, runs the hot reads from several goroutines on the
// same DB. They succeed before the transaction ends, and do not see what it has not committed; a
// read that waited for the writer's connection would fail with ErrUnavailable after the statement
// timeout instead. Without the readers, that is what happens on SQLite.
func TestReadsDuringWriteTransaction(t *testing.T) {
	const readers = 8
	cfg := store.Config{MaxOpenConns: 4, StatementTimeout: time.Second}
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpenEngine(t, engine, cfg)
			mustFakeClock(t, db)
			f := mustReadFixture(t, db)

			var uncommitted store.Location
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				uncommitted, err = tx.CreateLocation(ctx, f.account.ID, store.NewLocation{GHLLocationID: "in-tx", Name: "In the transaction"})
				require.NoError(t, err)
				errs := make(chan error, readers)
				var wg sync.WaitGroup
				for range readers {
					wg.Go(func() { errs <- f.hotReads(ctx, db) })
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err, "a read waited for the write transaction")
				}
				locs, _, err := db.ListLocations(ctx, f.account.ID, store.Page{})
				require.NoError(t, err)
				require.Equal(t, []string{f.location.ID}, locationIDs(locs), "a read does not see what is not committed")
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, uncommitted, mustGetLocation(t, db, f.account.ID, uncommitted.ID), "committed, it is seen at once")
		})
	}
	t.Run("sqlite without readers", func(t *testing.T) {
		db := mustOpenEngine(t, store.EngineSQLite, store.WithoutReaders(store.Config{StatementTimeout: 200 * time.Millisecond}))
		mustFakeClock(t, db)
		f := mustReadFixture(t, db)
		err := db.InTx(t.Context(), func(*store.Tx) error {
			require.ErrorIs(t, f.hotReads(t.Context(), db), store.ErrUnavailable, "the single connection is the transaction's")
			return nil
		})
		require.NoError(t, err)
	})
}

// TestReadAfterWrite checks, on the same DB and from several goroutines at once, that every read
// sees the write that returned before it: on SQLite the read goes to another connection than the
// write, and WAL gives it every transaction committed before it starts.
func TestReadAfterWrite(t *testing.T) {
	const goroutines, rounds = 4, 25
	forEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acc := mustCreateAccount(t, db, "Acme Agency")
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range rounds {
					if err := readAfterWrite(ctx, db, acc.ID, fmt.Sprintf("g%d-%d", g, i)); err != nil {
						errs[g] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}

		// A change of tier is read back at once, every time.
		for _, tier := range []store.Tier{store.TierPro, store.TierEnterprise, store.TierFree, store.TierPro} {
			_, err := db.SetAccountTier(ctx, acc.ID, tier)
			require.NoError(t, err)
			require.Equal(t, tier, mustGetAccount(t, db, acc.ID).Tier)
		}
	})
}

// readAfterWrite writes rows of every kind for an account and reads each back at once, returning
// the first read that did not see its write.
func readAfterWrite(ctx context.Context, db *store.DB, accountID, name string) error {
	loc, err := db.CreateLocation(ctx, accountID, store.NewLocation{GHLLocationID: name, Name: name})
	if err != nil {
		return err
	}
	if got, err := db.GetLocation(ctx, accountID, loc.ID); err != nil || got != loc {
		return fmt.Errorf("location %s read back as %v, %v", loc.ID, got, err)
	}

	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])
	key, err := db.CreateAPIKey(ctx, accountID, name, hash, "ghld_x")
	if err != nil {
		return err
	}
	if _, got, err := db.AuthenticateAPIKey(ctx, hash); err != nil || got.ID != key.ID {
		return fmt.Errorf("new key %s authenticated as %v, %v", key.ID, got.ID, err)
	}
	if _, err := db.RevokeAPIKey(ctx, accountID, key.ID); err != nil {
		return err
	}
	if _, _, err := db.AuthenticateAPIKey(ctx, hash); !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoked key %s: want ErrNotFound, got %v", key.ID, err)
	}

	// A transaction's writes (the import, the analysis) are seen as soon as it commits.
	out, err := db.ImportWorkflows(ctx, accountID, loc.ID, []store.ImportedWorkflow{importedWorkflow("wf-"+name, name, "draft")}, nil)
	if err != nil {
		return err
	}
	if listed, _, err := db.ListWorkflows(ctx, accountID, loc.ID, "", store.Page{}); err != nil || len(listed) != 1 {
		return fmt.Errorf("imported workflow listed as %v, %v", listed, err)
	}
	an, err := db.CreateAnalysis(ctx, accountID, locationAnalysis(loc.ID, out.Workflows...))
	if err != nil {
		return err
	}
	if history, _, err := db.ListAnalyses(ctx, accountID, loc.ID, store.HistoryFilter{}, store.Page{}); err != nil ||
		len(history) != 1 || history[0].ID != an.ID {
		return fmt.Errorf("analysis %s: history is %v, %v", an.ID, summaryIDs(history), err)
	}
	return nil
}

// TestSQLiteReadersCannotWrite takes every read-only connection at once and tries to write through
// each: with SQL, with a transaction, and after turning query_only off. The file is opened
// read-only (mode=ro), so each attempt fails and nothing is written.
func TestSQLiteReadersCannotWrite(t *testing.T) {
	const readers = 3
	ctx := t.Context()
	db := mustOpenEngine(t, store.EngineSQLite, store.Config{SQLiteReaders: readers})
	acc := mustCreateAccount(t, db, "Acme Agency")
	pool := store.ReaderPool(db)
	require.NotNil(t, pool)

	insert := `INSERT INTO locations (id, account_id, ghl_location_id, name, timezone, created_at, updated_at)
VALUES ('loc_bbbbbbbbbbbbbbbbbbbb', '` + acc.ID + `', 'g', 'n', '', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`
	var taken []*sqlx.Conn
	for i := range readers {
		// Each connection stays taken, so the next iteration gets another one.
		conn, err := pool.Connx(ctx)
		require.NoError(t, err)
		taken = append(taken, conn)

		_, err = conn.ExecContext(ctx, insert)
		require.ErrorContains(t, err, "readonly", "reader %d", i)
		_, err = conn.ExecContext(ctx, `UPDATE accounts SET name = 'changed'`)
		require.ErrorContains(t, err, "readonly", "reader %d", i)
		_, err = conn.ExecContext(ctx, `CREATE TABLE intruder (x INTEGER)`)
		require.Error(t, err, "reader %d", i)
		_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
		require.Error(t, err, "reader %d: a write transaction", i)

		_, err = conn.ExecContext(ctx, `PRAGMA query_only = 0`)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, insert)
		require.ErrorContains(t, err, "readonly", "reader %d: the file itself is read-only", i)
	}
	require.Equal(t, readers, pool.Stats().OpenConnections)
	for _, conn := range taken {
		require.NoError(t, conn.Close())
	}
	require.Equal(t, acc, mustGetAccount(t, db, acc.ID), "nothing was written")
	require.Zero(t, mustCount(t, db, "locations"))
}

func mustGetAccount(tb testing.TB, db *store.DB, id string) store.Account {
	tb.Helper()
	a, err := db.GetAccount(tb.Context(), id)
	require.NoError(tb, err)
	return a
}

// TestSQLiteReaderPool checks the size of the read-only pool and which databases have one.
func TestSQLiteReaderPool(t *testing.T) {
	readerMax := func(t *testing.T, db *store.DB) int {
		t.Helper()
		stats, ok := db.ReaderStats()
		require.True(t, ok)
		return stats.MaxOpenConnections
	}
	t.Run("default size", func(t *testing.T) {
		db := mustOpen(t, store.Config{DataDir: t.TempDir()})
		require.Equal(t, store.DefaultSQLiteReaders(), readerMax(t, db))
		require.GreaterOrEqual(t, store.DefaultSQLiteReaders(), 4)
		require.Equal(t, 1, db.Stats().MaxOpenConnections, "one connection writes")
	})
	t.Run("configured size", func(t *testing.T) {
		db := mustOpen(t, store.Config{DataDir: t.TempDir(), SQLiteReaders: 2})
		require.Equal(t, 2, readerMax(t, db))
	})
	t.Run("negative size", func(t *testing.T) {
		_, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir(), SQLiteReaders: -1})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
	t.Run("readers wait for locks as configured", func(t *testing.T) {
		db := mustOpen(t, store.Config{DataDir: t.TempDir(), StatementTimeout: 1500 * time.Millisecond})
		var busy, queryOnly int
		require.NoError(t, store.ReaderPool(db).GetContext(t.Context(), &busy, `PRAGMA busy_timeout`))
		require.NoError(t, store.ReaderPool(db).GetContext(t.Context(), &queryOnly, `PRAGMA query_only`))
		require.Equal(t, 1500, busy)
		require.Equal(t, 1, queryOnly)
	})
	t.Run("a URL cannot make readers write", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		db := mustOpen(t, store.Config{DatabaseURL: "file:" + path + "?mode=rwc&_pragma=query_only(0)&_pragma=cache_size(-4000)"})
		require.NoError(t, db.Migrate(t.Context()))
		var queryOnly, cache int
		require.NoError(t, store.ReaderPool(db).GetContext(t.Context(), &queryOnly, `PRAGMA query_only`))
		require.NoError(t, store.ReaderPool(db).GetContext(t.Context(), &cache, `PRAGMA cache_size`))
		require.Equal(t, 1, queryOnly)
		require.Equal(t, -4000, cache, "the caller's other pragmas apply to readers too")
		_, err := store.ReaderPool(db).ExecContext(t.Context(), `DELETE FROM accounts`)
		require.ErrorContains(t, err, "readonly")
		mustCreateAccount(t, db, "Acme Agency")
	})
	t.Run("in-memory database has none", func(t *testing.T) {
		// Every connection to an in-memory database needs the shared cache to see the same data;
		// readers would gain nothing there, so everything goes to the writer.
		db := mustOpen(t, store.Config{DatabaseURL: "file:readers-in-memory?mode=memory&cache=shared"})
		_, ok := db.ReaderStats()
		require.False(t, ok)
		require.Nil(t, store.ReaderPool(db))
		require.NoError(t, db.Migrate(t.Context()))
		acc := mustCreateAccount(t, db, "Acme Agency")
		require.Equal(t, acc, mustGetAccount(t, db, acc.ID))
	})
	t.Run("postgres has none", func(t *testing.T) {
		if !contains(storetest.Engines(t), store.EnginePostgres) {
			t.Skipf("%s is not set", storetest.EnvDatabaseURL)
		}
		db := storetest.New(t, store.EnginePostgres)
		_, ok := db.ReaderStats()
		require.False(t, ok)
	})
	t.Run("close closes the readers", func(t *testing.T) {
		db, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()})
		require.NoError(t, err)
		pool := store.ReaderPool(db)
		require.NoError(t, db.Ping(t.Context()))
		require.NoError(t, db.Close())
		require.ErrorContains(t, pool.PingContext(t.Context()), "closed")
	})
}
