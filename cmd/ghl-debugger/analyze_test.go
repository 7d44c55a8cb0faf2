package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// samples is the public sample data beside the repository.
var samples = filepath.Join("..", "..", "pkg", "analyzer", "testdata", "samples", "ghl-workflow-auditor")

// runBinary runs the built binary with stdin and returns its stdout, stderr and exit status.
func runBinary(tb testing.TB, stdin []byte, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	cmd := command(nil, args...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(tb, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

func TestAnalyzeCommand(t *testing.T) {
	broken := filepath.Join(samples, "broken-account.json")
	base := filepath.Join(samples, "base-account.json")
	baseBytes, err := os.ReadFile(base)
	require.NoError(t, err)
	badNext := filepath.Join(t.TempDir(), "bad-next.json")
	require.NoError(t, os.WriteFile(badNext, []byte(`{"$schema":"ghl-workflow-export/v1","workflow":{"id":"w1","name":"W","status":"published",
		"workflowData":{"templates":[{"id":"s1","type":"sms","name":"Hi","attributes":{"body":"hi"},"next":5}]}},"triggers":[]}`), 0o644))
	notJSON := filepath.Join(t.TempDir(), "not.json")
	require.NoError(t, os.WriteFile(notJSON, []byte("{\n  \"workflows\": [\n    oops\n  ]\n}"), 0o644))

	for _, tt := range []struct {
		name       string
		args       []string
		stdin      []byte
		code       int
		stdout     []string // substrings of stdout
		stderr     []string // substrings of stderr
		workflows  int      // with --format json: workflows in the report
		hasFinding string   // with --format json: a rule id that must be found
	}{
		{name: "json report, errors fail by default", args: []string{"analyze", "--format", "json", broken}, code: 1,
			workflows: 76, hasFinding: "WD019", stderr: []string{"at or above --fail-on error"}},
		{name: "fail-on none", args: []string{"analyze", "--format", "json", "--fail-on", "none", broken}, code: 0, workflows: 76},
		{name: "text", args: []string{"analyze", "--fail-on", "none", base}, code: 0,
			stdout: []string{`"No Show Recovery" (wf_noshow, published`, "WARN  WD013 Unfiltered appointment trigger", "Not assessed"}},
		{name: "markdown", args: []string{"analyze", "--format", "markdown", "--fail-on", "none", base}, code: 0,
			stdout: []string{"# Workflow health report", "| Workflow | Status | Steps |", "### ERROR WD001"}},
		{name: "stdin", args: []string{"analyze", "--format", "json", "--fail-on", "none", "-"}, stdin: baseBytes, code: 0, workflows: 24},
		{name: "files merge into one location", args: []string{"analyze", "--format", "json", "--fail-on", "none", base,
			filepath.Join(samples, "packs", "compliance_sms.json")}, code: 0, hasFinding: "WD028"},
		{name: "warning threshold", args: []string{"analyze", "--fail-on", "warning", filepath.Join(samples, "packs", "compliance_sms.json")}, code: 1},
		{name: "bad next names the JSON path", args: []string{"analyze", badNext}, code: 2,
			stderr: []string{"bad-next.json: $.workflow.workflowData.templates[0].next"}},
		{name: "malformed JSON names the line", args: []string{"analyze", notJSON}, code: 2, stderr: []string{"not.json", "line 3"}},
		{name: "missing file", args: []string{"analyze", "no-such-file.json"}, code: 2, stderr: []string{"no-such-file.json"}},
		{name: "html", args: []string{"analyze", "--format", "html", "--fail-on", "none", base}, code: 0,
			stdout: []string{"<!doctype html>", "<h1>Workflow health report</h1>", `<svg id="wf-1-drawing" role="img"`, `href="#finding-1"`}},
		{name: "html keeps the exit status", args: []string{"analyze", "--format", "html", broken}, code: 1,
			stdout: []string{"</html>"}, stderr: []string{"at or above --fail-on error"}},
		{name: "unknown format", args: []string{"analyze", "--format", "pdf", base}, code: 2, stderr: []string{`--format "pdf"`, "html"}},
		{name: "unknown threshold", args: []string{"analyze", "--fail-on", "critical", base}, code: 2, stderr: []string{`--fail-on "critical"`}},
		{name: "no files", args: []string{"analyze"}, code: 2, stderr: []string{"no input files"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, tt.stdin, tt.args...)
			require.Equal(t, tt.code, code, "stderr:\n%s", stderr)
			for _, s := range tt.stdout {
				require.Contains(t, stdout, s)
			}
			for _, s := range tt.stderr {
				require.Contains(t, stderr, s)
			}
			if tt.workflows == 0 && tt.hasFinding == "" {
				return
			}
			var rep analyzer.Report
			require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
			if tt.workflows > 0 {
				require.Len(t, rep.Workflows, tt.workflows)
			}
			if tt.hasFinding != "" {
				found := false
				for _, f := range rep.Findings {
					found = found || f.RuleID == tt.hasFinding
				}
				require.True(t, found, "no %s finding", tt.hasFinding)
			}
		})
	}
}

// TestAnalyzeEveryFixture runs the command on every sample file and every analyzer and importer
// fixture: each must be read (exit 0 or 1, never 2). The auditor's policy file is not a workflow
// document and must be refused with exit 2.
func TestAnalyzeEveryFixture(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		filepath.Join(samples, "*.json"),
		filepath.Join(samples, "packs", "*.json"),
		filepath.Join("..", "..", "pkg", "analyzer", "testdata", "rules", "*.json"),
		filepath.Join("..", "..", "pkg", "analyzer", "testdata", "report", "*.json"),
		filepath.Join("..", "..", "pkg", "analyzer", "importer", "testdata", "*.json"),
	} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		require.NotEmpty(t, matches, pattern)
		for _, m := range matches {
			if !strings.HasSuffix(m, ".golden.json") {
				files = append(files, m)
			}
		}
	}
	require.Greater(t, len(files), 90)
	for _, f := range files {
		_, stderr, code := runBinary(t, nil, "analyze", "--format", "json", f)
		if filepath.Base(f) == "audit-config.json" {
			require.Equal(t, 2, code, f)
			require.Contains(t, stderr, "audit-config.json")
			continue
		}
		require.Contains(t, []int{0, 1}, code, "%s: %s", f, stderr)
	}
}

// gcPercentWriter records the garbage collector's target each time the report is written.
type gcPercentWriter struct{ seen []int }

func (w *gcPercentWriter) Write(p []byte) (int, error) {
	current := debug.SetGCPercent(-1)
	debug.SetGCPercent(current)
	w.seen = append(w.seen, current)
	return len(p), nil
}

// TestAnalyzeGCTarget runs analyze in process: on a small input the collector's target is raised
// while the report is written, a GOGC from the environment is left alone, and either way the
// process's own setting is back when the command returns.
func TestAnalyzeGCTarget(t *testing.T) {
	const own = 123
	prev := debug.SetGCPercent(own)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	small := filepath.Join(samples, "base-account.json")
	data, err := os.ReadFile(small)
	require.NoError(t, err)
	// The same document padded with trailing white space past the small-input size.
	large := filepath.Join(t.TempDir(), "large.json")
	require.NoError(t, os.WriteFile(large, append(data, bytes.Repeat([]byte(" "), smallInputBytes)...), 0o644))
	for _, tt := range []struct {
		name string
		file string
		env  map[string]string
		want int
	}{
		{name: "small input", file: small, want: smallInputGCPercent},
		{name: "large input", file: large, want: own},
		{name: "GOGC set", file: small, env: map[string]string{"GOGC": "50"}, want: own},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out gcPercentWriter
			args := []string{"analyze", "--fail-on", "none", tt.file}
			require.NoError(t, run(context.Background(), args, envOf(tt.env), nil, &out, &bytes.Buffer{}))
			require.NotEmpty(t, out.seen)
			for _, p := range out.seen {
				require.Equal(t, tt.want, p)
			}
			require.Equal(t, own, debug.SetGCPercent(own), "the setting is restored")
		})
	}
}
