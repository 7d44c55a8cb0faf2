package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// samplesDir is the auditor's public sample data, kept beside the analyzer's tests.
var samplesDir = filepath.Join("..", "analyzer", "testdata", "samples", "ghl-workflow-auditor")

// mustSample imports and analyses one sample file.
func mustSample(tb testing.TB, name string) (*analyzer.Report, *analyzer.Location) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := importer.Parse(data, importer.DefaultOptions())
	if err != nil {
		tb.Fatalf("import %s: %v", name, err)
	}
	return analyzer.Analyze(res.Location), res.Location
}
