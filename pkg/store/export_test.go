package store

import "time"

// The hot queries' texts, so that the conformance suite can check their plans.
const (
	QueryAPIKeyByHash       = queryAPIKeyByHash
	QueryLocationsFirstPage = queryLocationsFirstPage
	QueryLocationsNextPage  = queryLocationsNextPage
)

// SetClock makes db read the time from now, reduced to what the store keeps (UTC, microseconds). Tests
// use it to create rows at chosen times, equal ones included.
func SetClock(db *DB, now func() time.Time) {
	db.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) }
}

// Rebind rewrites a query written with ? placeholders for db's engine, as the store does.
func Rebind(db *DB, query string) string { return db.rebind(query) }
