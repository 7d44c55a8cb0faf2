package analyzer

import (
	"cmp"
	"math"
	"slices"
)

// Scoring. A score is the lower of two numbers, so that it reads the same way at every size:
//
//   - The damage score 100·K/(K + damage): each finding does damage by severity (error 25, warning 8,
//     info 2) and K is scoreScale per workflow scored. It falls smoothly with every finding and never
//     below 0, and a location's damage is spread over its workflows, so a few warnings in a large
//     location barely move it (one warning among 20 workflows leaves 99).
//   - The error ceiling, only when there is an error: errorCeiling − errorSlope·√(errors per
//     workflow). An error misfires for normal traffic, so any error keeps the grade at C or below
//     however large the location (one error among 20 workflows: 74), and the ceiling keeps falling as
//     errors spread (an error in every workflow: 60, D; the auditor's broken sample locations, 11
//     errors in 24 workflows and 28 in 76: 66 and 67, D). The square root lets the first errors of a
//     location count most, as a reader of the report weighs them.
//
// Both parts only fall as findings are added, so adding an error never raises a score. A workflow is
// scored the same way as a location of one workflow. Not-assessed rules do no damage and earn
// nothing: they are listed instead.
const (
	damageError   = 25
	damageWarning = 8
	damageInfo    = 2
	scoreScale    = 50
	errorCeiling  = 78
	errorSlope    = 18
)

func damage(c Counts) int {
	return c.Error*damageError + c.Warning*damageWarning + c.Info*damageInfo
}

// healthScore scores the findings c of workflows workflows (at least one).
func healthScore(c Counts, workflows int) int {
	w := float64(max(workflows, 1))
	k := scoreScale * w
	score := 100 * k / (k + float64(damage(c)))
	if c.Error > 0 {
		score = min(score, errorCeiling-errorSlope*math.Sqrt(float64(c.Error)/w))
	}
	return int(math.Round(max(score, 0)))
}

// Grade maps a score to a letter: A from 90, B from 80, C from 70, D from 60, F below.
func Grade(score int) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	}
	return "F"
}

// score fills the report's counts, per-workflow summaries and location score.
func score(loc *Location, rep *Report) {
	byWF := make(map[string]*Counts, len(loc.Workflows))
	rep.Workflows = make([]WorkflowSummary, len(loc.Workflows))
	var steps, triggers coverageTally
	for i := range loc.Workflows {
		wf, s := &loc.Workflows[i], &rep.Workflows[i]
		*s = WorkflowSummary{ID: wf.ID, Name: wf.Name, Status: wf.Status, Steps: len(wf.Steps), UnknownTypes: unknownTypes(wf), Coverage: coverageOf(wf)}
		steps.merge(s.Coverage.Steps)
		triggers.merge(s.Coverage.Triggers)
		if _, dup := byWF[wf.ID]; !dup {
			byWF[wf.ID] = &s.Counts
		}
	}
	rep.Coverage = Coverage{Steps: steps.counts(), Triggers: triggers.counts()}
	for _, f := range rep.Findings {
		rep.Counts.add(f.Severity)
		if c, ok := byWF[f.WorkflowID]; ok && f.WorkflowID != "" {
			c.add(f.Severity)
		}
	}
	for i := range rep.Workflows {
		s := &rep.Workflows[i]
		s.Counts = *byWF[s.ID]
		s.Score = healthScore(s.Counts, 1)
		s.Grade = Grade(s.Score)
	}
	rep.Score = healthScore(rep.Counts, len(loc.Workflows))
	rep.Grade = Grade(rep.Score)
}

// unknownTypes lists, sorted and once each, the step and trigger types the importer did not know.
func unknownTypes(wf *Workflow) []string {
	var out []string
	for _, s := range wf.Steps {
		if s.Kind == KindUnknown {
			out = append(out, "step:"+s.Type)
		}
	}
	for _, t := range wf.Triggers {
		if !t.Known {
			out = append(out, "trigger:"+cmp.Or(t.RawType, t.Type))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Only narrows a location report to one workflow: its findings, its not-assessed rules (and the
// location-wide ones), its summary, and a score of its own. The content hash is derived from the
// location's and the workflow id, so the narrowed result has a key of its own. ok is false when the
// report has no such workflow.
func (r *Report) Only(workflowID string) (narrowed *Report, ok bool) {
	i := slices.IndexFunc(r.Workflows, func(s WorkflowSummary) bool { return s.ID == workflowID })
	if i < 0 {
		return nil, false
	}
	out := &Report{
		AnalyzerVersion: r.AnalyzerVersion, ContentHash: WorkflowHash(r.ContentHash, workflowID),
		LocationID: r.LocationID, Workflows: []WorkflowSummary{r.Workflows[i]},
		Findings: []Finding{}, NotAssessed: []NotAssessed{},
	}
	for _, f := range r.Findings {
		if f.WorkflowID == workflowID {
			out.Findings = append(out.Findings, f)
			out.Counts.add(f.Severity)
		}
	}
	for _, n := range r.NotAssessed {
		if n.WorkflowID == workflowID || n.WorkflowID == "" {
			out.NotAssessed = append(out.NotAssessed, n)
		}
	}
	out.Score, out.Grade = out.Workflows[0].Score, out.Workflows[0].Grade
	out.Coverage = out.Workflows[0].Coverage
	return out, true
}
