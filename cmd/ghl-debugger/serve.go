package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/apikey"
	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/jobs"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

const (
	// openTimeout bounds opening and migrating the database at start.
	openTimeout = time.Minute
	// bootstrapLockID is the PostgreSQL advisory lock key that serialises first-start admin
	// creation across instances ("ghldboot" in ASCII).
	bootstrapLockID int64 = 0x6768_6c64_626f_6f74
)

// runServe is the serve command: open (and by default migrate) the database, create the first admin
// on an empty one, then serve HTTP until ctx is cancelled (SIGINT or SIGTERM) and shut down
// gracefully.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "ghl-debugger [serve] [--addr HOST:PORT] [--data-dir DIR]", stdout)
	addr := fs.String("addr", "", "address to serve on, HOST:PORT (default $GHLD_ADDR or :8080)")
	dataDir := fs.String("data-dir", "", "directory of the SQLite database (default $GHLD_DATA_DIR or ./data)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := configFor(getenv, *addr, *dataDir)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	version := buildVersion()
	logger.Info("starting", slog.String("version", version), slog.Any("config", cfg))

	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("close database", slog.String("error", err.Error()))
		}
	}()
	rdb, err := openRedis(cfg, logger)
	if err != nil {
		return err
	}
	if rdb != nil {
		defer func() {
			if err := rdb.Close(); err != nil {
				logger.Error("close Redis client", slog.String("error", err.Error()))
			}
		}()
	}
	limiter, err := openRateLimiter(ctx, cfg, rdb, logger)
	if err != nil {
		return err
	}
	c, err := openCache(cfg, rdb, logger)
	if err != nil {
		return err
	}
	// Deferred after the Redis client's Close, so it runs before it.
	defer c.Close()
	// The job queue's analyze_location jobs run on the handler's own analysis path: the analyzer is
	// made first, given to the queue, and bound to the handler's server by NewHandler.
	analyzer := api.NewJobAnalyzer(logger)
	ghlService, err := openGHL(cfg, db, rdb, c, logger)
	if err != nil {
		return err
	}
	queue, err := openJobs(cfg, db, analyzer, ghlService, logger)
	if err != nil {
		return err
	}
	handler, err := api.NewHandler(api.Config{
		Store:        db,
		Logger:       logger,
		Version:      version,
		MaxBodyBytes: cfg.MaxBodyBytes,
		GzipMinBytes: cfg.GzipMinBytes,

		MaxWorkflowsPerImport: cfg.MaxWorkflowsPerImport,
		MaxStepsPerWorkflow:   cfg.MaxStepsPerWorkflow,
		MaxContextObjects:     cfg.MaxContextObjects,
		AnalysisTimeout:       cfg.AnalysisTimeout,

		MaxConcurrentComputations: cfg.MaxConcurrentAnalyses,
		ComputeWait:               cfg.AnalysisQueueWait,
		CORSOrigins:               cfg.CORSOrigins,
		HSTS:                      cfg.HSTS,
		MetricsToken:              cfg.MetricsToken,
		RateLimiter:               limiter,
		Cache:                     c,
		UpgradeURL:                cfg.UpgradeURL,
		Jobs:                      queue,
		JobAnalyzer:               analyzer,
		AsyncWorkflows:            cfg.JobAsyncWorkflows,
		AsyncSteps:                cfg.JobAsyncSteps,
		GHL:                       ghlService,
	})
	if err != nil {
		return fmt.Errorf("build HTTP handler: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// The first admin is created once the port is ours, so the banner can show the real address and
	// a start that cannot listen does not use up the one-time key.
	if err := bootstrapAdmin(ctx, db, baseURL(ln.Addr()), stdout, logger); err != nil {
		return errors.Join(err, ln.Close())
	}
	if err := queue.Start(ctx); err != nil {
		return errors.Join(err, ln.Close())
	}
	// Deferred after the database's Close, so it runs before it: on every return, the queue stops
	// using the database first. After a graceful shutdown it has stopped already, and this does
	// nothing.
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			logger.Error("stop background jobs", slog.String("error", err.Error()))
		}
	}()
	// The defaults let a 10 MiB body arrive on a slow link while headers must come quickly, so
	// half-open connections cannot pile up (slowloris).
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	// net/http's own answers (headers too large, unparsable requests) become problem documents too.
	go func() { serveErr <- srv.Serve(api.NewListener(ln, cfg.MaxHeaderBytes)) }()
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("engine", db.Engine()))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", slog.String("timeout", cfg.ShutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	// The HTTP server and the job queue stop together, within the one timeout: the queue fetches no
	// new job and lets the running ones finish; those still running at the deadline are put back in
	// the queue for the next process.
	jobsStopped := make(chan error, 1)
	go func() { jobsStopped <- queue.Stop(shutdownCtx) }()
	httpErr := srv.Shutdown(shutdownCtx)
	if err := <-jobsStopped; err != nil {
		logger.Warn("background jobs stopped at the shutdown timeout", slog.String("error", err.Error()))
	}
	if httpErr != nil {
		// Requests still running past the timeout are cut off.
		return errors.Join(fmt.Errorf("graceful shutdown: %w", httpErr), srv.Close())
	}
	logger.Info("shutdown complete")
	return nil
}

// openJobs builds the background job queue over the store's database, with the analyze_location
// jobs done by analyzer, the ghl_sync jobs by ghlService (periodic for every connected location) and
// the periodic retention job. It does not start it.
func openJobs(cfg config, db *store.DB, analyzer *api.JobAnalyzer, ghlService *ghl.Service, logger *slog.Logger) (*jobs.Queue, error) {
	q, err := jobs.New(jobs.Config{
		DB: db.SQL().DB, Engine: db.Engine(), Logger: logger,
		Workers: cfg.JobWorkers, MaxAttempts: cfg.JobMaxAttempts, RetryBackoff: cfg.JobRetryBackoff,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter, PollInterval: cfg.JobPollInterval,
		Analyzer: analyzer,
		Retainer: db,
		Retention: store.Retention{
			Free: cfg.RetentionFree, Pro: cfg.RetentionPro, Enterprise: cfg.RetentionEnterprise,
		},
		RetentionBatch:    cfg.RetentionBatch,
		RetentionInterval: cfg.RetentionInterval,
		GHLSyncer:         ghlService,
		GHLConnections:    db,
		GHLSyncInterval:   cfg.GHLSyncInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("background jobs: %w", err)
	}
	return q, nil
}

// newLogger writes structured logs to w in the configured format and level.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore opens the configured database and, unless disabled, migrates it.
func openStore(ctx context.Context, cfg config, logger *slog.Logger) (*store.DB, error) {
	openCtx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	db, err := store.Open(openCtx, store.Config{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, MaxOpenConns: cfg.DBMaxConns,
		ConnectTimeout: cfg.DBConnectTimeout, StatementTimeout: cfg.DBStatementTimeout, SQLiteReaders: cfg.SQLiteReaders})
	if err != nil {
		return nil, err
	}
	logger.Info("database opened", slog.String("engine", db.Engine()))
	if !cfg.AutoMigrate {
		return db, nil
	}
	if err := db.Migrate(openCtx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	logger.Info("database migrated", slog.String("engine", db.Engine()))
	return db, nil
}

// bootstrapAdmin gives a new installation its first account: when the database has no account at
// all, it creates an enterprise admin account with one API key, in one transaction, and prints the
// key on stdout (never in the logs). Later starts find the account and print nothing, so the key is
// shown exactly once.
func bootstrapAdmin(ctx context.Context, db *store.DB, baseURL string, stdout io.Writer, logger *slog.Logger) error {
	key, err := apikey.New()
	if err != nil {
		return fmt.Errorf("make admin API key: %w", err)
	}
	var acc store.Account
	created := false
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if db.Engine() == store.EnginePostgres {
			// Instances that start together on one empty PostgreSQL database take turns here, so
			// exactly one creates the admin. (SQLite serves one instance; its single writer
			// already serialises the check and the insert.)
			if _, err := tx.SQL().ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", bootstrapLockID); err != nil {
				return fmt.Errorf("lock for first start: %w", err)
			}
		}
		n, err := tx.CountAccounts(ctx)
		if err != nil || n > 0 {
			return err
		}
		if acc, err = tx.CreateAccount(ctx, "admin", store.TierEnterprise, true); err != nil {
			return err
		}
		if _, err = tx.CreateAPIKey(ctx, acc.ID, "first-start admin key", key.Hash, key.Display); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("create the first admin account (is the database migrated? run 'ghl-debugger migrate'): %w", err)
	}
	if !created {
		return nil
	}
	logger.Info("admin account created on empty database", slog.String("account_id", acc.ID))
	_, err = fmt.Fprintf(stdout, `
==============================================================================
  ghl-debugger created an admin account on this empty database.

  Admin API key (shown only this once; store it somewhere safe now):

      %s

  Try it:  curl -H "Authorization: Bearer %s" %s/v1/me
  More keys: ghl-debugger admin create-key --account %s
==============================================================================

`, key.Secret, key.Secret, baseURL, acc.ID)
	return err
}

// baseURL is the URL a local client reaches the listener at: a wildcard address becomes localhost.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// openGHL builds the GHL connection: the per-location limiter of GHL calls (in Redis when the
// process has Redis, shared by every instance), the client and the service. They are built whatever
// the settings, so that a deployment with only the token keys connects Private Integration Tokens;
// the service refuses what the missing settings prevent (501 ghl-not-configured).
func openGHL(cfg config, db *store.DB, rdb *redis.Client, c *cache.Cache, logger *slog.Logger) (*ghl.Service, error) {
	lcfg := ghl.LimiterConfig{Logger: logger}
	if rdb != nil {
		// A nil *redis.Client in the interface would not be nil.
		lcfg.Redis = rdb
	}
	limiter, err := ghl.NewLimiter(lcfg)
	if err != nil {
		return nil, fmt.Errorf("GHL limiter: %w", err)
	}
	client, err := ghl.NewClient(ghl.ClientConfig{GHL: cfg.GHL, Limiter: limiter})
	if err != nil {
		return nil, fmt.Errorf("GHL client: %w", err)
	}
	svc, err := ghl.NewService(ghl.ServiceConfig{GHL: cfg.GHL, Client: client, Store: db, Cache: c, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("GHL service: %w", err)
	}
	return svc, nil
}
