package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	migrations "github.com/ghl-debugger/ghl-debugger/db"
)

// Migrate applies the migrations that the database lacks; with none missing it does nothing. On
// PostgreSQL several processes may call it at once (every instance migrates at start): a session
// advisory lock lets one apply the migrations while the others wait, then find nothing to do. On
// SQLite, run it from one process at a time, such as the one that owns the data directory.
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
	p, err := goose.NewProvider(db.dialect.goose, db.x.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// migrationLocker returns a PostgreSQL advisory lock for the schema that the migrations go into. The
// lock id is derived from the schema's name rather than fixed, so databases in different schemas of
// one server (tests run each in its own) migrate in parallel, while instances sharing a schema
// take turns.
func (db *DB) migrationLocker(ctx context.Context) (lock.SessionLocker, error) {
	var schema sql.NullString
	if err := db.x.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("read current schema: %w", err)
	}
	if !schema.Valid {
		return nil, errors.New("no schema of the search_path exists")
	}
	h := fnv.New64a()
	h.Write([]byte("ghl-debugger migrations " + schema.String))
	// The lock is polled every second, for up to five minutes: far longer than these migrations take.
	return lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
}
