package analyzer

import (
	"math"
	"slices"
)

// Scoring. Each finding does damage by severity; a score is 100·K/(K + damage), where K is
// scoreScale per workflow scored. One error leaves a single workflow at 67 (D), one warning at 86
// (B), one info at 96 (A); the score falls smoothly and never below 0. A location's score uses the
// damage of all its findings against K times its workflow count, so a large location is not failed by
// one bad workflow but is by bad workflows everywhere. Not-assessed rules do no damage and earn
// nothing: they are listed instead.
const (
	damageError   = 25
	damageWarning = 8
	damageInfo    = 2
	scoreScale    = 50
)

func damage(c Counts) int {
	return c.Error*damageError + c.Warning*damageWarning + c.Info*damageInfo
}

func healthScore(dmg, workflows int) int {
	k := float64(scoreScale * max(workflows, 1))
	return int(math.Round(100 * k / (k + float64(dmg))))
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
	for i, wf := range loc.Workflows {
		s := &rep.Workflows[i]
		*s = WorkflowSummary{ID: wf.ID, Name: wf.Name, Status: wf.Status, Steps: len(wf.Steps), UnknownTypes: unknownTypes(&wf)}
		if _, dup := byWF[wf.ID]; !dup {
			byWF[wf.ID] = &s.Counts
		}
	}
	for _, f := range rep.Findings {
		rep.Counts.add(f.Severity)
		if c, ok := byWF[f.WorkflowID]; ok && f.WorkflowID != "" {
			c.add(f.Severity)
		}
	}
	for i := range rep.Workflows {
		s := &rep.Workflows[i]
		s.Counts = *byWF[s.ID]
		s.Score = healthScore(damage(s.Counts), 1)
		s.Grade = Grade(s.Score)
	}
	rep.Score = healthScore(damage(rep.Counts), len(loc.Workflows))
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
			out = append(out, "trigger:"+cmpOr(t.RawType, t.Type))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
	return out, true
}
