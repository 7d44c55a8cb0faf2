package store

import (
	"context"
	"fmt"
	"time"
)

// locationRow is a locations row as the drivers scan it.
type locationRow struct {
	ID            string    `db:"id"`
	AccountID     string    `db:"account_id"`
	GHLLocationID string    `db:"ghl_location_id"`
	Name          string    `db:"name"`
	Timezone      string    `db:"timezone"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

const locationColumns = `id, account_id, ghl_location_id, name, timezone, created_at, updated_at`

// location converts the row, normalizing times to UTC.
func (r locationRow) location() Location {
	return Location{
		ID:            r.ID,
		AccountID:     r.AccountID,
		GHLLocationID: r.GHLLocationID,
		Name:          r.Name,
		Timezone:      r.Timezone,
		CreatedAt:     r.CreatedAt.UTC(),
		UpdatedAt:     r.UpdatedAt.UTC(),
	}
}

// CreateLocation adds a GHL location to an account. It returns ErrNotFound for an unknown account,
// ErrConflict when the account already has a location with in.GHLLocationID, and ErrInvalid for a
// value out of range (GHL id 1..64 characters, name 1..200, timezone at most 64).
func (q *queries) CreateLocation(ctx context.Context, accountID string, in NewLocation) (Location, error) {
	t := q.now()
	l := Location{
		ID:            newID(locationPrefix),
		AccountID:     accountID,
		GHLLocationID: in.GHLLocationID,
		Name:          in.Name,
		Timezone:      in.Timezone,
		CreatedAt:     t,
		UpdatedAt:     t,
	}
	const query = `INSERT INTO locations (` + locationColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	if _, err := q.exec(ctx, famLocationsCreate, query, l.ID, l.AccountID, l.GHLLocationID, l.Name, l.Timezone, l.CreatedAt, l.UpdatedAt); err != nil {
		return Location{}, fmt.Errorf("create location: %w", err)
	}
	return l, nil
}

// GetLocation returns an account's location, or ErrNotFound (also when it belongs to another account).
func (q *queries) GetLocation(ctx context.Context, accountID, id string) (Location, error) {
	const query = `SELECT ` + locationColumns + ` FROM locations WHERE id = ? AND account_id = ?`
	var r locationRow
	if err := q.get(ctx, famLocationsGet, &r, query, id, accountID); err != nil {
		return Location{}, fmt.Errorf("get location: %w", err)
	}
	return r.location(), nil
}

// Both pages of the keyset walk are served by locations_account_created_idx, read in order.
const (
	queryLocationsFirstPage = `SELECT ` + locationColumns + ` FROM locations
WHERE account_id = ?
ORDER BY created_at DESC, id DESC
LIMIT ?`
	queryLocationsNextPage = `SELECT ` + locationColumns + ` FROM locations
WHERE account_id = ? AND (created_at, id) < (?, ?)
ORDER BY created_at DESC, id DESC
LIMIT ?`
)

// ListLocations returns one page of an account's locations, newest first, and the cursor of the next
// page ("" after the last page). Pages are stable: locations added while a client walks the pages do
// not shift them, so no location is repeated or skipped. It returns ErrInvalidCursor for a cursor
// that ListLocations did not return and ErrInvalid for a limit out of range.
func (q *queries) ListLocations(ctx context.Context, accountID string, p Page) ([]Location, string, error) {
	limit, err := pageLimit(p)
	if err != nil {
		return nil, "", fmt.Errorf("list locations: %w", err)
	}
	// One row more than the page tells whether another page follows without a count.
	var rows []locationRow
	if p.Cursor == "" {
		err = q.list(ctx, famLocationsList, &rows, queryLocationsFirstPage, accountID, limit+1)
	} else {
		c, cerr := decodeCursor(p.Cursor, locationPrefix)
		if cerr != nil {
			return nil, "", fmt.Errorf("list locations: %w", cerr)
		}
		err = q.list(ctx, famLocationsList, &rows, queryLocationsNextPage, accountID, c.createdAt, c.id, limit+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list locations: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{createdAt: last.CreatedAt, id: last.ID}.encode()
	}
	locs := make([]Location, 0, len(rows))
	for _, r := range rows {
		locs = append(locs, r.location())
	}
	return locs, next, nil
}

// DeleteLocation removes an account's location. It returns ErrNotFound when the account has no such
// location, including when it belongs to another account.
func (q *queries) DeleteLocation(ctx context.Context, accountID, id string) error {
	res, err := q.exec(ctx, famLocationsDelete, `DELETE FROM locations WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return fmt.Errorf("delete location: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete location: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete location: %w", ErrNotFound)
	}
	return nil
}
