package analyzer_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// structuralRules judge only how steps are connected, so what a step's configuration holds, read or
// not, does not change their findings.
var structuralRules = []string{"WD001", "WD004", "WD005", "WD006", "WD039"}

// ownTriggerRules judge what a workflow's own triggers listen to.
var ownTriggerRules = []string{"WD013", "WD014", "WD015"}

// TestNoFindingOnUnread analyses every sample, pack and fixture of the repository and fails when a
// finding rests on something the importer could not read: a finding at a step with unread parts from
// a rule that reads step configuration, or a finding about a workflow's own triggers when every one of
// its active triggers is filtered on something unknown.
func TestNoFindingOnUnread(t *testing.T) {
	var inputs []string
	for _, pattern := range []string{
		filepath.Join(samplesDir, "*.json"), filepath.Join(samplesDir, "packs", "*.json"),
		filepath.Join("testdata", "precision", "*.json"), filepath.Join("testdata", "rules", "*.json"),
		filepath.Join("testdata", "report", "*.json"), filepath.Join("importer", "testdata", "*.json"),
	} {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		inputs = append(inputs, files...)
	}
	require.Greater(t, len(inputs), 100)
	for _, path := range inputs {
		if filepath.Base(path) == "audit-config.json" || bytes.HasSuffix([]byte(path), []byte(".golden.json")) {
			continue
		}
		t.Run(path, func(t *testing.T) {
			loc := mustLoadLocation(t, path)
			rep := analyzer.Analyze(loc)
			steps := map[[2]string]*analyzer.Step{}
			known := map[string]bool{} // workflows with an active trigger whose filters are all understood
			for i := range loc.Workflows {
				wf := &loc.Workflows[i]
				for j := range wf.Steps {
					steps[[2]string{wf.ID, wf.Steps[j].ID}] = &wf.Steps[j]
				}
				for j := range wf.Triggers {
					if tr := &wf.Triggers[j]; tr.Active && len(tr.UnknownFilters()) == 0 {
						known[wf.ID] = true
					}
				}
			}
			for _, f := range rep.Findings {
				if s := steps[[2]string{f.WorkflowID, f.StepID}]; s != nil && len(s.Unread) > 0 {
					require.Contains(t, structuralRules, f.RuleID, "%s at step %s rests on unread %v: %s", f.RuleID, f.StepID, s.Unread, f.Message)
				}
				if slices.Contains(ownTriggerRules, f.RuleID) {
					require.True(t, known[f.WorkflowID], "%s on %s, whose triggers are all filtered on something unknown: %s", f.RuleID, f.WorkflowID, f.Message)
				}
			}
		})
	}
}

// mustLoadLocation reads a file of any dialect; normalized rule fixtures that the importer would
// refuse as a document (they are model values) are decoded directly.
func mustLoadLocation(tb testing.TB, path string) *analyzer.Location {
	tb.Helper()
	data, err := os.ReadFile(path)
	require.NoError(tb, err)
	if res, err := importer.Parse(data, importer.DefaultOptions()); err == nil {
		return res.Location
	}
	var loc analyzer.Location
	require.NoError(tb, json.Unmarshal(data, &loc), path)
	return &loc
}
