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
	"cmp"
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
	// ErrUnavailable means the database did not answer: it refused or dropped the connection, is
	// shutting down or starting up, or did not finish a statement within the statement timeout
	// (on SQLite: another process held the file's lock that long). Trying again later may succeed.
	//
	// A statement that ends because the caller's own context ended (the client went away) is not
	// unavailability: the store returns the context's error (context.Canceled or
	// context.DeadlineExceeded) for it, wrapped, so that callers can tell the two apart.
	ErrUnavailable = errors.New("database unavailable")
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
	// ConnectTimeout bounds opening one PostgreSQL connection, the TCP connection and the
	// handshake together; 0 means DefaultConnectTimeout. It replaces a connect_timeout in
	// DatabaseURL. SQLite opens a file and does not use it.
	ConnectTimeout time.Duration
	// StatementTimeout bounds every statement of the data methods, the wait for a pooled
	// connection included, and the start and commit of every transaction; a statement that takes
	// longer fails with ErrUnavailable. 0 means DefaultStatementTimeout. On SQLite it is also the
	// busy timeout. Statements sent through DB.SQL are bounded by their context's deadline
	// instead, which PostgreSQL connections honour even when the server stops answering.
	StatementTimeout time.Duration
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
	timeout := cmp.Or(cfg.StatementTimeout, DefaultStatementTimeout)
	x, err := t.open(cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout), timeout)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", t.dialect.engine, err)
	}
	t.dialect.configurePool(x.DB, cfg)
	if err := x.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s database: %w", t.dialect.engine, err), x.Close())
	}
	openPools.Store(x.DB, struct{}{})
	return &DB{queries: queries{ext: x, dialect: t.dialect, now: now, timeout: timeout}, x: x}, nil
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.dialect.engine }

// Close closes every connection in the pool.
func (db *DB) Close() error {
	openPools.Delete(db.x.DB)
	return db.x.Close()
}

// Ping checks that the database answers before ctx's deadline and within the statement timeout
// (PostgreSQL gets cancelGrace more to answer its cancel request); the detailed health check uses
// it. It returns ErrUnavailable when the database does not answer in time, and the context's error,
// wrapped, when ctx is cancelled.
func (db *DB) Ping(ctx context.Context) error {
	pingCtx, cancel := db.statementContext(ctx)
	defer cancel()
	if err := db.x.PingContext(pingCtx); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The caller's deadline is the time it gives the database to answer.
			return fmt.Errorf("ping database: %w: no answer in time: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("ping database: %w", db.dbError(ctx, err))
	}
	return nil
}

// Stats returns the connection pool's statistics.
func (db *DB) Stats() sql.DBStats { return db.x.Stats() }

// SQL returns the underlying pool, for packages that share it (the job queue). On SQLite the pool has
// a single connection: do not hold a connection or transaction from it while calling DB methods. On
// PostgreSQL a statement sent through it that makes the server silent for longer than the statement
// timeout fails with a network timeout, and its connection is dropped.
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
//
// Each statement of fn has the statement timeout, and so does taking a connection from the pool to
// begin, so a busy pool or a database that does not answer fails with ErrUnavailable instead of
// waiting; the transaction as a whole has no deadline beyond ctx.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := db.conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		// Closing a sql.Conn returns it to the pool; it fails only when it is already closed.
		_ = conn.Close()
	}()
	sqlTx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", db.dbError(ctx, err))
	}
	committed := false
	defer func() {
		// The deferred rollback covers both an error from fn and a panic, which propagates after it.
		if committed {
			return
		}
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("roll back transaction: %w", db.dbError(ctx, rbErr)))
		}
	}()
	tx := &Tx{queries: queries{ext: sqlTx, dialect: db.dialect, now: db.now, timeout: db.timeout}, tx: sqlTx}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", db.dbError(ctx, err))
	}
	committed = true
	return nil
}

// conn takes a connection from the pool, waiting at most the statement timeout for one.
func (db *DB) conn(ctx context.Context) (*sqlx.Conn, error) {
	connCtx, cancel := db.statementContext(ctx)
	defer cancel()
	conn, err := db.x.Connx(connCtx)
	if err != nil {
		return nil, db.dbError(ctx, err)
	}
	return conn, nil
}

// queries holds the data methods shared by DB and Tx. Every method runs one statement or a short,
// fixed sequence of them on ext, which is the pool or a transaction.
type queries struct {
	ext     sqlx.ExtContext
	dialect *dialect
	// now is the clock; tests replace it to create rows with equal timestamps.
	now func() time.Time
	// timeout is the statement timeout (Config.StatementTimeout).
	timeout time.Duration
}

// now returns the current time as the store keeps it: UTC, at the microsecond precision that both
// engines store, so a value returned by a create method equals the one read back later.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// rebind turns a query written with ? placeholders into the engine's placeholders.
func (q *queries) rebind(query string) string { return sqlx.Rebind(q.dialect.bind, query) }

// dbError turns an error from the driver, of a statement run for a caller whose context is ctx,
// into the store's errors: sql.ErrNoRows becomes ErrNotFound, the engine's constraint violations
// become ErrConflict, ErrNotFound or ErrInvalid, and a database that does not answer becomes
// ErrUnavailable. Other errors are returned unchanged.
//
// The caller's context is looked at first: when it has ended, the caller gave up (a client that
// went away, a deadline of its own), whatever the driver made of the interruption, and the error
// says so (errors.Is(err, context.Canceled)) rather than blaming the database. Only then does a
// deadline mean that the statement timeout ran out.
func (q *queries) dbError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case ctx.Err() != nil:
		if errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer within the statement timeout (%s): %w", ErrUnavailable, q.timeout, err)
	}
	return q.dialect.mapError(err)
}
