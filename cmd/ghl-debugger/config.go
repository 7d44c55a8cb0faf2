package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
)

// config is the whole configuration of the binary. It comes from the environment (settings below)
// with --addr and --data-dir flags on top, and is validated once, before anything starts.
type config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	RedisURL        string
	LogLevel        slog.Level
	LogFormat       string
	MaxBodyBytes    int64
	GzipMinBytes    int
	AutoMigrate     bool
	ShutdownTimeout time.Duration
	DBMaxConns      int
	// DBConnectTimeout bounds opening a PostgreSQL connection and DBStatementTimeout each statement
	// (see store.Config); a database slower than that answers 503 database-unavailable.
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration
	// SQLiteReaders is the number of read-only SQLite connections beside the writer (0: the
	// store's default, see store.Config).
	SQLiteReaders int
	// MaxWorkflowsPerImport and MaxStepsPerWorkflow bound the workflow documents the API reads.
	MaxWorkflowsPerImport int
	MaxStepsPerWorkflow   int
	// MaxContextObjects bounds the location context of one document.
	MaxContextObjects int
	// AnalysisTimeout is the deadline of one analysis; MaxConcurrentAnalyses (0: one per CPU) and
	// AnalysisQueueWait bound the imports and analyses computed at once.
	AnalysisTimeout       time.Duration
	MaxConcurrentAnalyses int
	AnalysisQueueWait     time.Duration
	// MaxHeaderBytes bounds a request's headers; larger ones get 431.
	MaxHeaderBytes int
	// The two-level cache: L1's memory, the TTLs that differ from pkg/cache's defaults, and how
	// long a call may wait for Redis.
	CacheL1MaxBytes   int64
	CacheTTLs         map[cache.Kind]time.Duration
	CacheRedisTimeout time.Duration
	// The HTTP server's timeouts.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// CORSOrigins are the origins whose browser pages may call the API.
	CORSOrigins []string
	// HSTS sends Strict-Transport-Security on every response.
	HSTS bool
	// MetricsToken, when set, is the bearer token GET /metrics requires. It is a secret.
	MetricsToken string
	// RateLimitRedisTimeout bounds each call of the rate limiter to Redis; a slower Redis is
	// treated as down and the call is counted in memory.
	RateLimitRedisTimeout time.Duration
	// UpgradeURL is where a free account over a rate limit is sent.
	UpgradeURL string
	// The background job queue (pkg/jobs): workers of this instance, attempts and the first retry's
	// backoff, one attempt's deadline, when a running job counts as dead, how often other
	// instances' jobs are looked for, and the location sizes analysed in the background.
	JobWorkers        int
	JobMaxAttempts    int
	JobRetryBackoff   time.Duration
	JobTimeout        time.Duration
	JobRescueAfter    time.Duration
	JobPollInterval   time.Duration
	JobAsyncWorkflows int
	JobAsyncSteps     int
	// How long each tier's analyses are kept (0: forever), how often the retention job runs and how
	// many analyses one of its statements looks at.
	RetentionFree       time.Duration
	RetentionPro        time.Duration
	RetentionEnterprise time.Duration
	RetentionInterval   time.Duration
	RetentionBatch      int
	// GHL is the connection to GoHighLevel: the Marketplace app, GHL's URLs and the keys that
	// encrypt tokens at rest. Missing settings turn the GHL routes off (501), nothing else.
	GHL ghl.Config
	// GHLSyncInterval is how often every connected location's workflow list is synced from GHL.
	GHLSyncInterval time.Duration
}

// setting is one environment variable: its name, its default (as it would be written in the
// environment), what it means, and how it lands in the config.
type setting struct {
	env   string
	def   string
	help  string
	apply func(c *config, v string) error
}

// settings lists every variable the binary reads. The help text and docs/configuration.md's table
// are written from it, and a test holds the documentation to it.
var settings = []setting{
	{env: "GHLD_ADDR", def: ":8080", help: "address to serve HTTP on, HOST:PORT (port 0 picks a free one); --addr overrides",
		apply: func(c *config, v string) error { c.Addr = v; return nil }},
	{env: "GHLD_DATA_DIR", def: "./data", help: "directory of the embedded SQLite database, created if missing; --data-dir overrides",
		apply: func(c *config, v string) error { c.DataDir = v; return nil }},
	{env: "DATABASE_URL", def: "", help: "postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=... selects PostgreSQL; empty means SQLite in the data directory",
		apply: func(c *config, v string) error { c.DatabaseURL = v; return nil }},
	{env: "REDIS_URL", def: "", help: "redis://[:PASSWORD@]HOST:PORT/DB; rate limits are counted there, shared by every instance; empty counts them in each instance's memory",
		apply: func(c *config, v string) error { c.RedisURL = v; return nil }},
	{env: "GHLD_LOG_LEVEL", def: "info", help: "least severe log level written: debug, info, warn or error",
		apply: func(c *config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{env: "GHLD_LOG_FORMAT", def: "json", help: "log line format on stderr: json or text",
		apply: func(c *config, v string) error { c.LogFormat = strings.ToLower(v); return nil }},
	{env: "GHLD_MAX_BODY_BYTES", def: "10485760", help: "largest request body accepted, in bytes (10 MiB); larger ones get 413",
		apply: func(c *config, v string) (err error) { c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64); return err }},
	{env: "GHLD_GZIP_MIN_BYTES", def: "1024", help: "smallest response gzip-compressed for clients that accept it, in bytes",
		apply: func(c *config, v string) (err error) { c.GzipMinBytes, err = strconv.Atoi(v); return err }},
	{env: "GHLD_AUTO_MIGRATE", def: "true", help: "apply database migrations at start (serve and admin); false leaves it to the migrate command",
		apply: func(c *config, v string) (err error) { c.AutoMigrate, err = strconv.ParseBool(v); return err }},
	{env: "GHLD_SHUTDOWN_TIMEOUT", def: "15s", help: "how long a graceful shutdown waits for requests in flight",
		apply: func(c *config, v string) (err error) { c.ShutdownTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_DB_MAX_CONNS", def: "10", help: "PostgreSQL connection pool size (SQLite writes on one connection and reads on GHLD_SQLITE_READERS)",
		apply: func(c *config, v string) (err error) { c.DBMaxConns, err = strconv.Atoi(v); return err }},
	{env: "GHLD_DB_CONNECT_TIMEOUT", def: "5s", help: "how long opening a PostgreSQL connection may take, TCP and handshake (replaces connect_timeout in DATABASE_URL)",
		apply: func(c *config, v string) (err error) { c.DBConnectTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_DB_STATEMENT_TIMEOUT", def: "5s", help: "how long one database statement, or the wait for a connection or a lock, may take (SQLite's busy timeout too); a slower or unreachable database answers 503 database-unavailable",
		apply: func(c *config, v string) (err error) { c.DBStatementTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_SQLITE_READERS", def: "0", help: "read-only SQLite connections beside the one that writes, so that reads run in parallel and never wait for a write (0: one per CPU, at least 4)",
		apply: func(c *config, v string) (err error) { c.SQLiteReaders, err = strconv.Atoi(v); return err }},
	{env: "GHLD_MAX_WORKFLOWS_PER_IMPORT", def: "1000", help: "most workflows one imported or analysed document may hold; more get 422",
		apply: func(c *config, v string) (err error) { c.MaxWorkflowsPerImport, err = strconv.Atoi(v); return err }},
	{env: "GHLD_MAX_STEPS_PER_WORKFLOW", def: "10000", help: "most steps one workflow of an imported or analysed document may hold; more get 422",
		apply: func(c *config, v string) (err error) { c.MaxStepsPerWorkflow, err = strconv.Atoi(v); return err }},
	{env: "GHLD_MAX_CONTEXT_OBJECTS", def: "100000", help: "most location context objects (tags, custom fields and values, calendars, users, pipelines and stages, forms, surveys, phone numbers) one document may hold; more get 422",
		apply: func(c *config, v string) (err error) { c.MaxContextObjects, err = strconv.Atoi(v); return err }},
	{env: "GHLD_ANALYSIS_TIMEOUT", def: "20s", help: "deadline of one analysis, under GHLD_WRITE_TIMEOUT; a longer one is stopped and answers 503 analysis-timeout",
		apply: func(c *config, v string) (err error) { c.AnalysisTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_MAX_CONCURRENT_ANALYSES", def: "0", help: "imports, analyses, simulations and reports computed at once by this instance (0: one per CPU); the others wait GHLD_ANALYSIS_QUEUE_WAIT, then get 503 overloaded",
		apply: func(c *config, v string) (err error) { c.MaxConcurrentAnalyses, err = strconv.Atoi(v); return err }},
	{env: "GHLD_ANALYSIS_QUEUE_WAIT", def: "2s", help: "how long an import or analysis waits for a computation slot before it answers 503 overloaded",
		apply: func(c *config, v string) (err error) { c.AnalysisQueueWait, err = time.ParseDuration(v); return err }},
	{env: "GHLD_MAX_HEADER_BYTES", def: "65536", help: "largest request header block accepted, in bytes; larger ones get 431",
		apply: func(c *config, v string) (err error) { c.MaxHeaderBytes, err = strconv.Atoi(v); return err }},
	{env: "GHLD_CACHE_L1_MAX_BYTES", def: "67108864", help: "memory of the in-process cache level, in bytes (64 MiB); the least used entries are evicted beyond it",
		apply: func(c *config, v string) (err error) {
			c.CacheL1MaxBytes, err = strconv.ParseInt(v, 10, 64)
			return err
		}},
	{env: "GHLD_CACHE_TTLS", def: "", help: "cache TTLs that differ from the defaults, as KIND=DURATION pairs separated by commas (auth=1m,analysis=2h); kinds: auth (5m), analysis (1h), workflow_list (10m), history_page (10m), ghl_workflows (2m)",
		apply: func(c *config, v string) (err error) { c.CacheTTLs, err = parseTTLs(v); return err }},
	{env: "GHLD_CACHE_REDIS_TIMEOUT", def: "50ms", help: "how long a cache call may wait for Redis; a slower or failing Redis is skipped (a circuit breaker stops trying after repeated failures) and the cache serves from memory and the database",
		apply: func(c *config, v string) (err error) { c.CacheRedisTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_READ_HEADER_TIMEOUT", def: "10s", help: "how long a client may take to send a request's headers; slower ones are cut off (slowloris)",
		apply: func(c *config, v string) (err error) { c.ReadHeaderTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_READ_TIMEOUT", def: "60s", help: "how long a client may take to send a whole request, body included",
		apply: func(c *config, v string) (err error) { c.ReadTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_WRITE_TIMEOUT", def: "60s", help: "how long the service may take to answer, from the end of the request's headers",
		apply: func(c *config, v string) (err error) { c.WriteTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_IDLE_TIMEOUT", def: "120s", help: "how long a kept-alive connection may wait for its next request",
		apply: func(c *config, v string) (err error) { c.IdleTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_CORS_ORIGINS", def: "", help: "comma-separated origins (https://app.example.com) whose browser pages may call the API; * allows any; empty allows none",
		apply: func(c *config, v string) error { c.CORSOrigins = splitList(v); return nil }},
	{env: "GHLD_HSTS", def: "false", help: "send Strict-Transport-Security (one year, subdomains included); turn on when clients reach the service over HTTPS only",
		apply: func(c *config, v string) (err error) { c.HSTS, err = strconv.ParseBool(v); return err }},
	{env: "GHLD_RATE_LIMIT_REDIS_TIMEOUT", def: "50ms", help: "how long a rate-limit call may wait for Redis; a slower or unreachable Redis is skipped and the call counted in this instance's memory",
		apply: func(c *config, v string) (err error) {
			c.RateLimitRedisTimeout, err = time.ParseDuration(v)
			return err
		}},
	{env: "GHLD_UPGRADE_URL", def: "https://ghl-debugger.dev/pricing", help: "page a free account over a rate limit is sent to (upgradeUrl of its 429)",
		apply: func(c *config, v string) error { c.UpgradeURL = v; return nil }},
	{env: "GHLD_JOBS_WORKERS", def: "2", help: "background jobs (large analyses, retention) this instance runs at once",
		apply: func(c *config, v string) (err error) { c.JobWorkers, err = strconv.Atoi(v); return err }},
	{env: "GHLD_JOBS_MAX_ATTEMPTS", def: "5", help: "attempts a background job gets before it is discarded",
		apply: func(c *config, v string) (err error) { c.JobMaxAttempts, err = strconv.Atoi(v); return err }},
	{env: "GHLD_JOBS_RETRY_BACKOFF", def: "10s", help: "wait before a failed job's first retry; doubled for each further one, up to an hour",
		apply: func(c *config, v string) (err error) { c.JobRetryBackoff, err = time.ParseDuration(v); return err }},
	{env: "GHLD_JOBS_TIMEOUT", def: "2m", help: "deadline of one attempt of a background job",
		apply: func(c *config, v string) (err error) { c.JobTimeout, err = time.ParseDuration(v); return err }},
	{env: "GHLD_JOBS_RESCUE_AFTER", def: "10m", help: "how long a job may run before it is taken for the job of a dead process and run again; above GHLD_JOBS_TIMEOUT",
		apply: func(c *config, v string) (err error) { c.JobRescueAfter, err = time.ParseDuration(v); return err }},
	{env: "GHLD_JOBS_POLL_INTERVAL", def: "1s", help: "how often an instance looks for jobs other instances enqueued (its own start at once)",
		apply: func(c *config, v string) (err error) { c.JobPollInterval, err = time.ParseDuration(v); return err }},
	{env: "GHLD_JOBS_ASYNC_WORKFLOWS", def: "200", help: "a location with more stored workflows than this is analysed in the background (202 with a job)",
		apply: func(c *config, v string) (err error) { c.JobAsyncWorkflows, err = strconv.Atoi(v); return err }},
	{env: "GHLD_JOBS_ASYNC_STEPS", def: "5000", help: "a location with more steps than this, all workflows together, is analysed in the background",
		apply: func(c *config, v string) (err error) { c.JobAsyncSteps, err = strconv.Atoi(v); return err }},
	{env: "GHLD_RETENTION_FREE", def: "30d", help: "how long a free account's analyses are kept (Nd for days, or a Go duration; 0 forever); the newest of every workflow and location stays",
		apply: func(c *config, v string) (err error) { c.RetentionFree, err = parseRetention(v); return err }},
	{env: "GHLD_RETENTION_PRO", def: "365d", help: "how long a pro account's analyses are kept (0 forever)",
		apply: func(c *config, v string) (err error) { c.RetentionPro, err = parseRetention(v); return err }},
	{env: "GHLD_RETENTION_ENTERPRISE", def: "0", help: "how long an enterprise account's analyses are kept (0 forever)",
		apply: func(c *config, v string) (err error) { c.RetentionEnterprise, err = parseRetention(v); return err }},
	{env: "GHLD_RETENTION_INTERVAL", def: "1h", help: "how often the retention job runs (on one instance)",
		apply: func(c *config, v string) (err error) { c.RetentionInterval, err = time.ParseDuration(v); return err }},
	{env: "GHLD_RETENTION_BATCH", def: "1000", help: "analyses one retention statement looks at, so that none holds locks for long",
		apply: func(c *config, v string) (err error) { c.RetentionBatch, err = strconv.Atoi(v); return err }},
	{env: "GHLD_METRICS_TOKEN", def: "", help: "bearer token GET /metrics requires (Authorization: Bearer TOKEN), at least 16 characters; empty leaves /metrics open",
		apply: func(c *config, v string) error { c.MetricsToken = v; return nil }},
	{env: ghl.EnvClientID, def: "", help: "the GHL Marketplace app's client id; with the secret, the redirect URL and the token keys it lets locations connect to GHL (without them the GHL routes answer 501)",
		apply: func(c *config, v string) error { c.GHL.ClientID = v; return nil }},
	{env: ghl.EnvClientSecret, def: "", help: "the GHL app's client secret",
		apply: func(c *config, v string) error { c.GHL.ClientSecret = ghl.NewSecret(v); return nil }},
	{env: ghl.EnvRedirectURL, def: "", help: "the GHL app's redirect URL, as registered in the app: the absolute URL of this service's GET /v1/ghl/oauth/callback",
		apply: func(c *config, v string) error { c.GHL.RedirectURL = v; return nil }},
	{env: ghl.EnvScopes, def: ghl.DefaultScopes, help: "scopes asked of GHL, separated by spaces",
		apply: func(c *config, v string) error { c.GHL.Scopes = strings.Fields(v); return nil }},
	{env: ghl.EnvTokenKeys, def: "", help: "keys that encrypt GHL tokens at rest: ID:BASE64KEY pairs (32 random bytes each) separated by commas, the first one encrypting",
		apply: func(c *config, v string) (err error) { c.GHL.TokenKeys, err = ghl.ParseKeyRing(v); return err }},
	{env: ghl.EnvAuthURL, def: ghl.DefaultAuthURL, help: "base URL of GHL's choose-location page (https://marketplace.leadconnectorhq.com for white-label agencies)",
		apply: func(c *config, v string) error { c.GHL.AuthURL = v; return nil }},
	{env: ghl.EnvAPIURL, def: ghl.DefaultAPIURL, help: "base URL of GHL's API and token endpoint",
		apply: func(c *config, v string) error { c.GHL.APIURL = v; return nil }},
	{env: ghl.EnvAPIVersion, def: ghl.DefaultAPIVersion, help: "the Version header sent to GHL's API",
		apply: func(c *config, v string) error { c.GHL.APIVersion = v; return nil }},
	{env: "GHLD_GHL_SYNC_INTERVAL", def: "15m", help: "how often every connected location's workflow list is synced from GHL (on one instance); at least 1m",
		apply: func(c *config, v string) (err error) { c.GHLSyncInterval, err = time.ParseDuration(v); return err }},
}

// loadConfig reads every setting from getenv, taking the default for unset or empty variables.
// Errors name the variable, never its value (it may be a secret put in the wrong place).
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var errs []error
	for _, s := range settings {
		v := strings.TrimSpace(getenv(s.env))
		if v == "" {
			v = s.def
		}
		if err := s.apply(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot read its value (%s)", s.env, s.help))
		}
	}
	return c, errors.Join(errs...)
}

// validate checks the values that parsed; every problem is reported at once.
func (c config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		add("GHLD_ADDR/--addr %q: want HOST:PORT, such as :8080 or 127.0.0.1:8080", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("GHLD_ADDR/--addr %q: the port must be a number from 0 to 65535", c.Addr)
	}
	if c.DatabaseURL == "" && strings.TrimSpace(c.DataDir) == "" {
		add("GHLD_DATA_DIR/--data-dir: must not be empty when DATABASE_URL is not set")
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		switch {
		case err != nil:
			add("DATABASE_URL: not a URL")
		case u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "sqlite" && u.Scheme != "file":
			add("DATABASE_URL: the scheme must be postgres://, postgresql://, sqlite:// or file:")
		case (u.Scheme == "postgres" || u.Scheme == "postgresql") && u.Host == "":
			add("DATABASE_URL: a PostgreSQL URL needs a host, as in postgres://user@localhost:5432/db")
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		switch {
		case err != nil:
			add("REDIS_URL: not a URL")
		case u.Scheme != "redis" && u.Scheme != "rediss":
			add("REDIS_URL: the scheme must be redis:// or rediss://")
		case u.Host == "":
			add("REDIS_URL: needs a host, as in redis://localhost:6379/0")
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		add("GHLD_LOG_FORMAT %q: want json or text", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 {
		add("GHLD_MAX_BODY_BYTES %d: must be at least 1024", c.MaxBodyBytes)
	}
	// The API reads 0 as "the default", so 0 would not mean "compress everything" as it reads.
	if c.GzipMinBytes < 1 {
		add("GHLD_GZIP_MIN_BYTES %d: must be at least 1", c.GzipMinBytes)
	}
	if c.ShutdownTimeout <= 0 {
		add("GHLD_SHUTDOWN_TIMEOUT %s: must be positive", c.ShutdownTimeout)
	}
	if c.DBMaxConns < 1 {
		add("GHLD_DB_MAX_CONNS %d: must be at least 1", c.DBMaxConns)
	}
	if c.DBConnectTimeout <= 0 {
		add("GHLD_DB_CONNECT_TIMEOUT %s: must be positive", c.DBConnectTimeout)
	}
	if c.DBStatementTimeout < minDBStatementTimeout || c.DBStatementTimeout >= c.WriteTimeout {
		add("GHLD_DB_STATEMENT_TIMEOUT %s: must be at least %s and under GHLD_WRITE_TIMEOUT (%s), so the caller gets the 503", c.DBStatementTimeout, minDBStatementTimeout, c.WriteTimeout)
	}
	if c.SQLiteReaders < 0 {
		add("GHLD_SQLITE_READERS %d: must be 0 (one per CPU, at least 4) or more", c.SQLiteReaders)
	}
	if c.MaxWorkflowsPerImport < 1 {
		add("GHLD_MAX_WORKFLOWS_PER_IMPORT %d: must be at least 1", c.MaxWorkflowsPerImport)
	}
	if c.MaxStepsPerWorkflow < 1 {
		add("GHLD_MAX_STEPS_PER_WORKFLOW %d: must be at least 1", c.MaxStepsPerWorkflow)
	}
	if c.MaxContextObjects < 1 {
		add("GHLD_MAX_CONTEXT_OBJECTS %d: must be at least 1", c.MaxContextObjects)
	}
	if c.AnalysisTimeout <= 0 || c.AnalysisTimeout >= c.WriteTimeout {
		add("GHLD_ANALYSIS_TIMEOUT %s: must be positive and under GHLD_WRITE_TIMEOUT (%s), so the caller gets the answer", c.AnalysisTimeout, c.WriteTimeout)
	}
	if c.MaxConcurrentAnalyses < 0 {
		add("GHLD_MAX_CONCURRENT_ANALYSES %d: must be 0 (one per CPU) or more", c.MaxConcurrentAnalyses)
	}
	if c.AnalysisQueueWait <= 0 {
		add("GHLD_ANALYSIS_QUEUE_WAIT %s: must be positive", c.AnalysisQueueWait)
	}
	if c.CacheL1MaxBytes < 1<<20 {
		add("GHLD_CACHE_L1_MAX_BYTES %d: must be at least 1048576 (1 MiB)", c.CacheL1MaxBytes)
	}
	if c.CacheRedisTimeout <= 0 || c.CacheRedisTimeout > maxRateLimitRedisTimeout {
		add("GHLD_CACHE_REDIS_TIMEOUT %s: must be positive and at most %s (requests wait for it)", c.CacheRedisTimeout, maxRateLimitRedisTimeout)
	}
	if c.MaxHeaderBytes < 4096 {
		add("GHLD_MAX_HEADER_BYTES %d: must be at least 4096", c.MaxHeaderBytes)
	}
	for _, t := range []struct {
		env string
		d   time.Duration
	}{
		{"GHLD_READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"GHLD_READ_TIMEOUT", c.ReadTimeout},
		{"GHLD_WRITE_TIMEOUT", c.WriteTimeout}, {"GHLD_IDLE_TIMEOUT", c.IdleTimeout},
	} {
		if t.d <= 0 {
			add("%s %s: must be positive", t.env, t.d)
		}
	}
	for _, origin := range c.CORSOrigins {
		if err := validOrigin(origin); err != nil {
			add("GHLD_CORS_ORIGINS %q: %v", origin, err)
		}
	}
	if c.RateLimitRedisTimeout <= 0 || c.RateLimitRedisTimeout > maxRateLimitRedisTimeout {
		add("GHLD_RATE_LIMIT_REDIS_TIMEOUT %s: must be positive and at most %s (every request waits for it)", c.RateLimitRedisTimeout, maxRateLimitRedisTimeout)
	}
	if u, err := url.Parse(c.UpgradeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("GHLD_UPGRADE_URL %q: want an absolute http:// or https:// URL", c.UpgradeURL)
	}
	// The token is a secret: the messages never show it.
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsToken {
		add("GHLD_METRICS_TOKEN: must be at least %d characters", minMetricsToken)
	}
	if c.JobWorkers < 1 || c.JobWorkers > 1000 {
		add("GHLD_JOBS_WORKERS %d: must be 1 to 1000", c.JobWorkers)
	}
	if c.JobMaxAttempts < 1 || c.JobMaxAttempts > 100 {
		add("GHLD_JOBS_MAX_ATTEMPTS %d: must be 1 to 100", c.JobMaxAttempts)
	}
	if c.JobRetryBackoff <= 0 {
		add("GHLD_JOBS_RETRY_BACKOFF %s: must be positive", c.JobRetryBackoff)
	}
	if c.JobTimeout < time.Second {
		add("GHLD_JOBS_TIMEOUT %s: must be at least 1s", c.JobTimeout)
	}
	// A job running longer than the rescue delay would be run a second time while it still runs.
	if c.JobRescueAfter <= c.JobTimeout {
		add("GHLD_JOBS_RESCUE_AFTER %s: must be above GHLD_JOBS_TIMEOUT (%s)", c.JobRescueAfter, c.JobTimeout)
	}
	if c.JobPollInterval < time.Millisecond {
		add("GHLD_JOBS_POLL_INTERVAL %s: must be at least 1ms", c.JobPollInterval)
	}
	if c.JobAsyncWorkflows < 1 {
		add("GHLD_JOBS_ASYNC_WORKFLOWS %d: must be at least 1", c.JobAsyncWorkflows)
	}
	if c.JobAsyncSteps < 1 {
		add("GHLD_JOBS_ASYNC_STEPS %d: must be at least 1", c.JobAsyncSteps)
	}
	if c.GHLSyncInterval < time.Minute {
		add("GHLD_GHL_SYNC_INTERVAL %s: must be at least 1m", c.GHLSyncInterval)
	}
	if c.RetentionInterval < time.Second {
		add("GHLD_RETENTION_INTERVAL %s: must be at least 1s", c.RetentionInterval)
	}
	if c.RetentionBatch < 1 || c.RetentionBatch > 100000 {
		add("GHLD_RETENTION_BATCH %d: must be 1 to 100000", c.RetentionBatch)
	}
	if strings.ContainsFunc(c.MetricsToken, unicode.IsSpace) {
		add("GHLD_METRICS_TOKEN: must not contain spaces")
	}
	if err := c.GHL.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// minDBStatementTimeout is the shortest statement timeout accepted: SQLite's busy timeout is whole
// milliseconds, and a shorter one would refuse requests of a healthy database under load.
const minDBStatementTimeout = 100 * time.Millisecond

// maxRateLimitRedisTimeout bounds GHLD_RATE_LIMIT_REDIS_TIMEOUT: the rate limiter runs before every
// request, so a Redis that hangs must not hold requests for long.
const maxRateLimitRedisTimeout = 5 * time.Second

// minMetricsToken is the shortest metrics token accepted, so a scrape token cannot be guessed.
const minMetricsToken = 16

// parseRetention reads a retention: N days as "Nd" (a Go duration has no day unit), any Go duration,
// or "0" for no limit. A negative one is refused.
func parseRetention(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q: want a number of days from 0 to 36500", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want Nd or a non-negative duration", v)
	}
	return d, nil
}

// parseTTLs reads KIND=DURATION pairs separated by commas; an empty value keeps every default.
func parseTTLs(v string) (map[cache.Kind]time.Duration, error) {
	var out map[cache.Kind]time.Duration
	for _, pair := range splitList(v) {
		name, d, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KIND=DURATION", pair)
		}
		kind, err := cache.ParseKind(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		ttl, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || ttl <= 0 {
			return nil, fmt.Errorf("%q: the TTL must be a positive duration", pair)
		}
		if out == nil {
			out = map[cache.Kind]time.Duration{}
		}
		out[kind] = ttl
	}
	return out, nil
}

// splitList splits a comma-separated value, dropping blanks around and between the items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// validOrigin checks a CORS origin: "*", or a scheme, a host and an optional port, as browsers send
// it in the Origin header (no path, no trailing slash).
func validOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	u, err := url.Parse(origin)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want http://HOST[:PORT] or https://HOST[:PORT]")
	case u.Host == "" || u.User != nil:
		return errors.New("needs a host and nothing before it, as in https://app.example.com")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(origin, "?") || strings.HasSuffix(origin, "#"):
		return errors.New("an origin has no path, query or trailing slash, as in https://app.example.com")
	}
	return nil
}

// engine names the database the configuration selects, for logs.
func (c config) engine() string {
	if strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// LogValue prints the configuration with its secrets masked: the passwords in DATABASE_URL and
// REDIS_URL are replaced by "xxxxx".
func (c config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Int("gzip_min_bytes", c.GzipMinBytes),
		slog.Bool("auto_migrate", c.AutoMigrate),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.String("db_connect_timeout", c.DBConnectTimeout.String()),
		slog.String("db_statement_timeout", c.DBStatementTimeout.String()),
		slog.Int("sqlite_readers", c.SQLiteReaders),
		slog.Int("max_workflows_per_import", c.MaxWorkflowsPerImport),
		slog.Int("max_steps_per_workflow", c.MaxStepsPerWorkflow),
		slog.Int("max_context_objects", c.MaxContextObjects),
		slog.String("analysis_timeout", c.AnalysisTimeout.String()),
		slog.Int("max_concurrent_analyses", c.MaxConcurrentAnalyses),
		slog.String("analysis_queue_wait", c.AnalysisQueueWait.String()),
		slog.Int("max_header_bytes", c.MaxHeaderBytes),
		slog.Int64("cache_l1_max_bytes", c.CacheL1MaxBytes),
		slog.Any("cache_ttls", c.CacheTTLs),
		slog.String("cache_redis_timeout", c.CacheRedisTimeout.String()),
		slog.String("read_header_timeout", c.ReadHeaderTimeout.String()),
		slog.String("read_timeout", c.ReadTimeout.String()),
		slog.String("write_timeout", c.WriteTimeout.String()),
		slog.String("idle_timeout", c.IdleTimeout.String()),
		slog.String("cors_origins", strings.Join(c.CORSOrigins, ",")),
		slog.Bool("hsts", c.HSTS),
		slog.String("metrics_token", redactSecret(c.MetricsToken)),
		slog.String("rate_limit_redis_timeout", c.RateLimitRedisTimeout.String()),
		slog.String("upgrade_url", c.UpgradeURL),
		slog.Int("jobs_workers", c.JobWorkers),
		slog.Int("jobs_max_attempts", c.JobMaxAttempts),
		slog.String("jobs_retry_backoff", c.JobRetryBackoff.String()),
		slog.String("jobs_timeout", c.JobTimeout.String()),
		slog.String("jobs_rescue_after", c.JobRescueAfter.String()),
		slog.String("jobs_poll_interval", c.JobPollInterval.String()),
		slog.Int("jobs_async_workflows", c.JobAsyncWorkflows),
		slog.Int("jobs_async_steps", c.JobAsyncSteps),
		slog.String("retention_free", c.RetentionFree.String()),
		slog.String("retention_pro", c.RetentionPro.String()),
		slog.String("retention_enterprise", c.RetentionEnterprise.String()),
		slog.String("retention_interval", c.RetentionInterval.String()),
		slog.Int("retention_batch", c.RetentionBatch),
		slog.String("ghl_client_id", c.GHL.ClientID),
		slog.Any("ghl_client_secret", c.GHL.ClientSecret),
		slog.String("ghl_redirect_url", c.GHL.RedirectURL),
		slog.String("ghl_scopes", strings.Join(c.GHL.Scopes, " ")),
		slog.String("ghl_token_keys", ghlKeyIDs(c.GHL.TokenKeys)),
		slog.String("ghl_auth_url", c.GHL.AuthURL),
		slog.String("ghl_api_url", c.GHL.APIURL),
		slog.String("ghl_api_version", c.GHL.APIVersion),
		slog.String("ghl_sync_interval", c.GHLSyncInterval.String()),
	)
}

// ghlKeyIDs names the GHL token keys by id only, current first, for the logged configuration.
func ghlKeyIDs(r *ghl.KeyRing) string {
	if r == nil {
		return ""
	}
	return strings.Join(r.KeyIDs(), ",")
}

// redactSecret masks a secret that is set, and shows that one that is not is empty.
func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return "xxxxx"
}

// redactURL masks the password of a URL; a value that does not parse is masked whole, since it
// cannot be shown safely.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "xxxxx"
	}
	// PostgreSQL also takes the password as a query parameter.
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
