package main

import (
	"context"
	"io"
	"log/slog"
)

// runMigrate is the migrate command: apply every pending migration and exit.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "ghl-debugger migrate [--data-dir DIR]", stdout)
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := configFor(getenv, "", *dataDir)
	if err != nil {
		return err
	}
	cfg.AutoMigrate = true // migrating is the command's whole point, whatever GHLD_AUTO_MIGRATE says
	logger := newLogger(cfg, stderr)
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		logger.Error("close database", slog.String("error", err.Error()))
	}
	return nil
}
