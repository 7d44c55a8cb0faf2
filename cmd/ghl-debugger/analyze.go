package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
	"github.com/ghl-debugger/ghl-debugger/pkg/report"
)

// maxAnalyzeFileBytes bounds one input file of the analyze command. It is larger than the API's body
// limit because exports of big locations are read from disk, not the network.
const maxAnalyzeFileBytes = 256 << 20

// maxAnalyzeContextObjects bounds the location context of one input file of the analyze command. It
// is higher than the importer's default (the API's) for the same reason as the file size: a 256 MiB
// export of short tags holds about ten million, and the analysis stays linear in them.
const maxAnalyzeContextObjects = 10_000_000

// failOnNone turns --fail-on off.
const failOnNone = "none"

// formatHTML is the client report (pkg/report): one self-contained page with a drawing of every
// workflow. The analyzer's own writer knows the other formats.
const formatHTML = "html"

// analyzeFormats are the formats of analyze: the analyzer's and the client report.
var analyzeFormats = append(slices.Clone(analyzer.Formats), formatHTML)

// While the inputs of analyze total at most smallInputBytes, the garbage collector's target is
// raised to smallInputGCPercent (GOGC=400). A short-lived command on a small input otherwise spends
// about a fifth of its run collecting: the runtime's first target is a 4 MiB heap, and start-up
// plus the analysis of the 76-workflow sample allocate about 6 MiB, so it collects twice before it
// exits. At 400 the first target is 16 MiB and the sample needs no collection at all. An input of
// 1 MiB (about 900 workflows) allocates roughly 50 MiB and keeps much less alive, so five times
// its live heap stays modest; past that size the default is put back, so a large export's peak
// memory is what it was. (The Go compiler raises its starting heap for the same reason.) A GOGC
// set in the environment is left alone.
const (
	smallInputBytes     = 1 << 20
	smallInputGCPercent = 400
)

// runAnalyze is the analyze subcommand: every FILE is read as part of one location, analysed, and
// reported on stdout.
func runAnalyze(args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("analyze", "ghl-debugger analyze [--format text|markdown|json|html] [--fail-on error|warning|info|none] FILE...", stdout)
	format := fs.String("format", analyzer.FormatText, "output format: "+strings.Join(analyzeFormats, ", ")+" (html: the client report, one self-contained page)")
	failOn := fs.String("fail-on", analyzer.SeverityError, "exit 1 when a finding has this severity or worse: error, warning, info, none")
	if err := fs.Parse(args); err != nil {
		return fs.parseError(err)
	}
	if !slices.Contains(analyzeFormats, *format) {
		return usagef("analyze: --format %q: want one of %s", *format, strings.Join(analyzeFormats, ", "))
	}
	threshold := analyzer.SeverityRank(*failOn)
	if threshold == 0 && *failOn != failOnNone {
		return usagef("analyze: --fail-on %q: want error, warning, info or none", *failOn)
	}
	if fs.NArg() == 0 {
		return usagef("analyze: no input files (give one or more FILEs, or - for standard input)")
	}

	gc := gcTarget{enabled: getenv("GOGC") == ""}
	defer gc.restore()
	opts := importer.DefaultOptions()
	opts.MaxContextObjects = maxAnalyzeContextObjects
	results := make([]*importer.Result, 0, fs.NArg())
	total := 0
	for _, name := range fs.Args() {
		data, display, err := readInput(name, stdin)
		if err != nil {
			return inputError{err}
		}
		total += len(data)
		gc.fit(total)
		res, err := importer.Parse(data, opts)
		if err != nil {
			return inputError{fmt.Errorf("%s: %w", display, err)}
		}
		results = append(results, res)
	}
	loc := importer.Merge(results...).Location
	rep := analyzer.Analyze(loc)
	var err error
	if *format == formatHTML {
		err = report.Render(context.Background(), stdout, rep, report.Options{Location: loc})
	} else {
		err = analyzer.Write(stdout, rep, *format)
	}
	if err != nil {
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

// readInput reads one input, "-" being standard input, and returns it with the name that errors
// show. Errors name the file.
func readInput(name string, stdin io.Reader) (data []byte, display string, err error) {
	r, display, size := stdin, "<stdin>", int64(0)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		r, display = f, name
	}
	// A file's size sizes the buffer, so it is read in one piece instead of doubling from 512
	// bytes; the limit still applies if the file grows while it is read.
	buf := bytes.NewBuffer(make([]byte, 0, min(size, maxAnalyzeFileBytes)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, maxAnalyzeFileBytes+1)); err != nil {
		return nil, "", fmt.Errorf("read %s: %w", display, err)
	}
	if buf.Len() > maxAnalyzeFileBytes {
		return nil, "", fmt.Errorf("%s: larger than the %d MiB limit", display, maxAnalyzeFileBytes>>20)
	}
	return buf.Bytes(), display, nil
}

// gcTarget raises and restores the garbage collector's target for analyze (see smallInputBytes).
type gcTarget struct {
	enabled bool // false when the environment sets GOGC
	raised  bool
	prev    int // the setting before it was raised
}

// fit raises the target while total, the bytes of input read so far, is small, and puts the
// previous setting back once it is not.
func (g *gcTarget) fit(total int) {
	switch {
	case !g.enabled:
	case total <= smallInputBytes && !g.raised:
		g.prev = debug.SetGCPercent(smallInputGCPercent)
		g.raised = true
	case total > smallInputBytes:
		g.restore()
	}
}

// restore puts back the setting the process had, for callers that run more than one command.
func (g *gcTarget) restore() {
	if g.raised {
		debug.SetGCPercent(g.prev)
		g.raised = false
	}
}
