package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpOfEveryCommand runs the real binary with -h, -help and --help after every command and
// subcommand: each prints its own usage on stdout, nothing on stderr, and exits 0. None of them may
// touch a database or a network, so the test runs without either.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, tt := range []struct {
		name    string
		command []string
		usage   []string // substrings of stdout: the command's own synopsis, not another's
	}{
		{name: "default command", command: nil, usage: []string{"ghl-debugger [serve]", "GHLD_MAX_BODY_BYTES"}},
		{name: "help", command: []string{"help"}, usage: []string{"ghl-debugger [serve]", "GHLD_MAX_BODY_BYTES"}},
		{name: "serve", command: []string{"serve"}, usage: []string{"Usage: ghl-debugger [serve]", "-addr", "-data-dir"}},
		{name: "migrate", command: []string{"migrate"}, usage: []string{"Usage: ghl-debugger migrate", "-data-dir"}},
		{name: "admin", command: []string{"admin"}, usage: []string{"ghl-debugger admin create-account", "ghl-debugger admin create-key", "ghl-debugger admin set-limits", "Subcommands:"}},
		{name: "admin help", command: []string{"admin", "help"}, usage: []string{"ghl-debugger admin create-account", "ghl-debugger admin create-key", "ghl-debugger admin set-limits", "Subcommands:"}},
		{name: "admin create-account", command: []string{"admin", "create-account"}, usage: []string{"Usage: ghl-debugger admin create-account", "-name", "-tier"}},
		{name: "admin create-key", command: []string{"admin", "create-key"}, usage: []string{"Usage: ghl-debugger admin create-key", "-account"}},
		{name: "admin rotate-ghl-key", command: []string{"admin", "rotate-ghl-key"}, usage: []string{"Usage: ghl-debugger admin rotate-ghl-key", "-data-dir"}},
		{name: "admin set-limits", command: []string{"admin", "set-limits"}, usage: []string{"Usage: ghl-debugger admin set-limits", "-account", "-tier", "-requests-per-minute", "-analyses-per-hour"}},
		{name: "analyze", command: []string{"analyze"}, usage: []string{"Usage: ghl-debugger analyze", "-format", "-fail-on"}},
		{name: "verify", command: []string{"verify"}, usage: []string{"Usage: ghl-debugger verify URL", "-key", "-timeout"}},
		{name: "version", command: []string{"version"}, usage: []string{"Usage: ghl-debugger version"}},
	} {
		for _, flag := range []string{"-h", "-help", "--help"} {
			t.Run(tt.name+" "+flag, func(t *testing.T) {
				args := append(append([]string{}, tt.command...), flag)
				stdout, stderr, code := runBinary(t, nil, args...)
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
				require.Empty(t, stderr)
				for _, s := range tt.usage {
					require.Contains(t, stdout, s)
				}
			})
		}
	}
}
