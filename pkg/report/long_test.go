package report_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/report"
)

// longWorkflow is a workflow of n steps in one line: an SMS, a one-day wait and a tag, repeated,
// with an if/else every branchEvery steps whose "no" branch rejoins a little further on.
func longWorkflow(n, branchEvery int) analyzer.Workflow {
	wf := analyzer.Workflow{
		ID: "wf-long", Name: "Long nurture", Status: analyzer.StatusPublished,
		Triggers: []analyzer.Trigger{{ID: "t", Type: analyzer.TriggerFormSubmitted, Known: true, Active: true, Name: "Sign-up form"}},
		Root:     "s0",
	}
	for i := range n {
		id := "s" + strconv.Itoa(i)
		var s analyzer.Step
		switch {
		case branchEvery > 0 && i%branchEvery == branchEvery-1:
			s = analyzer.Step{Kind: analyzer.KindCondition, Type: "if_else", Condition: &analyzer.Condition{Branches: []analyzer.Branch{{Name: "Engaged"}}}}
		case i%3 == 0:
			s = analyzer.Step{Kind: analyzer.KindMessage, Type: "sms", Message: &analyzer.Message{Channel: analyzer.ChannelSMS, Body: "Tip of the day. Reply STOP to opt out."}}
		case i%3 == 1:
			s = analyzer.Step{Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"},
				Window: &analyzer.TimeWindow{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}}}
		default:
			s = analyzer.Step{Kind: analyzer.KindTagAdd, Type: "add_contact_tag", Tags: []string{"nurtured"}}
		}
		s.ID, s.Name = id, fmt.Sprintf("Step %d of the nurture sequence", i+1)
		wf.Steps = append(wf.Steps, s)
		if i+1 < n {
			if s.Kind == analyzer.KindCondition {
				wf.Edges = append(wf.Edges, analyzer.Edge{From: id, To: "s" + strconv.Itoa(i+1), Kind: analyzer.EdgeBranch, Label: "Engaged"})
				wf.Edges = append(wf.Edges, analyzer.Edge{From: id, To: "s" + strconv.Itoa(min(i+4, n-1)), Kind: analyzer.EdgeElse, Label: "None"})
			} else {
				wf.Edges = append(wf.Edges, analyzer.Edge{From: id, To: "s" + strconv.Itoa(i+1), Kind: analyzer.EdgeNext})
			}
		}
	}
	return wf
}

var (
	nodeBox  = regexp.MustCompile(`<g class="node (?:step|trigger|run)[^"]*">`)
	svgSize  = regexp.MustCompile(`<svg id="wf-1-drawing" role="img" aria-labelledby="[^"]+" viewBox="0 0 ([0-9.]+) ([0-9.]+)"`)
	anyMark  = regexp.MustCompile(`id="marker-(\d+)"`)
	runBoxes = regexp.MustCompile(`<g class="node run">`)
)

func TestLongWorkflowStaysLegible(t *testing.T) {
	tests := []struct {
		name     string
		wf       analyzer.Workflow
		findings []int // step indexes given a finding
		maxBoxes int
		maxH     float64
	}{
		// 300 steps in a line collapse to a few boxes; the steps with findings stay their own.
		{name: "300 steps in a line", wf: longWorkflow(300, 0), findings: []int{0, 120, 299}, maxBoxes: 10, maxH: 1200},
		// A branch every 25 steps breaks the runs, yet the drawing stays within a few screens.
		{name: "300 steps with a branch every 25", wf: longWorkflow(300, 25), findings: []int{10, 150}, maxBoxes: 80, maxH: 7000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := &analyzer.Location{Workflows: []analyzer.Workflow{tt.wf}}
			rep := analyzer.Analyze(loc)
			for _, i := range tt.findings {
				s := tt.wf.Steps[i]
				rep.Findings = append(rep.Findings, analyzer.Finding{RuleID: "WD004", Category: "graph", Severity: analyzer.SeverityWarning,
					Title: "Synthetic", WorkflowID: tt.wf.ID, StepID: s.ID, StepName: s.Name, Message: "Marked.", Why: "Test.", Fix: "None."})
			}
			page := string(mustRender(t, rep, report.Options{Location: loc}))

			boxes := len(nodeBox.FindAllString(page, -1))
			require.LessOrEqual(t, boxes, tt.maxBoxes, "boxes drawn for %d steps", len(tt.wf.Steps))
			require.NotEmpty(t, runBoxes.FindAllString(page, -1), "long runs are collapsed")
			m := svgSize.FindStringSubmatch(page)
			require.NotNil(t, m)
			h, err := strconv.ParseFloat(m[2], 64)
			require.NoError(t, err)
			require.LessOrEqual(t, h, tt.maxH, "drawing height")
			require.Len(t, anyMark.FindAllString(page, -1), len(rep.Findings), "every finding keeps its marker")
			for _, i := range tt.findings {
				require.Contains(t, page, "<title>"+tt.wf.Steps[i].Name+" — ", "step %d with a finding is drawn on its own", i)
			}
			require.Less(t, len(page), 512<<10)
		})
	}
}

func TestTooLargeToDraw(t *testing.T) {
	// 600 steps with a branch every five collapse to no run at all: more boxes than a drawing stays
	// legible with, and more than dot lays out quickly, so the workflow is listed without a drawing.
	wf := longWorkflow(600, 5)
	loc := &analyzer.Location{Workflows: []analyzer.Workflow{wf, longWorkflow(10, 0)}}
	loc.Workflows[1].ID, loc.Workflows[1].Name = "wf-small", "Small"
	rep := analyzer.Analyze(loc)
	s := wf.Steps[42]
	rep.Findings = append(rep.Findings, analyzer.Finding{RuleID: "WD004", Category: "graph", Severity: analyzer.SeverityWarning,
		Title: "Synthetic", WorkflowID: wf.ID, StepID: s.ID, StepName: s.Name, Message: "Marked.", Why: "Test.", Fix: "None."})
	n := len(rep.Findings)
	page := string(mustRender(t, rep, report.Options{Location: loc}))

	require.NotContains(t, page, `<svg id="wf-1-drawing"`)
	require.Contains(t, page, "more than stay legible (400), so it is left out")
	require.Contains(t, page, `<svg id="wf-2-drawing"`, "the small workflow is still drawn")
	require.Contains(t, page, `id="finding-`+strconv.Itoa(n)+`"`, "the finding is listed")
	require.NotContains(t, page, `id="marker-`+strconv.Itoa(n)+`"`)
	require.NotContains(t, page, `href="#marker-`+strconv.Itoa(n)+`"`, "no link to a marker that is not there")
}
