// Package store keeps ghl-debugger's accounts, API keys and locations in SQL, on either of two
// engines: embedded SQLite (modernc.org/sqlite, the zero-setup default) or PostgreSQL (lib/pq) for
// deployments that run several instances. Both engines run the same query texts, rebound to each
// driver's placeholders; what differs lives in the engine's dialect (dialect.go) and in its migrations
// (package db). Statements are prepared once per connection, and on SQLite the reads run on a pool of
// read-only connections beside the one that writes (prepared.go).
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
	"runtime"
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
	// MaxOpenConns is the PostgreSQL pool size; 0 means 10. SQLite has one connection that writes
	// and SQLiteReaders that read.
	MaxOpenConns int
	// SQLiteReaders is the number of read-only SQLite connections beside the one that writes; 0
	// means DefaultSQLiteReaders. The store's reads go to them, so that they run in parallel and
	// never wait for a write (WAL lets them read while a transaction writes), and its writes and
	// transactions go to the writer. An in-memory or shared-cache SQLite database has no readers:
	// every statement goes to the writer. PostgreSQL does not use it.
	SQLiteReaders int
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

	// unprepared and noReaders turn off prepared statements and SQLite's readers, for the
	// benchmarks' reference (see export_prepare_test.go); the service has both on.
	unprepared, noReaders bool
}

// DefaultSQLiteReaders returns the number of SQLite readers when Config.SQLiteReaders is 0: one per
// CPU the Go scheduler uses, and at least 4, so that a few slow reads cannot hold every reader.
func DefaultSQLiteReaders() int { return max(4, runtime.GOMAXPROCS(0)) }

// DB is an open database. It is safe for concurrent use. Its data methods (CreateAccount and the
// others) are shared with Tx, which runs them in a transaction.
type DB struct {
	queries
	// x is the pool that writes: the only pool on PostgreSQL, the single writer connection on SQLite.
	x *sqlx.DB
}

// Open opens the database that cfg names and checks that it answers. It does not migrate: call
// Migrate for that.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	t, err := parseConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if cfg.SQLiteReaders < 0 {
		return nil, fmt.Errorf("open database: %w: %d SQLite readers", ErrInvalid, cfg.SQLiteReaders)
	}
	timeout := cmp.Or(cfg.StatementTimeout, DefaultStatementTimeout)
	x, err := t.open(cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout), timeout)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", t.dialect.engine, err)
	}
	t.dialect.configurePool(x.DB, cfg)
	// The writer answers first: on a new SQLite file, its first connection creates the file and
	// turns WAL on, which the read-only connections cannot do.
	if err := x.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s database: %w", t.dialect.engine, err), x.Close())
	}
	ps := &pools{writer: newPool(x, t.dialect, !cfg.unprepared)}
	if n := cmp.Or(cfg.SQLiteReaders, DefaultSQLiteReaders()); t.readerDSN != "" && !cfg.noReaders {
		r, err := openReaders(ctx, t, n)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open %s database: read-only connections: %w", t.dialect.engine, err), x.Close())
		}
		ps.readers = newPool(r, t.dialect, !cfg.unprepared)
	}
	for _, p := range ps.all() {
		openPools.Store(p.x.DB, struct{}{})
	}
	return &DB{queries: queries{pools: ps, dialect: t.dialect, now: now, timeout: timeout}, x: x}, nil
}

// openReaders opens the pool of n read-only SQLite connections of t and checks that it answers.
func openReaders(ctx context.Context, t target, n int) (*sqlx.DB, error) {
	r, err := sqlx.Open(t.driver, t.readerDSN)
	if err != nil {
		return nil, err
	}
	configureReaders(r.DB, n)
	if err := r.PingContext(ctx); err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return r, nil
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.dialect.engine }

// Close closes the prepared statements and every connection of the pools.
func (db *DB) Close() error {
	var errs []error
	for _, p := range db.pools.all() {
		openPools.Delete(p.x.DB)
		errs = append(errs, p.close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers before ctx's deadline and within the statement timeout
// (PostgreSQL gets cancelGrace more to answer its cancel request); the detailed health check uses
// it. On SQLite it checks the read-only connections too. It returns ErrUnavailable when the
// database does not answer in time, and the context's error, wrapped, when ctx is cancelled.
func (db *DB) Ping(ctx context.Context) error {
	pingCtx, cancel := db.statementContext(ctx)
	defer cancel()
	for _, p := range db.pools.all() {
		if err := p.x.PingContext(pingCtx); err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// The caller's deadline is the time it gives the database to answer.
				return fmt.Errorf("ping database: %w: no answer in time: %w", ErrUnavailable, err)
			}
			return fmt.Errorf("ping database: %w", db.dbError(ctx, err))
		}
	}
	return nil
}

// Stats returns the statistics of the pool that writes: the only pool on PostgreSQL, the single
// writer connection on SQLite (see ReaderStats for SQLite's readers).
func (db *DB) Stats() sql.DBStats { return db.x.Stats() }

// ReaderStats returns the statistics of SQLite's pool of read-only connections, and false when the
// database has none (PostgreSQL, or an in-memory SQLite database).
func (db *DB) ReaderStats() (sql.DBStats, bool) {
	if db.pools.readers == nil {
		return sql.DBStats{}, false
	}
	return db.pools.readers.x.Stats(), true
}

// SQL returns the pool that writes, for packages that share it (the job queue). On PostgreSQL it is
// the store's only pool. On SQLite it is the single writer connection, which every write and
// transaction of the store takes, as River's SQLite driver requires of a pool it shares (one
// connection, see riversqlite); the store's read-only connections are not part of it. Do not hold a
// connection or transaction from it while calling DB methods that write: they would wait for it
// until the statement timeout. On PostgreSQL a statement sent through it that makes the server
// silent for longer than the statement timeout fails with a network timeout, and its connection is
// dropped.
func (db *DB) SQL() *sqlx.DB { return db.x }

// Tx is a transaction started by DB.InTx. It has the same data methods as DB.
type Tx struct {
	queries
}

// SQL returns the underlying transaction, for packages that must write in it (the job queue enqueues
// jobs in the same transaction as the rows they are about).
func (tx *Tx) SQL() *sqlx.Tx { return tx.tx }

// InTx runs fn in a transaction, committing when fn returns nil and rolling back when it returns an
// error or panics. It returns fn's error as is, so callers can test it with errors.Is. fn must use tx
// and not db: on SQLite the transaction holds the only connection that writes, and a write on db
// would wait for it until the statement timeout (a read on db would not wait, but would not see
// what the transaction wrote).
//
// Each statement of fn has the statement timeout, and so does taking a connection from the pool to
// begin, so a busy pool or a database that does not answer fails with ErrUnavailable instead of
// waiting; the transaction as a whole has no deadline beyond ctx.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, fn)
}

// inTx is InTx for the data methods, which start their own transactions through atomic.
func (q *queries) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	conn, err := q.conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		// Closing a sql.Conn returns it to the pool; it fails only when it is already closed.
		_ = conn.Close()
	}()
	sqlTx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", q.dbError(ctx, err))
	}
	committed := false
	defer func() {
		// The deferred rollback covers both an error from fn and a panic, which propagates after it.
		if committed {
			return
		}
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, fmt.Errorf("roll back transaction: %w", q.dbError(ctx, rbErr)))
		}
	}()
	tx := &Tx{queries: queries{pools: q.pools, tx: sqlTx, dialect: q.dialect, now: q.now, timeout: q.timeout}}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", q.dbError(ctx, err))
	}
	committed = true
	return nil
}

// conn takes a connection from the pool that writes, waiting at most the statement timeout for one.
func (q *queries) conn(ctx context.Context) (*sqlx.Conn, error) {
	connCtx, cancel := q.statementContext(ctx)
	defer cancel()
	conn, err := q.pools.writer.x.Connx(connCtx)
	if err != nil {
		return nil, q.dbError(ctx, err)
	}
	return conn, nil
}

// queries holds the data methods shared by DB and Tx. Every method runs one statement or a short,
// fixed sequence of them: in the transaction when there is one; otherwise a read on the pool that
// reads and anything else on the pool that writes (see queries.statement).
type queries struct {
	// pools are the DB's connection pools and their prepared statements, shared with its
	// transactions.
	pools *pools
	// tx is the transaction of a Tx, nil on a DB.
	tx      *sqlx.Tx
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
