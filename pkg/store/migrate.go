package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	migrations "github.com/ghl-debugger/ghl-debugger/db"
)

// Migrate applies the migrations that the database lacks; with none missing it does nothing. It
// applies River's migrations first (the job queue's tables, from River's own migrator, see
// migrateRiver), then ours, which may refer to them (00008 indexes River's jobs by account).
//
// On PostgreSQL several processes may call it at once (every instance migrates at start): one
// advisory lock lets one process apply each set while the others wait, then find nothing to do. It
// is held by River's migrations in their transaction and then by goose for ours, on one connection
// at a time, so that a pool of one connection migrates too. On SQLite, run it from one process at a
// time, such as the one that owns the data directory.
func (db *DB) Migrate(ctx context.Context) error {
	fsys, err := migrations.Migrations(db.dialect.engine)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Go migrations registered globally by any imported package must not run against this database.
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect.engine == EnginePostgres {
		locker, err := db.migrationLocker(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if err := db.migrateRiver(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(db.dialect.goose, db.x.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrateRiver applies River's migrations (its river_job, river_leader, river_queue and
// river_migration tables) with River's migrator and the driver of the engine: riverdatabasesql over
// lib/pq on PostgreSQL, riversqlite on SQLite. River records them in its own river_migration table,
// so goose and River each know only their own.
//
// Each of River's versions is applied in a transaction of its own (one of them adds an enum value
// that a later statement uses, which PostgreSQL refuses within one transaction), and on PostgreSQL
// each transaction first takes the migration lock as a transaction lock: it conflicts with the
// session lock goose takes under the same id, so River's migrations and ours are never applied by two
// processes at once, and the transaction's end releases it. (On SQLite the transaction is BEGIN
// IMMEDIATE, which holds the file's write lock.) River's migrator logs each version it applies; the
// store has no logger and the caller logs the migration as a whole, so those logs are dropped, and
// its errors are returned.
func (db *DB) migrateRiver(ctx context.Context) error {
	cfg := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	var (
		m   *rivermigrate.Migrator[*sql.Tx]
		err error
	)
	if db.dialect.engine == EnginePostgres {
		m, err = rivermigrate.New(riverdatabasesql.New(db.x.DB), cfg)
	} else {
		m, err = rivermigrate.New(riversqlite.New(db.x.DB), cfg)
	}
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	var lockID int64
	if db.dialect.engine == EnginePostgres {
		// Read before the transactions: the pool may have one connection, which they hold.
		if lockID, err = db.migrationLockID(ctx); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
	}
	for {
		applied, err := db.migrateRiverStep(ctx, m, lockID)
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		if !applied {
			return nil
		}
	}
}

// migrateRiverStep applies River's next missing version, under the migration lock lockID on
// PostgreSQL, and reports whether there was one.
func (db *DB) migrateRiverStep(ctx context.Context, m *rivermigrate.Migrator[*sql.Tx], lockID int64) (applied bool, err error) {
	tx, err := db.x.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if db.dialect.engine == EnginePostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
			return false, fmt.Errorf("take the migration lock: %w", err)
		}
	}
	res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return len(res.Versions) > 0, nil
}

// ignoreDone drops sql.ErrTxDone, the error of rolling back a transaction that already ended.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// migrationLocker returns a PostgreSQL advisory lock for the schema that the migrations go into (see
// migrationLockID). The lock is polled every second, for up to five minutes: far longer than these
// migrations take.
func (db *DB) migrationLocker(ctx context.Context) (lock.SessionLocker, error) {
	id, err := db.migrationLockID(ctx)
	if err != nil {
		return nil, err
	}
	return lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
}

// migrationLockID returns the id of the PostgreSQL advisory lock for the schema that the migrations
// go into. It is derived from the schema's name rather than fixed, so databases in different schemas
// of one server (tests run each in its own) migrate in parallel, while instances sharing a schema
// take turns.
func (db *DB) migrationLockID(ctx context.Context) (int64, error) {
	var schema sql.NullString
	if err := db.x.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return 0, fmt.Errorf("read current schema: %w", err)
	}
	if !schema.Valid {
		return 0, errors.New("no schema of the search_path exists")
	}
	h := fnv.New64a()
	h.Write([]byte("ghl-debugger migrations " + schema.String))
	return int64(h.Sum64()), nil
}
