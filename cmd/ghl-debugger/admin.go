package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/tier"
)

// The synopses of the admin subcommands, shown by their own help and by admin's.
const (
	createAccountSynopsis = "ghl-debugger admin create-account --name NAME [--tier free|pro|enterprise] [--admin] [--data-dir DIR]"
	createKeySynopsis     = "ghl-debugger admin create-key --account ACCOUNT_ID [--name NAME] [--data-dir DIR]"
	setLimitsSynopsis     = "ghl-debugger admin set-limits --account ACCOUNT_ID [--tier free|pro|enterprise] [--requests-per-minute N|unlimited|tier] [--analyses-per-hour N|unlimited|tier] [--data-dir DIR]"
)

// runAdmin dispatches the admin subcommands. They work on the database directly, so an operator
// can create accounts and keys without an API key of their own.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("admin: name a subcommand: create-account, create-key, set-limits or rotate-ghl-key")
	}
	switch args[0] {
	case "create-account":
		return runCreateAccount(ctx, args[1:], getenv, stdout, stderr)
	case "create-key":
		return runCreateKey(ctx, args[1:], getenv, stdout, stderr)
	case "set-limits":
		return runSetLimits(ctx, args[1:], getenv, stdout, stderr)
	case "rotate-ghl-key":
		return runRotateGHLKey(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		printAdminUsage(stdout)
		return flag.ErrHelp
	default:
		return usagef("admin: unknown subcommand %q (want create-account, create-key, set-limits or rotate-ghl-key)", args[0])
	}
}

// printAdminUsage writes the admin command's subcommands.
func printAdminUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  %s
  %s
  %s
  %s

Subcommands:
  create-account  Add an account and print it as JSON.
  create-key      Issue an API key for an account and print it as JSON; the key is shown only once.
  set-limits      Change an account's tier or its own limits and print the account with the
                  limits in force as JSON, as PATCH /internal/accounts/{accountId} does.
  rotate-ghl-key  Re-encrypt every stored GHL token under the first key of GHLD_GHL_TOKEN_KEYS
                  and print how many connections moved as JSON (docs/ghl.md).

All work on the database directly (migrating it first unless GHLD_AUTO_MIGRATE=false).
Run 'ghl-debugger admin SUBCOMMAND --help' for the flags of a subcommand.
`, createAccountSynopsis, createKeySynopsis, setLimitsSynopsis, rotateGHLKeySynopsis)
}

// accountOutput is what create-account prints.
type accountOutput struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Tier    string `json:"tier"`
	IsAdmin bool   `json:"isAdmin"`
}

// keyOutput is what create-key prints; Key is the secret, shown this once.
type keyOutput struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
	Prefix    string `json:"prefix"`
	Key       string `json:"key"`
}

func runCreateAccount(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin create-account", createAccountSynopsis, stdout)
	name := fs.String("name", "", "the account's name, such as the agency's (required)")
	tierName := fs.String("tier", string(tier.Free), "the account's plan: "+tierList())
	isAdmin := fs.Bool("admin", false, "let the account use operator routes")
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("admin create-account: --name is required")
	}
	if !tier.Name(*tierName).Valid() {
		return usagef("admin create-account: --tier %q is not a plan (want %s)", *tierName, tierList())
	}
	return withStore(ctx, getenv, *dataDir, stderr, func(db *store.DB) error {
		acc, err := db.CreateAccount(ctx, strings.TrimSpace(*name), store.Tier(*tierName), *isAdmin)
		if err != nil {
			return fmt.Errorf("create account: %w", err)
		}
		return writeJSON(stdout, accountOutput{ID: acc.ID, Name: acc.Name, Tier: string(acc.Tier), IsAdmin: acc.IsAdmin})
	})
}

func runCreateKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin create-key", createKeySynopsis, stdout)
	accountID := fs.String("account", "", "id of the account the key is for, acc_... (required)")
	name := fs.String("name", "admin-cli", "what the key is for, shown in the key list")
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *accountID == "" {
		return usagef("admin create-key: --account is required")
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("admin create-key: --name must not be empty")
	}
	return withStore(ctx, getenv, *dataDir, stderr, func(db *store.DB) error {
		key, err := apikey.New()
		if err != nil {
			return fmt.Errorf("make API key: %w", err)
		}
		k, err := db.CreateAPIKey(ctx, *accountID, strings.TrimSpace(*name), key.Hash, key.Display)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("create API key: no account %q", *accountID)
		}
		if err != nil {
			return fmt.Errorf("create API key: %w", err)
		}
		return writeJSON(stdout, keyOutput{ID: k.ID, AccountID: k.AccountID, Name: k.Name, Prefix: k.Prefix, Key: key.Secret})
	})
}

// limitFlag is a flag that changes one of an account's own limits: a number from 1 to
// store.MaxOwnLimit sets it, "unlimited" lifts it and "tier" clears it so the tier's applies. Left
// out, it keeps the limit as it is.
type limitFlag struct {
	update store.LimitUpdate
}

// String shows nothing: a limit flag has no default, only "keep".
func (f *limitFlag) String() string { return "" }

// Set reads the flag's value.
func (f *limitFlag) Set(v string) error {
	switch v {
	case "tier":
		f.update = store.ClearLimit()
	case "unlimited":
		f.update = store.SetLimit(store.Unlimited)
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxOwnLimit {
			return fmt.Errorf("want a number from 1 to %d, unlimited or tier", store.MaxOwnLimit)
		}
		f.update = store.SetLimit(n)
	}
	return nil
}

func runSetLimits(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("admin set-limits", setLimitsSynopsis, stdout)
	accountID := fs.String("account", "", "id of the account to change, acc_... (required)")
	tierName := fs.String("tier", "", "the account's new plan: "+tierList()+" (default: keep it)")
	var requests, analyses limitFlag
	fs.Var(&requests, "requests-per-minute", fmt.Sprintf("the account's own requests per minute: 1 to %d, unlimited, or tier to use its tier's (default: keep it)", store.MaxOwnLimit))
	fs.Var(&analyses, "analyses-per-hour", fmt.Sprintf("the account's own analyses per hour: 1 to %d, unlimited, or tier to use its tier's (default: keep it)", store.MaxOwnLimit))
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *accountID == "" {
		return usagef("admin set-limits: --account is required")
	}
	if *tierName != "" && !tier.Name(*tierName).Valid() {
		return usagef("admin set-limits: --tier %q is not a plan (want %s)", *tierName, tierList())
	}
	update := store.AccountUpdate{Tier: store.Tier(*tierName), RequestsPerMinute: requests.update, AnalysesPerHour: analyses.update}
	if update == (store.AccountUpdate{}) {
		return usagef("admin set-limits: name what to change: --tier, --requests-per-minute or --analyses-per-hour")
	}
	return withStore(ctx, getenv, *dataDir, stderr, func(db *store.DB) error {
		// The same store call as the API's, through the same cache: with Redis configured, the
		// running instances forget the account's cached authentications at once, as they do for a
		// change through the API. Without Redis there is one instance, whose in-process cache this
		// process cannot reach: the change applies there when its cached authentication expires
		// (GHLD_CACHE_TTLS, auth), or at once through PATCH /internal/accounts/{accountId}.
		st, closeCache, err := accountStore(getenv, *dataDir, db, stderr)
		if err != nil {
			return err
		}
		defer closeCache()
		acc, err := st.UpdateAccount(ctx, *accountID, update)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("set limits: no account %q", *accountID)
		}
		if err != nil {
			return fmt.Errorf("set limits: %w", err)
		}
		out, err := api.ToAccountLimits(acc)
		if err != nil {
			return fmt.Errorf("set limits: %w", err)
		}
		return writeJSON(stdout, out)
	})
}

// redisReadyWait bounds how long an admin command waits for the cache to reach Redis.
const redisReadyWait = 3 * time.Second

// accountStore returns the store through which an admin command changes an account: the database
// behind the cache shared with the running instances when Redis is configured, the database alone
// otherwise. closeCache releases the cache and its Redis client.
func accountStore(getenv func(string) string, dataDir string, db *store.DB, stderr io.Writer) (st interface {
	UpdateAccount(ctx context.Context, id string, u store.AccountUpdate) (store.Account, error)
}, closeCache func(), err error) {
	cfg, err := configFor(getenv, "", dataDir)
	if err != nil {
		return nil, nil, err
	}
	logger := newLogger(cfg, stderr)
	rdb, err := openRedis(cfg, logger)
	if err != nil || rdb == nil {
		return db, func() {}, err
	}
	c, err := openCache(cfg, rdb, logger)
	if err != nil {
		return nil, nil, errors.Join(err, rdb.Close())
	}
	// A new cache learns Redis's state in the background; until it has, invalidations would wait
	// in this short-lived process's memory and be lost when it exits. Wait for it, briefly.
	for deadline := time.Now().Add(redisReadyWait); c.Stats().L2.State != cache.L2Up; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			logger.Warn("Redis is not ready: running instances apply the change when their cached authentications expire")
			break
		}
	}
	return api.NewCachedStore(db, c), func() {
		c.Close()
		_ = rdb.Close()
	}, nil
}

// withStore opens the configured database (migrating it unless GHLD_AUTO_MIGRATE=false), runs fn
// and closes it.
func withStore(ctx context.Context, getenv func(string) string, dataDir string, stderr io.Writer, fn func(db *store.DB) error) error {
	cfg, err := configFor(getenv, "", dataDir)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); cerr != nil {
		logger.Error("close database", slog.String("error", cerr.Error()))
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

func tierList() string {
	names := make([]string, 0, len(tier.Names()))
	for _, n := range tier.Names() {
		names = append(names, string(n))
	}
	return strings.Join(names, ", ")
}
