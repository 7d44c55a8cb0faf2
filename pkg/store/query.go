package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The helpers below take query texts written with ? placeholders, rebind them for the engine, run
// each statement under the statement timeout, time it under its query family and return the store's
// errors, so that the data methods read as one statement each.

// get scans the single row that query returns into dest; no row is ErrNotFound.
func (q *queries) get(ctx context.Context, family queryFamily, dest any, query string, args ...any) error {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	return q.done(ctx, family, start, sqlx.GetContext(stmtCtx, q.ext, dest, q.rebind(query), args...))
}

// list scans every row that query returns into dest, a pointer to a slice.
func (q *queries) list(ctx context.Context, family queryFamily, dest any, query string, args ...any) error {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	return q.done(ctx, family, start, sqlx.SelectContext(stmtCtx, q.ext, dest, q.rebind(query), args...))
}

// exec runs a statement that returns no rows.
func (q *queries) exec(ctx context.Context, family queryFamily, query string, args ...any) (sql.Result, error) {
	stmtCtx, cancel := q.statementContext(ctx)
	defer cancel()
	start := time.Now()
	res, err := q.ext.ExecContext(stmtCtx, q.rebind(query), args...)
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
	pool, ok := q.ext.(*sqlx.DB)
	if !ok {
		return fn(q)
	}
	db := &DB{queries: *q, x: pool}
	return db.InTx(ctx, func(tx *Tx) error { return fn(&tx.queries) })
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
