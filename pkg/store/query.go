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
	return q.run(ctx, family, query, func(ctx context.Context, st stmt) error { return st.get(ctx, dest, args) })
}

// list scans every row that query returns into dest, a pointer to a slice.
func (q *queries) list(ctx context.Context, family queryFamily, dest any, query string, args ...any) error {
	return q.run(ctx, family, query, func(ctx context.Context, st stmt) error { return st.list(ctx, dest, args) })
}

// exec runs a statement that returns no rows.
func (q *queries) exec(ctx context.Context, family queryFamily, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := q.run(ctx, family, query, func(ctx context.Context, st stmt) (err error) {
		res, err = st.exec(ctx, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// run gets query ready (see queries.statement) and runs it with do, both under the statement
// timeout, then records it under its query family (see families.go) and returns its error turned
// into the store's errors. The error is judged against ctx, the caller's context, not the
// statement's.
func (q *queries) run(ctx context.Context, family queryFamily, query string, do func(ctx context.Context, st stmt) error) error {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	st, err := q.statement(stmtCtx, family, query)
	if err == nil {
		err = do(stmtCtx, st)
		st.release()
	}
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
