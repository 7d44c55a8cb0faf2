package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// The helpers below take query texts written with ? placeholders, send each statement where it
// belongs (see queries.statement), prepared where it pays, run it under the statement timeout, time
// it under its query family and return the store's errors, so that the data methods read as one
// statement each.

// get scans the single row that query returns into dest; no row is ErrNotFound.
func (q *queries) get(ctx context.Context, family queryFamily, dest any, query string, args ...any) error {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	st, err := q.statement(stmtCtx, family, query)
	if err == nil {
		err = st.get(stmtCtx, dest, args)
		st.release()
	}
	return q.done(ctx, family, start, err)
}

// list scans every row that query returns into dest, a pointer to a slice.
func (q *queries) list(ctx context.Context, family queryFamily, dest any, query string, args ...any) error {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	st, err := q.statement(stmtCtx, family, query)
	if err == nil {
		err = st.list(stmtCtx, dest, args)
		st.release()
	}
	return q.done(ctx, family, start, err)
}

// exec runs a statement that returns no rows.
func (q *queries) exec(ctx context.Context, family queryFamily, query string, args ...any) (sql.Result, error) {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	var res sql.Result
	st, err := q.statement(stmtCtx, family, query)
	if err == nil {
		res, err = st.exec(stmtCtx, args)
		st.release()
	}
	if err := q.done(ctx, family, start, err); err != nil {
		return nil, err
	}
	return res, nil
}

// done records the statement that started at start under its query family (see families.go) and
// returns err turned into the store's errors; ctx is the caller's context, not the statement's.
func (q *queries) done(ctx context.Context, family queryFamily, start time.Time, err error) error {
	if err != nil {
		err = q.dbError(ctx, err)
	}
	observe(family, start, err)
	return err
}

// atomic runs fn on queries bound to a transaction, so that a method writing several statements
// writes all of them or none. On a DB it starts one (through InTx, with its commit and rollback
// rules); on a Tx it uses the caller's, whose commit or rollback then decides.
func (q *queries) atomic(ctx context.Context, fn func(q *queries) error) error {
	if q.tx != nil {
		return fn(q)
	}
	return q.inTx(ctx, func(tx *Tx) error { return fn(&tx.queries) })
}

// jsonArg passes a JSON document as a statement argument: as text, because modernc's SQLite stores a
// []byte as a BLOB, and as NULL when doc is nil.
func jsonArg(doc []byte) any {
	if doc == nil {
		return nil
	}
	return string(doc)
}

// placeholders returns n groups of size ? placeholders for a multi-row VALUES clause: "(?, ?), (?, ?)".
func placeholders(n, size int) string {
	group := "(" + strings.Repeat("?, ", size-1) + "?)"
	return strings.Repeat(group+", ", n-1) + group
}
