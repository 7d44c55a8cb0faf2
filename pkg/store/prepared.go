package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/jmoiron/sqlx"
)

// Where a statement goes, and prepared statements.
//
// On SQLite a DB has two pools: the writer, one connection that every write and every transaction
// takes, and the readers, read-only connections (mode=ro) for the statements that only read, so
// that reads run in parallel and never wait behind a write or a transaction: in WAL mode a reader
// sees every transaction committed before its statement starts, and nothing of one in progress. On
// PostgreSQL, the one pool does both.
//
// Each pool keeps the statements it has prepared, by query text, for the life of the DB: parsing
// and planning the same text again on every call was half of SQLite's time under load, and on
// PostgreSQL an unprepared statement with arguments costs lib/pq a second round trip (parse, then
// bind and execute). A *sql.Stmt of a pool is prepared on each connection the first time it runs
// there, and database/sql prepares it again, transparently, on a connection that replaced a closed
// one.

// maxPrepared bounds the statements one pool keeps prepared. The store's texts are fixed or come in
// a few dozen variants (the history's filters); the bound only guards against a text built from
// data, which would otherwise grow the cache, and the server's memory on PostgreSQL, without end.
// Texts beyond it run unprepared.
const maxPrepared = 512

// builtPerCall are the query families whose texts are built per call from the number of rows they
// write or read (see placeholders), so a text is seldom met twice: preparing them would fill the
// cache with statements used once.
var builtPerCall = map[queryFamily]bool{
	famAnalysesInsertFindings:        true,
	famAnalysesInsertWorkflowResults: true,
	famWorkflowsUpsert:               true,
	famWorkflowsImported:             true,
	famGHLWorkflowsUpsert:            true,
	famGHLWorkflowsDelete:            true,
	famGHLVersionsInsert:             true,
	famGHLWorkflowsOf:                true,
	famGHLConnectionsOf:              true,
	famAnalysesStale:                 true,
}

// pools are a DB's connection pools, shared by the DB and its transactions.
type pools struct {
	// writer takes writes and transactions; on PostgreSQL it takes everything.
	writer *pool
	// readers takes SQLite's reads outside transactions; nil when the database has no readers.
	readers *pool
}

// all returns the pools that are open, readers last.
func (ps *pools) all() []*pool {
	if ps.readers == nil {
		return []*pool{ps.writer}
	}
	return []*pool{ps.writer, ps.readers}
}

// pool is a connection pool and the statements prepared on it.
type pool struct {
	x *sqlx.DB
	// bind is the engine's placeholder style.
	bind int
	// prepare is whether statements are prepared (Config.unprepared turns it off).
	prepare bool
	// stmts maps a query text as the store writes it, with ? placeholders, to its *sqlx.Stmt.
	stmts sync.Map
	// size is the number of statements in stmts.
	size atomic.Int32
	// prepares counts the statements prepared on the pool, for the tests.
	prepares atomic.Int64
}

// newPool returns the pool of x.
func newPool(x *sqlx.DB, d *dialect, prepare bool) *pool {
	return &pool{x: x, bind: d.bind, prepare: prepare}
}

// prepared returns the statement prepared for query, or nil.
func (p *pool) prepared(query string) *sqlx.Stmt {
	if v, ok := p.stmts.Load(query); ok {
		return v.(*sqlx.Stmt)
	}
	return nil
}

// statement returns query ready to run on the pool: prepared when it already is or should be,
// otherwise its text rebound for the engine. Preparing happens under ctx, the statement's context,
// and its error is the statement's.
func (p *pool) statement(ctx context.Context, family queryFamily, query string) (stmt, error) {
	if ps := p.prepared(query); ps != nil {
		return stmt{prepared: ps}, nil
	}
	text := sqlx.Rebind(p.bind, query)
	if !p.prepare || builtPerCall[family] || p.size.Load() >= maxPrepared {
		return stmt{ext: p.x, text: text}, nil
	}
	// Two calls that meet a new text together both prepare it, and the second keeps the first's.
	// Waiting for the first instead would be a wait that ctx does not bound.
	ps, err := p.x.PreparexContext(ctx, text)
	if err != nil {
		return stmt{}, err
	}
	p.prepares.Add(1)
	if v, loaded := p.stmts.LoadOrStore(query, ps); loaded {
		// Closing a statement that nothing has used releases its connection's copy; its error
		// could only say that the pool is closing, which the statement that runs will say too.
		_ = ps.Close()
		return stmt{prepared: v.(*sqlx.Stmt)}, nil
	}
	p.size.Add(1)
	return stmt{prepared: ps}, nil
}

// close closes the pool's prepared statements, then its connections.
func (p *pool) close() error {
	var errs []error
	p.stmts.Range(func(query, v any) bool {
		errs = append(errs, v.(*sqlx.Stmt).Close())
		p.stmts.Delete(query)
		p.size.Add(-1)
		return true
	})
	return errors.Join(errors.Join(errs...), p.x.Close())
}

// statement returns query ready to run: in the transaction on a Tx, with the statement the writer
// prepared for it when there is one (database/sql reuses it when the transaction's connection has
// it already); on a DB, a statement that only reads goes to the readers when there are, and
// anything else to the writer. Release the statement after running it.
func (q *queries) statement(ctx context.Context, family queryFamily, query string) (stmt, error) {
	if q.tx != nil {
		// A statement is not prepared here for the first time: the pool would need a connection
		// of its own to prepare it on, and on SQLite the transaction holds the only one. It is
		// prepared by its first call outside a transaction.
		if ps := q.pools.writer.prepared(query); ps != nil {
			return stmt{prepared: q.tx.StmtxContext(ctx, ps), inTx: true}, nil
		}
		return stmt{ext: q.tx, text: q.rebind(query)}, nil
	}
	p := q.pools.writer
	if q.pools.readers != nil && readOnly(query) {
		p = q.pools.readers
	}
	return p.statement(ctx, family, query)
}

// readOnly reports whether query only reads: a SELECT. The store's other statements (INSERT,
// UPDATE and DELETE, with RETURNING or not) write. A statement wrongly taken for a read would fail
// on the read-only connections rather than write there.
func readOnly(query string) bool {
	query = strings.TrimLeftFunc(query, unicode.IsSpace)
	return len(query) >= len("SELECT") && strings.EqualFold(query[:len("SELECT")], "SELECT")
}

// stmt is a statement ready to run: prepared, or a text with the pool or transaction to send it to.
type stmt struct {
	prepared *sqlx.Stmt
	// inTx is whether prepared is the transaction's copy of a pool's statement, which release
	// closes (the pool's own stays).
	inTx bool
	ext  sqlx.ExtContext
	text string
}

// get scans the single row of the statement into dest.
func (s stmt) get(ctx context.Context, dest any, args []any) error {
	if s.prepared != nil {
		return s.prepared.GetContext(ctx, dest, args...)
	}
	return sqlx.GetContext(ctx, s.ext, dest, s.text, args...)
}

// list scans every row of the statement into dest, a pointer to a slice.
func (s stmt) list(ctx context.Context, dest any, args []any) error {
	if s.prepared != nil {
		return s.prepared.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, s.ext, dest, s.text, args...)
}

// exec runs the statement.
func (s stmt) exec(ctx context.Context, args []any) (sql.Result, error) {
	if s.prepared != nil {
		return s.prepared.ExecContext(ctx, args...)
	}
	return s.ext.ExecContext(ctx, s.text, args...)
}

// release lets go of the transaction's copy of a prepared statement. The transaction would close it
// when it ends; closing it now keeps a long transaction from collecting one per statement.
func (s stmt) release() {
	if s.inTx {
		// Closing a transaction's copy only drops it from the transaction (the connection's
		// statement belongs to the pool's). Its only error is the one that running it returned
		// already: that the transaction could not take its connection.
		_ = s.prepared.Close()
	}
}
