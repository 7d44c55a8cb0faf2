package store

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
)

// The helpers below take query texts written with ? placeholders, rebind them for the engine and
// return the store's errors, so that the data methods read as one statement each.

// get scans the single row that query returns into dest; no row is ErrNotFound.
func (q *queries) get(ctx context.Context, dest any, query string, args ...any) error {
	if err := sqlx.GetContext(ctx, q.ext, dest, q.rebind(query), args...); err != nil {
		return q.dbError(err)
	}
	return nil
}

// list scans every row that query returns into dest, a pointer to a slice.
func (q *queries) list(ctx context.Context, dest any, query string, args ...any) error {
	if err := sqlx.SelectContext(ctx, q.ext, dest, q.rebind(query), args...); err != nil {
		return q.dbError(err)
	}
	return nil
}

// exec runs a statement that returns no rows.
func (q *queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := q.ext.ExecContext(ctx, q.rebind(query), args...)
	if err != nil {
		return nil, q.dbError(err)
	}
	return res, nil
}
