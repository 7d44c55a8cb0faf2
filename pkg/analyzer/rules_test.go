package analyzer_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestCatalogue checks the catalogue holds WD001-WD040, each fully documented.
func TestCatalogue(t *testing.T) {
	docs := analyzer.Rules()
	require.Len(t, docs, 40)
	for i, d := range docs {
		require.Equal(t, fmt.Sprintf("WD%03d", i+1), d.ID)
		require.Contains(t, []string{analyzer.SeverityError, analyzer.SeverityWarning, analyzer.SeverityInfo}, d.Severity, d.ID)
		for name, v := range map[string]string{"category": d.Category, "title": d.Title, "summary": d.Summary, "why": d.Why, "fix": d.Fix, "example": d.Example} {
			require.NotEmpty(t, v, "%s has no %s", d.ID, name)
		}
		require.NotEmpty(t, d.Needs, d.ID)
	}
}

// TestRules runs each rule's fixtures: testdata/rules/WDnnn.fire.json must produce at least one
// finding of that rule and match WDnnn.fire.golden.json; WDnnn.miss.json, a near miss, must produce
// none. Fixtures are locations in the normalized model.
func TestRules(t *testing.T) {
	for _, d := range analyzer.Rules() {
		t.Run(d.ID, func(t *testing.T) {
			fire := analyzeFixture(t, filepath.Join("testdata", "rules", d.ID+".fire.json"))
			got := ruleResult(fire, d.ID)
			require.NotEmpty(t, got.Findings, "%s.fire.json produced no %s finding", d.ID, d.ID)
			checkGolden(t, filepath.Join("testdata", "rules", d.ID+".fire.golden.json"), got)

			miss := analyzeFixture(t, filepath.Join("testdata", "rules", d.ID+".miss.json"))
			require.Empty(t, ruleResult(miss, d.ID).Findings, "%s.miss.json is a near miss and must not fire", d.ID)
		})
	}
}

type ruleOutcome struct {
	Findings    []analyzer.Finding     `json:"findings"`
	NotAssessed []analyzer.NotAssessed `json:"notAssessed"`
}

func ruleResult(rep *analyzer.Report, id string) ruleOutcome {
	out := ruleOutcome{Findings: []analyzer.Finding{}, NotAssessed: []analyzer.NotAssessed{}}
	for _, f := range rep.Findings {
		if f.RuleID == id {
			out.Findings = append(out.Findings, f)
		}
	}
	for _, n := range rep.NotAssessed {
		if n.RuleID == id {
			out.NotAssessed = append(out.NotAssessed, n)
		}
	}
	return out
}

// analyzeFixture reads a normalized-model location, rejecting unknown fields so fixtures cannot
// silently misspell a key, and analyses it.
func analyzeFixture(tb testing.TB, path string) *analyzer.Report {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var loc analyzer.Location
	require.NoError(tb, dec.Decode(&loc), path)
	return analyzer.Analyze(&loc)
}

// checkGolden compares v, marshalled as indented JSON, with the golden file, or rewrites the file
// when -update is set.
func checkGolden(tb testing.TB, path string, v any) {
	tb.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(tb, err)
	got = append(got, '\n')
	if *update {
		require.NoError(tb, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "golden file missing: run go test ./pkg/analyzer -update")
	require.Equal(tb, string(want), string(got), "golden %s differs; if the change is intended run go test ./pkg/analyzer -update", path)
}
