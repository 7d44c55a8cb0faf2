package importer

import (
	"fmt"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// assignIDs returns one id per item: the explicit id when given, otherwise prefix-N with N the item's
// 1-based position, made unique against every other id. The caller has already rejected duplicated
// explicit ids.
func assignIDs(explicit []string, prefix string) []string {
	taken := make(map[string]bool, len(explicit))
	for _, id := range explicit {
		if id != "" {
			taken[id] = true
		}
	}
	out := make([]string, len(explicit))
	for i, id := range explicit {
		if id != "" {
			out[i] = id
			continue
		}
		cand := fmt.Sprintf("%s-%d", prefix, i+1)
		for k := 2; taken[cand]; k++ {
			cand = fmt.Sprintf("%s-%d-%d", prefix, i+1, k)
		}
		taken[cand] = true
		out[i] = cand
	}
	return out
}

// chooseRoot picks the step a trigger without an explicit entry starts at: a step nothing points at
// through next, branch, else, transition or timeout edges (go-to targets can be pointed at and still
// be the entry). Among several it prefers one that does not name an existing parent step (a detached
// child is not an entry), then the first in input order. When every step is pointed at (the workflow
// is one cycle) it is the first step. hasParent may be nil.
func chooseRoot(steps []analyzer.Step, edges []analyzer.Edge, hasParent func(i int) bool) string {
	if len(steps) == 0 {
		return ""
	}
	targeted := make(map[string]bool, len(edges))
	for _, e := range edges {
		if e.Kind != analyzer.EdgeGoto && e.To != "" {
			targeted[e.To] = true
		}
	}
	first := ""
	for i, s := range steps {
		if targeted[s.ID] {
			continue
		}
		if hasParent == nil || !hasParent(i) {
			return s.ID
		}
		if first == "" {
			first = s.ID
		}
	}
	if first != "" {
		return first
	}
	return steps[0].ID
}

// markEventTimeWaits turns appointment-relative waits that come after a set-event-start-date step
// into event-time waits: GHL times them from that date, not from an appointment. It walks forward from
// every event_start_date step over all edges with a visited set, so it is linear and cycles end it.
func markEventTimeWaits(wf *analyzer.Workflow) {
	pos := make(map[string]int, len(wf.Steps))
	var starts []int
	for i, s := range wf.Steps {
		if _, dup := pos[s.ID]; !dup {
			pos[s.ID] = i
		}
		if s.Kind == analyzer.KindEventStartDate {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return
	}
	out := make(map[string][]string, len(wf.Edges))
	for _, e := range wf.Edges {
		out[e.From] = append(out[e.From], e.To)
	}
	seen := make([]bool, len(wf.Steps))
	stack := append([]int(nil), starts...)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, to := range out[wf.Steps[i].ID] {
			j, ok := pos[to]
			if !ok || seen[j] {
				continue
			}
			seen[j] = true
			stack = append(stack, j)
		}
	}
	for i := range wf.Steps {
		if w := wf.Steps[i].Wait; seen[i] && w != nil && w.Mode == analyzer.WaitAppointment {
			w.Mode = analyzer.WaitEventTime
		}
	}
}

// finishWorkflow applies the normalizations every dialect shares once steps and edges are built.
func finishWorkflow(wf *analyzer.Workflow, hasParent func(i int) bool) {
	if wf.Triggers == nil {
		wf.Triggers = []analyzer.Trigger{}
	}
	if wf.Steps == nil {
		wf.Steps = []analyzer.Step{}
	}
	if wf.Edges == nil {
		wf.Edges = []analyzer.Edge{}
	}
	markEventTimeWaits(wf)
	wf.Root = chooseRoot(wf.Steps, wf.Edges, hasParent)
}
