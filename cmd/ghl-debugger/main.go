// Command ghl-debugger is the ghl-debugger service and its operator tools in one binary.
//
//	ghl-debugger [serve]   serve the HTTP API (the default)
//	ghl-debugger migrate   apply database migrations
//	ghl-debugger admin     create accounts and API keys, change an account's tier and limits
//	ghl-debugger analyze   analyse exported workflow files and print a report
//	ghl-debugger simulate  run a contact through exported workflows on a virtual clock
//	ghl-debugger verify    check a running deployment, one PASS or FAIL line per check
//
// Configuration comes from environment variables (GHLD_*, plus DATABASE_URL and REDIS_URL); run
// `ghl-debugger --help` for the list with defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	// The IANA time zone database, built in so location time zones validate on hosts without
	// /usr/share/zoneinfo (distroless or scratch images).
	_ "time/tzdata"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, restore the default handling so a
		// second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in the command line or configuration: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// inputError is an input file that cannot be read or parsed: exit status 2, like a usage error,
// so scripts can tell "the workflows have problems" (1) from "the file is unreadable" (2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode reports err on stderr and returns the process's exit status.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "ghl-debugger: %v\nRun 'ghl-debugger --help' for usage.\n", err)
		return exitUsage
	case errors.As(err, new(inputError)):
		fmt.Fprintf(stderr, "ghl-debugger: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "ghl-debugger: %v\n", err)
		return exitFailure
	}
}

// run is the whole program behind main, with its inputs and outputs passed in so tests can run it
// in process. args excludes the program name. It returns flag.ErrHelp after printing help,
// a usageError for a bad command line or configuration, and any other error for a failure.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		return runServe(ctx, args, getenv, stdout, stderr)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdout, stderr)
	case "analyze":
		return runAnalyze(rest, getenv, stdin, stdout)
	case "simulate":
		return runSimulate(rest, stdin, stdout)
	case "verify":
		return runVerify(ctx, rest, getenv, stdout)
	case "version":
		return runVersion(rest, stdout)
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return flag.ErrHelp
	default:
		return usagef("unknown command %q", cmd)
	}
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// printUsage writes the command overview and every environment variable with its default.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `ghl-debugger finds bugs in GoHighLevel workflows and serves the results over an HTTP API.

Usage:
  ghl-debugger [serve] [--addr HOST:PORT] [--data-dir DIR]
  ghl-debugger migrate [--data-dir DIR]
  ghl-debugger admin create-account --name NAME [--tier free|pro|enterprise] [--admin] [--data-dir DIR]
  ghl-debugger admin create-key --account ACCOUNT_ID [--name NAME] [--data-dir DIR]
  ghl-debugger admin set-limits --account ACCOUNT_ID [--tier free|pro|enterprise] [--requests-per-minute N|unlimited|tier] [--analyses-per-hour N|unlimited|tier] [--data-dir DIR]
  ghl-debugger analyze [--format text|markdown|json|html] [--fail-on error|warning|info|none] FILE...
  ghl-debugger simulate [--contact FILE] [--start EVENT] [--event EVENT]... [--events FILE] [--horizon 30d] [--format text|markdown|json] FILE...
  ghl-debugger verify URL [--key KEY] [--metrics-token TOKEN] [--timeout DURATION]
  ghl-debugger version
  ghl-debugger help

Commands:
  serve     Serve the HTTP API (the default). Applies migrations first unless GHLD_AUTO_MIGRATE=false.
            On an empty database it creates an admin account and prints its API key once.
  migrate   Apply the database migrations and exit.
  admin     create-account: add an account; create-key: issue an API key for an account
            (the key is printed once); set-limits: change an account's tier or its own limits.
            All print JSON on stdout.
  analyze   Analyse exported workflow files (any dialect; "-" reads stdin) as one location and
            print a report. Exit 1 when a finding reaches --fail-on (default error), 2 when an
            input cannot be read.
  simulate  Run one contact through the published workflows of exported files (as one location)
            from a start event and later events on a virtual clock, and print what it receives and
            when, the trace, the assumptions and the findings the run proves.
  verify    Check a running deployment after a release (health, metrics, docs, spec, compression,
            security and rate-limit headers, an authenticated call with --key): one PASS, FAIL or
            SKIP line per check; exit 1 when a check fails.
  version   Print the build version.

Run 'ghl-debugger COMMAND --help' for the flags of a command.

Environment:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.env, def, s.help)
	}
	_ = tw.Flush()
	fmt.Fprint(w, `
Logs are JSON lines on stderr; the first-start admin key is printed on stdout only.
Exit status: 0 success, 1 failure (for analyze: a finding reached --fail-on), 2 usage, configuration
or unreadable input error.
`)
}

// flagSet is a subcommand's flags with its synopsis, for help.
type flagSet struct {
	*flag.FlagSet
	synopsis string
	stdout   io.Writer
}

// newFlagSet returns the flags of a subcommand. Help goes to stdout on request; a bad flag is
// reported as a usage error by parse, without the help text.
func newFlagSet(name, synopsis string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, synopsis: synopsis, stdout: stdout}
}

// parse parses args, printing help and returning flag.ErrHelp for -h or --help, and a usage error
// for a bad flag or a stray argument.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return fs.parseError(err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// parseError turns an error of Parse into the command's answer: help on stdout and flag.ErrHelp for
// -h or --help, a usage error for anything else.
func (fs *flagSet) parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(fs.stdout, "Usage: %s\n", fs.synopsis)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(fs.stdout, "\nFlags:\n")
			fs.SetOutput(fs.stdout)
			fs.PrintDefaults()
		}
		fmt.Fprintln(fs.stdout, "\nRun 'ghl-debugger --help' for the environment variables.")
		return err
	}
	return usagef("%s: %v", fs.Name(), err)
}

// configFor loads and validates the configuration, with a flag value (when set) overriding its
// environment variable.
func configFor(getenv func(string) string, addr, dataDir string) (config, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return config{}, usageError{err}
	}
	if addr != "" {
		cfg.Addr = addr
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if err := cfg.validate(); err != nil {
		return config{}, usageError{err}
	}
	return cfg, nil
}
