package analyzer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// mustAnalyzeFile imports a file of any dialect with the default limits and analyses it.
func mustAnalyzeFile(tb testing.TB, path string) *analyzer.Report {
	tb.Helper()
	data, err := os.ReadFile(path)
	require.NoError(tb, err)
	res, err := importer.Parse(data, importer.DefaultOptions())
	require.NoError(tb, err, path)
	return analyzer.Analyze(res.Location)
}

// TestPrecision runs the builder exports of testdata/precision/: for each case of issue 13 a fire case
// (the rule reports the defect), a near miss (the same workflow without it: no finding), and where
// the input holds the data in a shape the importer does not read, an unread case: no finding, the
// rule is not assessed for the workflow with the unread part named, and coverage counts the step or
// trigger as read in part.
func TestPrecision(t *testing.T) {
	for _, tt := range []struct {
		file     string
		rule     string
		severity string // of the finding a fire case expects
		unread   string // for an unread case: the part the not-assessed reason names
	}{
		{file: "stage-filter.fire.json", rule: "WD015", severity: analyzer.SeverityError},
		{file: "stage-filter.miss.json", rule: "WD015"},
		{file: "stage-filter.unread.json", rule: "WD015", unread: "opportunity.lead_score (filters[2].field)"},
		{file: "find-opportunity.fire.json", rule: "WD035", severity: analyzer.SeverityError},
		{file: "find-opportunity.miss.json", rule: "WD035"},
		{file: "find-opportunity.unread.json", rule: "WD035", unread: "pipeline_id (attributes.__customInputFields__[0])"},
		{file: "goal.fire.json", rule: "WD026", severity: analyzer.SeverityWarning},
		{file: "goal.miss.json", rule: "WD026"},
		{file: "goal.unread.json", rule: "WD026", unread: "goalGroups (attributes.goalGroups)"},
		{file: "zero-wait.fire.json", rule: "WD007", severity: analyzer.SeverityError},
		{file: "zero-wait-window.fire.json", rule: "WD007", severity: analyzer.SeverityWarning},
		{file: "zero-wait.miss.json", rule: "WD007"},
		{file: "opportunity-action.fire.json", rule: "WD016", severity: analyzer.SeverityWarning},
		{file: "opportunity-action.miss.json", rule: "WD016"},
		{file: "appointment-filter.fire.json", rule: "WD013", severity: analyzer.SeverityWarning},
		{file: "appointment-filter.miss.json", rule: "WD013"},
		{file: "appointment-filter.unread.json", rule: "WD013", unread: "appointment.location_name (filters[1].field)"},
	} {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			rep := mustAnalyzeFile(t, filepath.Join("testdata", "precision", tt.file))
			got := ruleResult(rep, tt.rule)
			switch {
			case tt.severity != "":
				require.NotEmpty(t, got.Findings, "%s must fire", tt.rule)
				for _, f := range got.Findings {
					require.Equal(t, tt.severity, f.Severity, f.Message)
				}
				require.Empty(t, got.NotAssessed)
			case tt.unread != "":
				require.Empty(t, got.Findings, "%s must not judge what it cannot read", tt.rule)
				require.Len(t, got.NotAssessed, 1)
				require.Contains(t, got.NotAssessed[0].Reason, tt.unread)
				c := rep.Coverage
				require.Equal(t, 1, c.Steps.Partial+c.Triggers.Partial, "coverage counts the unread step or trigger")
			default:
				require.Empty(t, got.Findings, "a near miss must not fire")
				require.Empty(t, got.NotAssessed)
				require.Zero(t, rep.Coverage.Steps.Partial+rep.Coverage.Steps.None+rep.Coverage.Triggers.Partial+rep.Coverage.Triggers.None)
			}
		})
	}
}
