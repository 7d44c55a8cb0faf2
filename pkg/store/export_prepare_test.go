package store

import "github.com/jmoiron/sqlx"

// WithoutPreparedStatements returns cfg with prepared statements turned off: every statement is
// parsed again on every call, as before the store prepared them. It is the benchmarks' reference.
func WithoutPreparedStatements(cfg Config) Config {
	cfg.unprepared = true
	return cfg
}

// WithoutReaders returns cfg without SQLite's read-only connections: every statement goes to the
// single writer connection, as before the readers existed. It is the benchmarks' reference.
func WithoutReaders(cfg Config) Config {
	cfg.noReaders = true
	return cfg
}

// ReaderPool returns the pool of db's read-only SQLite connections, or nil when it has none.
func ReaderPool(db *DB) *sqlx.DB {
	if db.pools.readers == nil {
		return nil
	}
	return db.pools.readers.x
}

// Prepares returns how many statements db has prepared so far, on all its pools together.
func Prepares(db *DB) int64 {
	var n int64
	for _, p := range db.pools.all() {
		n += p.prepares.Load()
	}
	return n
}
