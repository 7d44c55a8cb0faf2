package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// rotateGHLKeySynopsis is the synopsis of admin rotate-ghl-key.
const rotateGHLKeySynopsis = "ghl-debugger admin rotate-ghl-key [--data-dir DIR]"

// rotateOutput is what rotate-ghl-key prints: how many connections it moved to the current key,
// and the key's id (never the key).
type rotateOutput struct {
	Reencrypted int    `json:"reencrypted"`
	KeyID       string `json:"keyId"`
}

// runRotateGHLKey re-encrypts every stored GHL token under the first key of GHLD_GHL_TOKEN_KEYS
// (docs/ghl.md, Rotating the key). Each row is replaced only if it still holds what was read, so a
// refresh racing with it on a running instance is never overwritten; running it again prints 0.
func runRotateGHLKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin rotate-ghl-key", rotateGHLKeySynopsis, stdout)
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := configFor(getenv, "", *dataDir)
	if err != nil {
		return err
	}
	if cfg.GHL.TokenKeys == nil {
		return usagef("admin rotate-ghl-key: set %s, the new key first and the old ones after it", ghl.EnvTokenKeys)
	}
	return withStore(ctx, getenv, *dataDir, stderr, func(db *store.DB) error {
		// Re-encrypting needs only the keys and the database: no client, no GHL.
		svc, err := ghl.NewService(ghl.ServiceConfig{GHL: ghl.Config{TokenKeys: cfg.GHL.TokenKeys}, Store: db})
		if err != nil {
			return fmt.Errorf("rotate GHL key: %w", err)
		}
		n, err := svc.Reencrypt(ctx)
		if err != nil {
			return fmt.Errorf("rotate GHL key (%d connections moved before the failure): %w", n, err)
		}
		return writeJSON(stdout, rotateOutput{Reencrypted: n, KeyID: cfg.GHL.TokenKeys.CurrentKeyID()})
	})
}
