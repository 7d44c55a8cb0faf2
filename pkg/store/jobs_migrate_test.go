package store_test

import (
	"database/sql"
	"log/slog"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// TestRiverMigrations checks that Migrate applies River's migrations with ours on each engine, so
// that River's own validation finds nothing missing, that migrating again changes nothing, and that
// the account index of migration 00008 is on River's table.
func TestRiverMigrations(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			databaseURL, dataDir := storetest.DSN(t, engine)
			db := mustOpen(t, store.Config{DatabaseURL: databaseURL, DataDir: dataDir})
			m := mustRiverMigrator(t, db)
			res, err := m.Validate(ctx, nil)
			require.NoError(t, err)
			require.False(t, res.OK, "a new database lacks River's tables")

			require.NoError(t, db.Migrate(ctx))
			res, err = m.Validate(ctx, nil)
			require.NoError(t, err)
			require.True(t, res.OK, "%v", res.Messages)
			applied, err := m.ExistingVersions(ctx)
			require.NoError(t, err)
			require.Len(t, applied, len(m.AllVersions()))

			require.NoError(t, db.Migrate(ctx))
			again, err := m.ExistingVersions(ctx)
			require.NoError(t, err)
			require.Equal(t, applied, again)

			query := `SELECT count(*) FROM pg_indexes WHERE tablename = 'river_job' AND indexname = 'river_job_account_idx' AND schemaname = current_schema()`
			if engine == store.EngineSQLite {
				query = `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'river_job' AND name = 'river_job_account_idx'`
			}
			var n int
			require.NoError(t, db.SQL().GetContext(ctx, &n, query))
			require.Equal(t, 1, n)
		})
	}
}

// mustRiverMigrator returns River's migrator on db's engine.
func mustRiverMigrator(tb testing.TB, db *store.DB) *rivermigrate.Migrator[*sql.Tx] {
	tb.Helper()
	cfg := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	var (
		m   *rivermigrate.Migrator[*sql.Tx]
		err error
	)
	if db.Engine() == store.EnginePostgres {
		m, err = rivermigrate.New(riverdatabasesql.New(db.SQL().DB), cfg)
	} else {
		m, err = rivermigrate.New(riversqlite.New(db.SQL().DB), cfg)
	}
	require.NoError(tb, err)
	return m
}
