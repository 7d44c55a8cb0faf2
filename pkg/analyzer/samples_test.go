package analyzer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// samplesDir is the open-source auditor's public sample data (MIT, see its LICENSE), kept in the
// repository so the tests need nothing beside it.
var samplesDir = filepath.Join("testdata", "samples", "ghl-workflow-auditor")

func mustAnalyzeSample(tb testing.TB, name string) *analyzer.Report {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir, name))
	require.NoError(tb, err)
	res, err := importer.Parse(data, importer.DefaultOptions())
	require.NoError(tb, err)
	return analyzer.Analyze(res.Location)
}

// TestSampleDefectsFound analyses the open-source auditor's seeded accounts and requires the defects
// they seed that our rules cover. Each row names the seeded defect.
func TestSampleDefectsFound(t *testing.T) {
	type seeded struct {
		workflow, rule, defect string
	}
	common := []seeded{
		{"wf_noshow", "WD013", "appointment trigger with no status or calendar filter feeds bookings into no-show recovery"},
		{"wf_noshow", "WD025", "re-entry on and a create-opportunity step with no find before it"},
		{"wf_reminders", "WD016", "deprecated Customer Booked Appointment trigger beside an Appointment Status one"},
		{"wf_reminders", "WD029", "reminders held by a window judged in the account's time zone"},
		{"wf_sandbox", "WD038", "a published sandbox workflow"},
		{"wf_hot_alert", "WD019", "hot-lead and nurture-me tags start each other's workflows"},
		{"wf_speed", "WD001", "next points at a step that does not exist"},
		{"wf_speed", "WD004", "a detached follow-up step"},
		{"wf_speed", "WD008", "reply wait with an unlimited timeout"},
		{"wf_welcome_sms", "WD035", "a from-number the location does not own"},
		{"wf_welcome_sms", "WD036", "misspelled custom field in a merge tag"},
		{"wf_intake", "WD037", "risky webhook"},
		{"wf_order_intake", "WD003", "a waiting loop with no way out"},
		{"wf_n8n_gateway", "WD039", "n8n node types the importer does not know"},
	}
	broken := append(common,
		seeded{"wf_cs_overnight", "WD028", "sending window 07:00-22:00"},
		seeded{"wf_cs_apptkeyword", "WD033", "CANCEL asked for to cancel an appointment"},
		seeded{"di-dormant-reactivation", "WD032", "a workflow that clears DND before a win-back text"},
		seeded{"wf_scale_quote_runaway", "WD002", "a go-to loop with no wait"},
		seeded{"wf_cb_backwards", "WD011", "reminder ladder out of order"},
		seeded{"wf_obs_inventory", "WD037", "webhook to a risky host"},
		seeded{"wf_cs_sameday", "WD023", "outreach with no reply handling"},
	)
	for _, tt := range []struct {
		name      string
		file      string
		workflows int
		want      []seeded
	}{
		{name: "base-account", file: "base-account.json", workflows: 24, want: common},
		{name: "broken-account", file: "broken-account.json", workflows: 76, want: broken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := mustAnalyzeSample(t, tt.file)
			require.Len(t, rep.Workflows, tt.workflows)
			found := map[[2]string]bool{}
			for _, f := range rep.Findings {
				found[[2]string{f.WorkflowID, f.RuleID}] = true
			}
			for _, s := range tt.want {
				require.True(t, found[[2]string{s.workflow, s.rule}], "%s: %s not found on %s (%s)", tt.file, s.rule, s.workflow, s.defect)
			}
			// Without SMS compliance settings in the bundle, WD031 must be not assessed, never passed.
			notAssessed := map[string]bool{}
			for _, n := range rep.NotAssessed {
				notAssessed[n.RuleID] = true
			}
			require.True(t, notAssessed["WD031"])
		})
	}
}

// TestDeterministic: the same input gives a byte-identical report, and the content hash follows the
// input.
func TestDeterministic(t *testing.T) {
	first, err := json.Marshal(mustAnalyzeSample(t, "broken-account.json"))
	require.NoError(t, err)
	for range 3 {
		again, err := json.Marshal(mustAnalyzeSample(t, "broken-account.json"))
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
	base := mustAnalyzeSample(t, "base-account.json")
	broken := mustAnalyzeSample(t, "broken-account.json")
	require.NotEqual(t, base.ContentHash, broken.ContentHash)
	require.Len(t, broken.ContentHash, 64)
}

// TestReportOnly narrows a location report to one workflow.
func TestReportOnly(t *testing.T) {
	rep := mustAnalyzeSample(t, "base-account.json")
	only, ok := rep.Only("wf_speed")
	require.True(t, ok)
	require.Len(t, only.Workflows, 1)
	require.NotEmpty(t, only.Findings)
	for _, f := range only.Findings {
		require.Equal(t, "wf_speed", f.WorkflowID)
	}
	require.Equal(t, only.Workflows[0].Score, only.Score)
	require.Equal(t, only.Workflows[0].Counts, only.Counts)
	require.NotEqual(t, rep.ContentHash, only.ContentHash)
	_, ok = rep.Only("no-such-workflow")
	require.False(t, ok)
}

func TestGrade(t *testing.T) {
	for _, tt := range []struct {
		name  string
		score int
		want  string
	}{
		{"top", 100, "A"}, {"A floor", 90, "A"}, {"B", 89, "B"}, {"B floor", 80, "B"}, {"C", 79, "C"},
		{"D", 60, "D"}, {"F", 59, "F"}, {"zero", 0, "F"},
	} {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, analyzer.Grade(tt.score)) })
	}
}

// TestScoreWeights pins the documented scoring: one error leaves a workflow at 60 (the error ceiling
// for an error in every workflow), one warning at 86, one info at 96, and a clean workflow at 100.
func TestScoreWeights(t *testing.T) {
	rep := analyzeFixture(t, filepath.Join("testdata", "report", "scoring.json"))
	scores := map[string]int{}
	for _, s := range rep.Workflows {
		scores[s.ID] = s.Score
	}
	require.Equal(t, map[string]int{"clean": 100, "one-error": 60, "one-warning": 86, "one-info": 96}, scores)
}

// TestSampleGrades: both of the open-source auditor's sample locations are broken on purpose (errors
// that misfire for normal traffic in many workflows), so they grade D or F, never average.
func TestSampleGrades(t *testing.T) {
	for _, name := range []string{"base-account.json", "broken-account.json"} {
		t.Run(name, func(t *testing.T) {
			rep := mustAnalyzeSample(t, name)
			require.Greater(t, rep.Counts.Error, 0)
			require.Contains(t, []string{"D", "F"}, rep.Grade, "score %d", rep.Score)
		})
	}
}

// TestRender checks the text and markdown reports against golden files.
func TestRender(t *testing.T) {
	rep := analyzeFixture(t, filepath.Join("testdata", "report", "scoring.json"))
	for _, format := range []string{analyzer.FormatText, analyzer.FormatMarkdown, analyzer.FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var b []byte
			w := &byteWriter{&b}
			require.NoError(t, analyzer.Write(w, rep, format))
			checkGoldenBytes(t, filepath.Join("testdata", "report", "scoring."+format+".golden"), b)
		})
	}
	require.Error(t, analyzer.Write(&byteWriter{new([]byte)}, rep, "html"))
}

type byteWriter struct{ b *[]byte }

func (w *byteWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

func checkGoldenBytes(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		require.NoError(tb, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "golden file missing: run go test ./pkg/analyzer -update")
	require.Equal(tb, string(want), string(got), "golden %s differs; if the change is intended run go test ./pkg/analyzer -update", path)
}

func TestCountsMaxRank(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    analyzer.Counts
		want int
	}{
		{"none", analyzer.Counts{}, 0},
		{"info", analyzer.Counts{Info: 2}, 1},
		{"warning", analyzer.Counts{Warning: 1, Info: 3}, 2},
		{"error", analyzer.Counts{Error: 1, Warning: 1}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, tt.c.MaxRank()) })
	}
}
