// Views of the analysis for readers outside the analyzer, such as the client report (pkg/report).

package analyzer

import "strings"

// Link is one edge of the location graph for readers outside the analyzer, such as the client
// report's drawing of which workflow starts which: a step of workflow From starts the contact into
// workflow To.
type Link struct {
	// From and To are workflow ids.
	From string `json:"from"`
	To   string `json:"to"`
	// Step is the id of the step of From that causes it.
	Step string `json:"step"`
	// Via is what the step does: "tag" (adds a tag), "field" (writes a contact field), "stage" (moves
	// an opportunity to a stage) or "enroll" (add-to-workflow).
	Via string `json:"via"`
	// Value is the tag, field key, stage id or workflow id the step writes.
	Value string `json:"value"`
	// Describe says in words what the step does, as findings word it: `adds tag "vip" (step "Tag it")`.
	Describe string `json:"describe"`
	// Uncertain marks a link through a trigger filtered on something the analyzer cannot read: the
	// step may or may not start To.
	Uncertain bool `json:"uncertain,omitempty"`
	// Cycle marks a link inside a group of live workflows that start each other in a circle (through
	// links that are not uncertain), or from a workflow to itself.
	Cycle bool `json:"cycle,omitempty"`
}

// Links returns the location graph's links in location order of their From workflow, then step
// order: the same graph the cross-workflow rules (LOC) read. Only live workflows start contacts, so
// only they are a From; a To may be a draft.
func Links(loc *Location) []Link {
	idx := newLocIndex(loc)
	lg := idx.locGraph()
	nodes, certain, _ := lg.liveAdjacency()
	comp := make(map[*Workflow]int, len(nodes))
	for c, members := range strongComponents(certain) {
		for _, v := range members {
			comp[nodes[v]] = c
		}
	}
	compSize := make(map[int]int, len(comp))
	for _, c := range comp {
		compSize[c]++
	}
	var out []Link
	for i := range loc.Workflows {
		wf := &loc.Workflows[i]
		if !live(wf) {
			continue
		}
		for _, e := range lg.enrollees(wf) {
			c, ok := comp[e.To]
			cycle := !e.Uncertain && (e.To == e.From || (ok && c == comp[e.From] && compSize[c] > 1))
			out = append(out, Link{
				From: e.From.ID, To: e.To.ID, Step: e.Step, Via: e.Via, Value: e.Value,
				Describe: strings.TrimSpace(lg.describe(e)), Uncertain: e.Uncertain, Cycle: cycle,
			})
		}
	}
	return out
}

// Line says in one sentence how much of the input the analyzer read, naming what it could not: the
// coverage line that ends the text and Markdown reports.
func (c Coverage) Line() string { return coverageLine(c) }
