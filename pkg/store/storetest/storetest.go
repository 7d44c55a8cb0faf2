// Package storetest gives tests a fresh, migrated database of their own on every engine, so that one
// conformance suite runs against SQLite and PostgreSQL alike.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// EnvDatabaseURL names the variable holding the PostgreSQL database that tests may use, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test gets its own schema in it.
const EnvDatabaseURL = "GHLD_TEST_DATABASE_URL"

// Engines returns the engines to test: SQLite always, PostgreSQL when EnvDatabaseURL is set. When
// the CI variable is set and EnvDatabaseURL is not, it fails the test, because CI must never skip
// PostgreSQL by accident.
func Engines(tb testing.TB) []string {
	tb.Helper()
	engines := []string{store.EngineSQLite}
	switch {
	case os.Getenv(EnvDatabaseURL) != "":
		engines = append(engines, store.EnginePostgres)
	case os.Getenv("CI") != "":
		tb.Fatalf("%s is not set: CI must run the store tests on PostgreSQL", EnvDatabaseURL)
	}
	return engines
}

// New returns an open, migrated database on engine that no other test sees, closed (and on
// PostgreSQL dropped) when the test ends.
func New(tb testing.TB, engine string) *store.DB {
	tb.Helper()
	databaseURL, dataDir := DSN(tb, engine)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, store.Config{DatabaseURL: databaseURL, DataDir: dataDir, MaxOpenConns: 4})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	require.NoError(tb, db.Migrate(ctx))
	return db
}

// DSN returns the configuration of a fresh, empty, unmigrated database on engine, for tests that
// open it themselves or start the binary with it: for SQLite a new data directory (databaseURL is
// ""), for PostgreSQL a URL whose search_path selects a new schema t_<random>. The schema is dropped
// when the test ends, after the test's own cleanups that were registered later (closing the
// database) have run.
func DSN(tb testing.TB, engine string) (databaseURL, dataDir string) {
	tb.Helper()
	switch engine {
	case store.EngineSQLite:
		return "", tb.TempDir()
	case store.EnginePostgres:
		base := os.Getenv(EnvDatabaseURL)
		if base == "" {
			tb.Fatalf("%s is not set: take the engines from storetest.Engines", EnvDatabaseURL)
		}
		u, err := url.Parse(base)
		require.NoError(tb, err, "parse %s", EnvDatabaseURL)
		// The name comes from the base32 alphabet, so it needs no quoting.
		schema := "t_" + strings.ToLower(rand.Text()[:16])
		mustExec(tb, base, "CREATE SCHEMA "+schema)
		tb.Cleanup(func() { mustExec(tb, base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), ""
	default:
		tb.Fatalf("unknown engine %q", engine)
		return "", ""
	}
}

// mustExec runs one statement on its own connection to the database at databaseURL.
func mustExec(tb testing.TB, databaseURL, statement string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", databaseURL)
	require.NoError(tb, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, statement)
	require.NoError(tb, err, "%s", statement)
}
