package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/cache"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
)

// envOf returns a getenv over a fixed map.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(envOf(nil))
	require.NoError(t, err)
	require.NoError(t, cfg.validate())
	require.Equal(t, config{
		Addr:            ":8080",
		DataDir:         "./data",
		LogLevel:        slog.LevelInfo,
		LogFormat:       "json",
		MaxBodyBytes:    10 << 20,
		GzipMinBytes:    1024,
		AutoMigrate:     true,
		ShutdownTimeout: 15 * time.Second,
		DBMaxConns:      10,

		DBConnectTimeout:   5 * time.Second,
		DBStatementTimeout: 5 * time.Second,

		MaxWorkflowsPerImport: 1000,
		MaxStepsPerWorkflow:   10000,
		MaxContextObjects:     100000,
		AnalysisTimeout:       20 * time.Second,
		AnalysisQueueWait:     2 * time.Second,
		MaxHeaderBytes:        64 << 10,
		CacheL1MaxBytes:       64 << 20,
		CacheRedisTimeout:     50 * time.Millisecond,
		ReadHeaderTimeout:     10 * time.Second,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		RateLimitRedisTimeout: 50 * time.Millisecond,
		UpgradeURL:            "https://ghl-debugger.dev/pricing",
		JobWorkers:            2, JobMaxAttempts: 5, JobRetryBackoff: 10 * time.Second, JobTimeout: 2 * time.Minute,
		JobRescueAfter: 10 * time.Minute, JobPollInterval: time.Second, JobAsyncWorkflows: 200, JobAsyncSteps: 5000,
		RetentionFree: 30 * 24 * time.Hour, RetentionPro: 365 * 24 * time.Hour, RetentionInterval: time.Hour, RetentionBatch: 1000,
		GHL: ghl.Config{Scopes: []string{ghl.DefaultScopes}, AuthURL: ghl.DefaultAuthURL, APIURL: ghl.DefaultAPIURL,
			APIVersion: ghl.DefaultAPIVersion},
		GHLSyncInterval: 15 * time.Minute,
	}, cfg)
}

func TestLoadConfigFromEnvironment(t *testing.T) {
	cfg, err := loadConfig(envOf(map[string]string{
		"GHLD_ADDR":             "127.0.0.1:9000",
		"GHLD_DATA_DIR":         "/var/lib/ghld",
		"DATABASE_URL":          "postgres://app:pw@db:5432/ghld?sslmode=disable",
		"REDIS_URL":             "redis://:pw@cache:6379/1",
		"GHLD_LOG_LEVEL":        "debug",
		"GHLD_LOG_FORMAT":       "TEXT",
		"GHLD_MAX_BODY_BYTES":   "2048",
		"GHLD_GZIP_MIN_BYTES":   "1",
		"GHLD_AUTO_MIGRATE":     "false",
		"GHLD_SHUTDOWN_TIMEOUT": "3s",
		"GHLD_DB_MAX_CONNS":     "4",

		"GHLD_DB_CONNECT_TIMEOUT":   "1500ms",
		"GHLD_DB_STATEMENT_TIMEOUT": "2s",
		"GHLD_SQLITE_READERS":       "6",

		"GHLD_MAX_WORKFLOWS_PER_IMPORT": "50",
		"GHLD_MAX_STEPS_PER_WORKFLOW":   "200",
		"GHLD_MAX_CONTEXT_OBJECTS":      "5000",
		"GHLD_ANALYSIS_TIMEOUT":         "5s",
		"GHLD_MAX_CONCURRENT_ANALYSES":  "3",
		"GHLD_ANALYSIS_QUEUE_WAIT":      "500ms",
		"GHLD_MAX_HEADER_BYTES":         "8192",
		"GHLD_CACHE_TTLS":               "auth=30s, analysis=2h",
		"GHLD_READ_HEADER_TIMEOUT":      "2s",
		"GHLD_READ_TIMEOUT":             "30s",
		"GHLD_WRITE_TIMEOUT":            "45s",
		"GHLD_IDLE_TIMEOUT":             "1m",
		"GHLD_CORS_ORIGINS":             " https://app.example.com, ,http://localhost:5173 ",
		"GHLD_HSTS":                     "true",
		"GHLD_METRICS_TOKEN":            "0123456789abcdef-scrape",
		"GHLD_RATE_LIMIT_REDIS_TIMEOUT": "120ms",
		"GHLD_UPGRADE_URL":              "https://agency.example.com/plans",

		"GHLD_JOBS_WORKERS": "3", "GHLD_JOBS_MAX_ATTEMPTS": "7", "GHLD_JOBS_RETRY_BACKOFF": "1s", "GHLD_JOBS_TIMEOUT": "30s",
		"GHLD_JOBS_RESCUE_AFTER": "1m", "GHLD_JOBS_POLL_INTERVAL": "250ms", "GHLD_JOBS_ASYNC_WORKFLOWS": "20",
		"GHLD_JOBS_ASYNC_STEPS": "400", "GHLD_RETENTION_FREE": "7d", "GHLD_RETENTION_PRO": "2160h",
		"GHLD_RETENTION_ENTERPRISE": "3650d", "GHLD_RETENTION_INTERVAL": "10m", "GHLD_RETENTION_BATCH": "500",
		"GHLD_GHL_SYNC_INTERVAL": "5m",

		"GHLD_GHL_CLIENT_ID": "app-1", "GHLD_GHL_REDIRECT_URL": "https://api.example.com/v1/ghl/oauth/callback",
		"GHLD_GHL_SCOPES": "workflows.readonly  locations.readonly", "GHLD_GHL_AUTH_URL": "https://marketplace.leadconnectorhq.com",
		"GHLD_GHL_API_URL": "http://127.0.0.1:9999", "GHLD_GHL_API_VERSION": "v3",
	}))
	require.NoError(t, err)
	require.NoError(t, cfg.validate())
	require.Equal(t, config{
		Addr:            "127.0.0.1:9000",
		DataDir:         "/var/lib/ghld",
		DatabaseURL:     "postgres://app:pw@db:5432/ghld?sslmode=disable",
		RedisURL:        "redis://:pw@cache:6379/1",
		LogLevel:        slog.LevelDebug,
		LogFormat:       "text",
		MaxBodyBytes:    2048,
		GzipMinBytes:    1,
		AutoMigrate:     false,
		ShutdownTimeout: 3 * time.Second,
		DBMaxConns:      4,

		DBConnectTimeout:   1500 * time.Millisecond,
		DBStatementTimeout: 2 * time.Second,
		SQLiteReaders:      6,

		MaxWorkflowsPerImport: 50,
		MaxStepsPerWorkflow:   200,
		MaxContextObjects:     5000,
		AnalysisTimeout:       5 * time.Second,
		MaxConcurrentAnalyses: 3,
		AnalysisQueueWait:     500 * time.Millisecond,
		MaxHeaderBytes:        8192,
		CacheTTLs:             map[cache.Kind]time.Duration{cache.KindAuth: 30 * time.Second, cache.KindAnalysis: 2 * time.Hour},
		CacheL1MaxBytes:       64 << 20,
		CacheRedisTimeout:     50 * time.Millisecond,
		ReadHeaderTimeout:     2 * time.Second,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          45 * time.Second,
		IdleTimeout:           time.Minute,
		CORSOrigins:           []string{"https://app.example.com", "http://localhost:5173"},
		HSTS:                  true,
		MetricsToken:          "0123456789abcdef-scrape",
		RateLimitRedisTimeout: 120 * time.Millisecond,
		UpgradeURL:            "https://agency.example.com/plans",
		JobWorkers:            3, JobMaxAttempts: 7, JobRetryBackoff: time.Second, JobTimeout: 30 * time.Second,
		JobRescueAfter: time.Minute, JobPollInterval: 250 * time.Millisecond, JobAsyncWorkflows: 20, JobAsyncSteps: 400,
		RetentionFree: 7 * 24 * time.Hour, RetentionPro: 2160 * time.Hour, RetentionEnterprise: 3650 * 24 * time.Hour,
		RetentionInterval: 10 * time.Minute, RetentionBatch: 500,
		GHL: ghl.Config{ClientID: "app-1", RedirectURL: "https://api.example.com/v1/ghl/oauth/callback",
			Scopes: []string{"workflows.readonly", "locations.readonly"}, AuthURL: "https://marketplace.leadconnectorhq.com",
			APIURL: "http://127.0.0.1:9999", APIVersion: "v3"},
		GHLSyncInterval: 5 * time.Minute,
	}, cfg)
	require.Equal(t, "postgres", cfg.engine())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "unparsable number", env: map[string]string{"GHLD_MAX_BODY_BYTES": "ten"}, want: "GHLD_MAX_BODY_BYTES"},
		{name: "unparsable bool", env: map[string]string{"GHLD_AUTO_MIGRATE": "maybe"}, want: "GHLD_AUTO_MIGRATE"},
		{name: "retention in weeks", env: map[string]string{"GHLD_RETENTION_FREE": "4w"}, want: "GHLD_RETENTION_FREE"},
		{name: "negative retention", env: map[string]string{"GHLD_RETENTION_PRO": "-1d"}, want: "GHLD_RETENTION_PRO"},
		{name: "rescue within the job timeout", env: map[string]string{"GHLD_JOBS_TIMEOUT": "5m", "GHLD_JOBS_RESCUE_AFTER": "5m"}, want: "GHLD_JOBS_RESCUE_AFTER"},
		{name: "no job workers", env: map[string]string{"GHLD_JOBS_WORKERS": "0"}, want: "GHLD_JOBS_WORKERS"},
		{name: "GHL token key too short", env: map[string]string{"GHLD_GHL_TOKEN_KEYS": "k1:c2hvcnQ="}, want: "GHLD_GHL_TOKEN_KEYS"},
		{name: "GHL redirect URL relative", env: map[string]string{"GHLD_GHL_REDIRECT_URL": "/v1/ghl/oauth/callback"}, want: "GHLD_GHL_REDIRECT_URL"},
		{name: "unparsable duration", env: map[string]string{"GHLD_SHUTDOWN_TIMEOUT": "soon"}, want: "GHLD_SHUTDOWN_TIMEOUT"},
		{name: "unknown level", env: map[string]string{"GHLD_LOG_LEVEL": "loud"}, want: "GHLD_LOG_LEVEL"},
		{name: "unknown format", env: map[string]string{"GHLD_LOG_FORMAT": "xml"}, want: "GHLD_LOG_FORMAT"},
		{name: "address without port", env: map[string]string{"GHLD_ADDR": "localhost"}, want: "GHLD_ADDR"},
		{name: "port out of range", env: map[string]string{"GHLD_ADDR": ":70000"}, want: "GHLD_ADDR"},
		{name: "database scheme", env: map[string]string{"DATABASE_URL": "mysql://db/x"}, want: "DATABASE_URL"},
		{name: "postgres without host", env: map[string]string{"DATABASE_URL": "postgres:///x"}, want: "DATABASE_URL"},
		{name: "redis scheme", env: map[string]string{"REDIS_URL": "http://cache:6379"}, want: "REDIS_URL"},
		{name: "redis without host", env: map[string]string{"REDIS_URL": "redis://"}, want: "REDIS_URL"},
		{name: "tiny body limit", env: map[string]string{"GHLD_MAX_BODY_BYTES": "10"}, want: "GHLD_MAX_BODY_BYTES"},
		{name: "zero shutdown", env: map[string]string{"GHLD_SHUTDOWN_TIMEOUT": "0s"}, want: "GHLD_SHUTDOWN_TIMEOUT"},
		{name: "no pool", env: map[string]string{"GHLD_DB_MAX_CONNS": "0"}, want: "GHLD_DB_MAX_CONNS"},
		{name: "zero connect timeout", env: map[string]string{"GHLD_DB_CONNECT_TIMEOUT": "0s"}, want: "GHLD_DB_CONNECT_TIMEOUT"},
		{name: "connect timeout without unit", env: map[string]string{"GHLD_DB_CONNECT_TIMEOUT": "5"}, want: "GHLD_DB_CONNECT_TIMEOUT"},
		{name: "tiny statement timeout", env: map[string]string{"GHLD_DB_STATEMENT_TIMEOUT": "10ms"}, want: "GHLD_DB_STATEMENT_TIMEOUT"},
		{name: "statement timeout over the write timeout", env: map[string]string{"GHLD_DB_STATEMENT_TIMEOUT": "60s"}, want: "GHLD_DB_STATEMENT_TIMEOUT"},
		{name: "negative SQLite readers", env: map[string]string{"GHLD_SQLITE_READERS": "-1"}, want: "GHLD_SQLITE_READERS"},
		{name: "no workflows per import", env: map[string]string{"GHLD_MAX_WORKFLOWS_PER_IMPORT": "0"}, want: "GHLD_MAX_WORKFLOWS_PER_IMPORT"},
		{name: "unparsable steps per workflow", env: map[string]string{"GHLD_MAX_STEPS_PER_WORKFLOW": "many"}, want: "GHLD_MAX_STEPS_PER_WORKFLOW"},
		{name: "zero gzip threshold", env: map[string]string{"GHLD_GZIP_MIN_BYTES": "0"}, want: "GHLD_GZIP_MIN_BYTES"},
		{name: "unparsable timeout", env: map[string]string{"GHLD_READ_TIMEOUT": "a minute"}, want: "GHLD_READ_TIMEOUT"},
		{name: "zero header timeout", env: map[string]string{"GHLD_READ_HEADER_TIMEOUT": "0s"}, want: "GHLD_READ_HEADER_TIMEOUT"},
		{name: "negative write timeout", env: map[string]string{"GHLD_WRITE_TIMEOUT": "-1s"}, want: "GHLD_WRITE_TIMEOUT"},
		{name: "zero idle timeout", env: map[string]string{"GHLD_IDLE_TIMEOUT": "0"}, want: "GHLD_IDLE_TIMEOUT"},
		{name: "origin with a path", env: map[string]string{"GHLD_CORS_ORIGINS": "https://app.example.com/"}, want: "GHLD_CORS_ORIGINS"},
		{name: "origin without scheme", env: map[string]string{"GHLD_CORS_ORIGINS": "app.example.com"}, want: "GHLD_CORS_ORIGINS"},
		{name: "origin with a user", env: map[string]string{"GHLD_CORS_ORIGINS": "https://me@app.example.com"}, want: "GHLD_CORS_ORIGINS"},
		{name: "unparsable HSTS", env: map[string]string{"GHLD_HSTS": "sometimes"}, want: "GHLD_HSTS"},
		{name: "short metrics token", env: map[string]string{"GHLD_METRICS_TOKEN": "short"}, want: "GHLD_METRICS_TOKEN"},
		{name: "metrics token with a space", env: map[string]string{"GHLD_METRICS_TOKEN": "0123456789 abcdef-scrape"}, want: "GHLD_METRICS_TOKEN"},
		{name: "unparsable Redis timeout", env: map[string]string{"GHLD_RATE_LIMIT_REDIS_TIMEOUT": "fast"}, want: "GHLD_RATE_LIMIT_REDIS_TIMEOUT"},
		{name: "zero Redis timeout", env: map[string]string{"GHLD_RATE_LIMIT_REDIS_TIMEOUT": "0s"}, want: "GHLD_RATE_LIMIT_REDIS_TIMEOUT"},
		{name: "Redis timeout too long", env: map[string]string{"GHLD_RATE_LIMIT_REDIS_TIMEOUT": "30s"}, want: "GHLD_RATE_LIMIT_REDIS_TIMEOUT"},
		{name: "relative upgrade URL", env: map[string]string{"GHLD_UPGRADE_URL": "/pricing"}, want: "GHLD_UPGRADE_URL"},
		{name: "upgrade URL scheme", env: map[string]string{"GHLD_UPGRADE_URL": "javascript:alert(1)"}, want: "GHLD_UPGRADE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configFor(envOf(tt.env), "", "")
			require.Error(t, err)
			require.ErrorAs(t, err, new(usageError))
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestConfigErrorsHideValues(t *testing.T) {
	_, err := configFor(envOf(map[string]string{"GHLD_DB_MAX_CONNS": "s3cr3t-typed-here"}), "", "")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t")
	_, err = configFor(envOf(map[string]string{"GHLD_METRICS_TOKEN": "s3cr3t"}), "", "")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t")
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	cfg, err := configFor(envOf(map[string]string{"GHLD_ADDR": ":1", "GHLD_DATA_DIR": "/env"}), "127.0.0.1:0", "/flag")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:0", cfg.Addr)
	require.Equal(t, "/flag", cfg.DataDir)
}

func TestConfigMasksSecrets(t *testing.T) {
	cfg, err := configFor(envOf(map[string]string{
		"DATABASE_URL":           "postgres://app:hunter2@db:5432/ghld?sslmode=disable&password=hunter3",
		"REDIS_URL":              "redis://:hunter4@cache:6379/0",
		"GHLD_METRICS_TOKEN":     "hunter5-scrape-token",
		"GHLD_GHL_CLIENT_SECRET": "hunter6-client-secret",
		// 32 bytes of "hunter7-ghl-token-key-of-32-byte", in base64.
		"GHLD_GHL_TOKEN_KEYS": "k2026:aHVudGVyNy1naGwtdG9rZW4ta2V5LW9mLTMyLWJ5dGU=",
	}), "", "")
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", slog.Any("config", cfg))
	out := buf.String()
	require.Contains(t, out, `"metrics_token":"xxxxx"`)
	require.Contains(t, out, `"ghl_client_secret":"[REDACTED]"`)
	require.Contains(t, out, `"ghl_token_keys":"k2026"`, "the key ids only")
	for _, secret := range []string{"hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "aHVudGVyNy1naGwtdG9rZW4ta2V5LW9mLTMyLWJ5dGU"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "app:xxxxx@db:5432")
	require.Contains(t, out, "cache:6379")
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string
		stderr   string
	}{
		{name: "help", args: []string{"--help"}, wantCode: exitOK, stdout: "GHLD_MAX_BODY_BYTES"},
		{name: "help command", args: []string{"help"}, wantCode: exitOK, stdout: "admin create-key"},
		{name: "serve help", args: []string{"serve", "--help"}, wantCode: exitOK, stdout: "--data-dir"},
		{name: "default command takes serve flags", args: []string{"-h"}, wantCode: exitOK, stdout: "DATABASE_URL"},
		{name: "version", args: []string{"version"}, wantCode: exitOK, stdout: "dev"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitUsage, stderr: `unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"serve", "--port", "1"}, wantCode: exitUsage, stderr: "flag provided but not defined: -port"},
		{name: "stray argument", args: []string{"migrate", "now"}, wantCode: exitUsage, stderr: `unexpected argument "now"`},
		{name: "admin without subcommand", args: []string{"admin"}, wantCode: exitUsage, stderr: "create-account"},
		{name: "admin unknown subcommand", args: []string{"admin", "delete-everything"}, wantCode: exitUsage, stderr: "delete-everything"},
		{name: "create-account without name", args: []string{"admin", "create-account", "--tier", "pro"}, wantCode: exitUsage, stderr: "--name is required"},
		{name: "create-account unknown tier", args: []string{"admin", "create-account", "--name", "A", "--tier", "gold"}, wantCode: exitUsage, stderr: `--tier "gold"`},
		{name: "create-key without account", args: []string{"admin", "create-key"}, wantCode: exitUsage, stderr: "--account is required"},
		{name: "bad configuration", args: []string{"serve", "--addr", "nowhere"}, wantCode: exitUsage, stderr: "GHLD_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, envOf(nil), strings.NewReader(""), &stdout, &stderr)
			code := exitCode(err, &stderr)
			require.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			require.Contains(t, stdout.String(), tt.stdout)
			require.Contains(t, stderr.String(), tt.stderr)
			if tt.wantCode == exitOK && err != nil {
				require.ErrorIs(t, err, flag.ErrHelp)
			}
		})
	}
}

func TestExitCodeForFailure(t *testing.T) {
	var stderr bytes.Buffer
	require.Equal(t, exitFailure, exitCode(errors.New("database unreachable"), &stderr))
	require.Equal(t, "ghl-debugger: database unreachable\n", stderr.String())
}

// TestDocumentation holds the help text and docs/configuration.md to the settings table: every variable is
// listed with its default, so neither can fall behind the code.
func TestDocumentation(t *testing.T) {
	var help bytes.Buffer
	printUsage(&help)
	readme, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	for _, s := range settings {
		require.Contains(t, help.String(), s.env)
		require.Contains(t, string(readme), "`"+s.env+"`", "docs/configuration.md does not document %s", s.env)
		if s.def != "" {
			require.Contains(t, string(readme), "`"+s.def+"`", "docs/configuration.md does not give the default of %s", s.env)
		}
	}
}
