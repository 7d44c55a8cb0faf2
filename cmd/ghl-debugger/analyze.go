package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// maxAnalyzeFileBytes bounds one input file of the analyze command. It is larger than the API's body
// limit because exports of big locations are read from disk, not the network.
const maxAnalyzeFileBytes = 256 << 20

// failOnNone turns --fail-on off.
const failOnNone = "none"

// runAnalyze is the analyze subcommand: every FILE is read as part of one location, analysed, and
// reported on stdout.
func runAnalyze(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("analyze", "ghl-debugger analyze [--format text|markdown|json] [--fail-on error|warning|info|none] FILE...", stdout)
	format := fs.String("format", analyzer.FormatText, "output format: "+strings.Join(analyzer.Formats, ", "))
	failOn := fs.String("fail-on", analyzer.SeverityError, "exit 1 when a finding has this severity or worse: error, warning, info, none")
	if err := fs.Parse(args); err != nil {
		return fs.parseError(err)
	}
	if !slices.Contains(analyzer.Formats, *format) {
		return usagef("analyze: --format %q: want one of %s", *format, strings.Join(analyzer.Formats, ", "))
	}
	threshold := analyzer.SeverityRank(*failOn)
	if threshold == 0 && *failOn != failOnNone {
		return usagef("analyze: --fail-on %q: want error, warning, info or none", *failOn)
	}
	if fs.NArg() == 0 {
		return usagef("analyze: no input files (give one or more FILEs, or - for standard input)")
	}

	results := make([]*importer.Result, 0, fs.NArg())
	for _, name := range fs.Args() {
		res, err := importFile(name, stdin)
		if err != nil {
			return inputError{err}
		}
		results = append(results, res)
	}
	rep := analyzer.Analyze(importer.Merge(results...).Location)
	if err := analyzer.Write(stdout, rep, *format); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if threshold == 0 {
		return nil
	}
	n := 0
	for _, f := range rep.Findings {
		if analyzer.SeverityRank(f.Severity) >= threshold {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("analyze: %d %s at or above --fail-on %s", n, plural(n, "finding"), *failOn)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// importFile reads and parses one input; "-" is standard input. Errors name the file and, for a
// document that cannot be used, the JSON path of the problem.
func importFile(name string, stdin io.Reader) (*importer.Result, error) {
	r, display := stdin, "<stdin>"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, display = f, name
	}
	data, err := io.ReadAll(io.LimitReader(r, maxAnalyzeFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", display, err)
	}
	if len(data) > maxAnalyzeFileBytes {
		return nil, fmt.Errorf("%s: larger than the %d MiB limit", display, maxAnalyzeFileBytes>>20)
	}
	res, err := importer.Parse(data, importer.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", display, err)
	}
	return res, nil
}
