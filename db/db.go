// Package db holds ghl-debugger's database migrations, one numbered goose folder per engine, embedded
// in the binary so that a deployment needs no files besides the executable.
package db

import (
	"embed"
	"fmt"
	"io/fs"
)

// The two folders are kept apart rather than generated from one source: the engines differ in types
// (timestamptz and DATETIME, regular expressions in CHECK constraints), and a migration that has
// shipped must never change, so each file is written once, for its engine, by hand.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// Migrations returns the goose migrations for engine ("postgres" or "sqlite") as a flat file system of
// numbered files such as 00001_accounts.sql.
func Migrations(engine string) (fs.FS, error) {
	switch engine {
	case "postgres", "sqlite":
		return fs.Sub(migrations, "migrations/"+engine)
	default:
		return nil, fmt.Errorf("migrations: unknown engine %q", engine)
	}
}
