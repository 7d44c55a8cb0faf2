// Package store keeps ghl-debugger's accounts, API keys and locations in SQL, on either of two
// engines: embedded SQLite (modernc.org/sqlite, the zero-setup default) or PostgreSQL (lib/pq) for
// deployments that run several instances. Both engines run the same query texts, rebound to each
// driver's placeholders; what differs lives in the engine's dialect (dialect.go) and in its migrations
// (package db).
//
// Every row belongs to an account, and every method that reads or changes one takes the account id:
// another account's row is reported as ErrNotFound, exactly like a row that does not exist.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Errors the store returns, wrapped with the operation (test them with errors.Is).
var (
	// ErrNotFound means the row does not exist or belongs to another account; callers cannot tell
	// the two apart, on purpose.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint was violated, such as adding a GHL location that the
	// account already added.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means a value broke a rule of the schema: an unknown tier, a page limit out of
	// range, a name that is empty or too long. The API validates its input first, so for it this is
	// a programming error.
	ErrInvalid = errors.New("invalid value")
	// ErrInvalidCursor means a page cursor was not one that the store issued.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// Engine names, as returned by DB.Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Config says which database to open.
type Config struct {
	// DatabaseURL selects the engine: postgres://... or postgresql://... opens PostgreSQL; "" or
	// sqlite://PATH or file:PATH opens SQLite. The directory of a sqlite:// PATH is created if
	// missing; a file: URL is passed to SQLite as it is, plus the parameters the store needs.
	DatabaseURL string
	// DataDir holds the SQLite file ghl-debugger.db when DatabaseURL is "". It is created if missing.
	DataDir string
	// MaxOpenConns is the PostgreSQL pool size; 0 means 10. SQLite always uses one connection.
	MaxOpenConns int
}

// DB is an open database. It is safe for concurrent use. Its data methods (CreateAccount and the
// others) are shared with Tx, which runs them in a transaction.
type DB struct {
	queries
	x *sqlx.DB
}

// Open opens the database that cfg names and checks that it answers. It does not migrate: call
// Migrate for that.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	t, err := parseConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	x, err := sqlx.Open(t.driver, t.dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", t.dialect.engine, err)
	}
	t.dialect.configurePool(x.DB, cfg)
	if err := x.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s database: %w", t.dialect.engine, err), x.Close())
	}
	openPools.Store(x.DB, struct{}{})
	return &DB{queries: queries{ext: x, dialect: t.dialect, now: now}, x: x}, nil
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.dialect.engine }

// Close closes every connection in the pool.
func (db *DB) Close() error {
	openPools.Delete(db.x.DB)
	return db.x.Close()
}

// Ping checks that the database answers; the detailed health check uses it.
func (db *DB) Ping(ctx context.Context) error { return db.x.PingContext(ctx) }

// Stats returns the connection pool's statistics.
func (db *DB) Stats() sql.DBStats { return db.x.Stats() }

// SQL returns the underlying pool, for packages that share it (the job queue). On SQLite the pool has
// a single connection: do not hold a connection or transaction from it while calling DB methods.
func (db *DB) SQL() *sqlx.DB { return db.x }

// Tx is a transaction started by DB.InTx. It has the same data methods as DB.
type Tx struct {
	queries
	tx *sqlx.Tx
}

// SQL returns the underlying transaction, for packages that must write in it (the job queue enqueues
// jobs in the same transaction as the rows they are about).
func (tx *Tx) SQL() *sqlx.Tx { return tx.tx }

// InTx runs fn in a transaction, committing when fn returns nil and rolling back when it returns an
// error or panics. It returns fn's error as is, so callers can test it with errors.Is. fn must use tx
// and not db: on SQLite the transaction holds the only connection, and a call on db would wait for it
// forever.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// The deferred rollback covers both an error from fn and a panic, which propagates after it.
		if committed {
			return
		}
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("roll back transaction: %w", rbErr))
		}
	}()
	tx := &Tx{queries: queries{ext: sqlTx, dialect: db.dialect, now: db.now}, tx: sqlTx}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", db.dbError(err))
	}
	committed = true
	return nil
}

// queries holds the data methods shared by DB and Tx. Every method runs one statement or a short,
// fixed sequence of them on ext, which is the pool or a transaction.
type queries struct {
	ext     sqlx.ExtContext
	dialect *dialect
	// now is the clock; tests replace it to create rows with equal timestamps.
	now func() time.Time
}

// now returns the current time as the store keeps it: UTC, at the microsecond precision that both
// engines store, so a value returned by a create method equals the one read back later.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// rebind turns a query written with ? placeholders into the engine's placeholders.
func (q *queries) rebind(query string) string { return sqlx.Rebind(q.dialect.bind, query) }

// dbError turns an error from the driver into the store's errors: sql.ErrNoRows becomes ErrNotFound
// and the engine's constraint violations become ErrConflict, ErrNotFound or ErrInvalid. Other errors
// are returned unchanged.
func (q *queries) dbError(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return q.dialect.mapError(err)
}
