package store

import (
	"cmp"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func init() {
	// sqlx v1.4.0 knows modernc's driver only as "sqlite3", so without this it leaves ? placeholders
	// alone on "sqlite" by accident rather than by design, and its named queries fail. Packages that
	// use DB.SQL() rely on this too.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// dialect is what differs between the engines. The queries themselves do not: they are written once
// with ? placeholders and rebound.
type dialect struct {
	engine string
	// bind is the sqlx placeholder style.
	bind int
	// goose is the migration dialect.
	goose goose.Dialect
	// mapError turns the driver's constraint violations into the store's errors. It is the one place
	// per engine that knows the driver's error type.
	mapError func(error) error
}

var (
	postgresDialect = &dialect{
		engine:   EnginePostgres,
		bind:     sqlx.DOLLAR,
		goose:    goose.DialectPostgres,
		mapError: postgresError,
	}
	sqliteDialect = &dialect{
		engine:   EngineSQLite,
		bind:     sqlx.QUESTION,
		goose:    goose.DialectSQLite3,
		mapError: sqliteError,
	}
)

// postgresError maps lib/pq's errors by SQLSTATE, and the network's errors to ErrUnavailable. It
// sees an error only after the store has checked that the caller's own context did not end it (see
// queries.dbError), so a cancelled statement here is one that the statement timeout cancelled.
func postgresError(err error) error {
	if pqErr := pq.As(err); pqErr != nil {
		switch pqErr.Code {
		case pqerror.UniqueViolation:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case pqerror.ForeignKeyViolation:
			// Every foreign key points at the owning account, and accounts cascade their rows
			// away, so the only way to violate one is to name an account that does not exist.
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case pqerror.CheckViolation, pqerror.NotNullViolation, pqerror.StringDataRightTruncation:
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		case pqerror.QueryCanceled, // the statement timeout, or the server's statement_timeout
			pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow, // stopping or starting
			pqerror.TooManyConnections, pqerror.IdleSessionTimeout:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if pqErr.Code.Class() == pqerror.ClassConnectionException {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// unreachable reports whether err says that the server could not be reached or stopped answering:
// a refused, reset or timed-out connection, a name that does not resolve, a connection that ended
// in the middle of an answer, or one that database/sql gave up on after its retries
// (driver.ErrBadConn: lib/pq returns it for a connection it found broken before sending anything).
func unreachable(err error) bool {
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// sqliteError maps modernc's errors by extended result code. SQLite is "unavailable" when another
// process held the database's lock for longer than the busy timeout (the statement timeout), or
// when the file cannot be opened; like postgresError, it sees an interrupted statement only when
// the statement timeout interrupted it.
func sqliteError(err error) error {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// The primary result code (the low byte) covers every variant: SQLITE_BUSY_SNAPSHOT,
	// SQLITE_BUSY_TIMEOUT, SQLITE_CANTOPEN_ISDIR and the others.
	switch sqliteErr.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_INTERRUPT:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// defaultMaxOpenConns is the PostgreSQL pool size when Config.MaxOpenConns is 0.
const defaultMaxOpenConns = 10

// configurePool sizes the pool for the engine.
func (d *dialect) configurePool(db *sql.DB, cfg Config) {
	if d.engine == EngineSQLite {
		// SQLite allows one writer at a time. One connection serializes the process's writes in Go
		// instead of in SQLITE_BUSY retries, and keeps the connection (with its pragmas) open forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = defaultMaxOpenConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Recycling connections lets a pool follow a failover or a changed DNS name, and frees server
	// memory that long-lived backends accumulate.
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// configureReaders sizes SQLite's pool of n read-only connections. They stay open, like the
// writer, so that their pragmas and prepared statements are not set up again.
func configureReaders(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

// target is what Open needs to reach a database.
type target struct {
	dialect *dialect
	driver  string
	dsn     string
	// readerDSN opens SQLite's read-only connections; "" when the database cannot have them.
	readerDSN string
}

// open returns a pool of connections to the target. On PostgreSQL, connectTimeout bounds opening a
// connection (it replaces lib/pq's connect_timeout, and is not limited to whole seconds), and every
// connection honours its statements' deadlines (see guardedConn), with txTimeout for BEGIN, COMMIT
// and ROLLBACK.
func (t target) open(connectTimeout, txTimeout time.Duration) (*sqlx.DB, error) {
	if t.dialect.engine != EnginePostgres {
		return sqlx.Open(t.driver, t.dsn)
	}
	cfg, err := pq.NewConfig(t.dsn)
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = connectTimeout
	c, err := newGuardedConnector(cfg, txTimeout)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(c), t.driver), nil
}

// sqliteFile is the database file's name inside Config.DataDir.
const sqliteFile = "ghl-debugger.db"

// parseConfig picks the engine from cfg and builds the driver's data source name.
// On SQLite, the statement timeout is also the busy timeout: how long a statement waits for another
// process's lock on the file.
func parseConfig(cfg Config) (target, error) {
	u := cfg.DatabaseURL
	busy := cmp.Or(cfg.StatementTimeout, DefaultStatementTimeout)
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		// lib/pq reads the URL itself, including run-time parameters such as search_path. Its
		// session time zone does not matter: every time read is converted to UTC.
		return target{dialect: postgresDialect, driver: "postgres", dsn: u}, nil
	case u == "":
		if cfg.DataDir == "" {
			return target{}, errors.New("neither a database URL nor a data directory is configured")
		}
		return sqliteFileTarget(filepath.Join(cfg.DataDir, sqliteFile), "", busy)
	case strings.HasPrefix(u, "sqlite://"):
		path, query, _ := strings.Cut(strings.TrimPrefix(u, "sqlite://"), "?")
		if path == "" {
			return target{}, errors.New("sqlite database URL has no path")
		}
		return sqliteFileTarget(path, query, busy)
	case strings.HasPrefix(u, "file:"):
		parsed, err := url.Parse(u)
		if err != nil {
			return target{}, fmt.Errorf("parse sqlite database URL: %w", err)
		}
		return sqliteTarget(parsed, busy)
	default:
		scheme, _, _ := strings.Cut(u, ":")
		return target{}, fmt.Errorf("database URL scheme %q is not supported: use postgres://, sqlite:// or file:", scheme)
	}
}

// sqliteParams are the DSN parameters every SQLite connection needs, whatever the URL says:
//   - _time_format=sqlite writes times as "2006-01-02 15:04:05.999999999-07:00" and _timezone=UTC
//     writes and reads them in UTC. The fraction drops trailing zeros, and the "+" after it sorts
//     before "." and every digit, so text order is time order: the keyset comparisons rely on it.
//     (The driver's default writes time.Time.String(), monotonic clock included, which does not.)
//   - _txlock=immediate starts every transaction with BEGIN IMMEDIATE, so a transaction that reads
//     and then writes takes the write lock up front and cannot fail halfway on SQLITE_BUSY when
//     another process wrote in between.
var sqliteParams = map[string]string{
	"_time_format": "sqlite",
	"_timezone":    "UTC",
	"_txlock":      "immediate",
}

// sqlitePragmas returns the pragmas that run on every new connection that writes. busy_timeout
// makes a connection wait up to busy for another process's write lock instead of failing at once;
// WAL lets readers run during a write; foreign_keys turns on the cascades and references that the
// schema declares (SQLite ignores them by default).
func sqlitePragmas(busy time.Duration) []string {
	return []string{busyTimeout(busy), "journal_mode(WAL)", "foreign_keys(1)"}
}

// sqliteReaderPragmas returns the pragmas of the read-only connections. They wait for locks like
// the writer, and query_only refuses writes even before the file does (it is opened with
// mode=ro). They leave the journal mode alone: the writer has set WAL, which the file keeps, and a
// read-only connection cannot change it.
func sqliteReaderPragmas(busy time.Duration) []string {
	return []string{busyTimeout(busy), "query_only(1)"}
}

// busyTimeout is the busy_timeout pragma for busy, in whole milliseconds and at least one.
func busyTimeout(busy time.Duration) string {
	return fmt.Sprintf("busy_timeout(%d)", max(busy.Milliseconds(), 1))
}

// sqliteFileTarget returns the target for the SQLite file at path, creating its directory if
// missing so that the default setup needs no preparation. The path is made absolute because
// a file: URL has no form for a relative path with an empty authority ("file://data/x.db" names the
// host "data").
func sqliteFileTarget(path, query string, busy time.Duration) (target, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return target{}, fmt.Errorf("resolve sqlite database path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return target{}, fmt.Errorf("create sqlite database directory: %w", err)
	}
	return sqliteTarget(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query}, busy)
}

// sqliteTarget adds the required parameters to a file: URL, keeping the caller's other parameters,
// and makes the URL of the read-only connections from it.
func sqliteTarget(u *url.URL, busy time.Duration) (target, error) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return target{}, fmt.Errorf("parse sqlite database URL parameters: %w", err)
	}
	// A pragma of the caller's that sets one of ours is dropped: the store depends on these values.
	writer, reader := sqlitePragmas(busy), sqliteReaderPragmas(busy)
	var theirs []string
	for _, p := range q["_pragma"] {
		if !overridden(p, writer) && !overridden(p, reader) {
			theirs = append(theirs, p)
		}
	}
	for k, v := range sqliteParams {
		q.Set(k, v)
	}
	t := target{dialect: sqliteDialect, driver: "sqlite"}
	if !privateToConnection(u, q) {
		r := maps.Clone(q)
		// A reader never starts a transaction, and BEGIN IMMEDIATE is a write.
		r.Del("_txlock")
		r.Set("mode", "ro")
		r["_pragma"] = append(slices.Clone(theirs), reader...)
		ru := *u
		ru.RawQuery = r.Encode()
		t.readerDSN = ru.String()
	}
	q["_pragma"] = append(theirs, writer...)
	wu := *u
	wu.RawQuery = q.Encode()
	t.dsn = wu.String()
	return t, nil
}

// privateToConnection reports whether the SQLite database of u, whose parameters are q, is not a
// file that other connections can open: an in-memory or temporary database belongs to the
// connection that created it, and a shared cache (which an in-memory database needs to have more
// than one connection) locks tables, so readers would wait for the writer anyway. Such a database
// has no readers.
func privateToConnection(u *url.URL, q url.Values) bool {
	name := cmp.Or(u.Opaque, u.Path)
	return name == "" || name == ":memory:" || q.Get("mode") == "memory" || q.Get("cache") == "shared" ||
		q.Get("vfs") == "memdb"
}

// overridden reports whether pragma sets one of ours.
func overridden(pragma string, ours []string) bool {
	name, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(pragma)), "(")
	name, _, _ = strings.Cut(name, "=")
	name = strings.TrimSpace(name)
	for _, p := range ours {
		if ours, _, _ := strings.Cut(p, "("); ours == name {
			return true
		}
	}
	return false
}
