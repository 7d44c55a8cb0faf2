package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// locationChart draws which workflow starts which: one box per workflow that starts or is started by
// another, one arrow per pair (labelled with what the step does, or how many links join them), the
// arrows of a loop drawn thick and dashed and labelled "cycle", the workflows in a loop marked too.
// anchors maps a workflow id to its section on the page; whole holds the markers of findings about
// the location as a whole, drawn above the graph. It returns nil when there is nothing to draw.
func locationChart(loc *analyzer.Location, links []analyzer.Link, anchors map[string]string, whole []marker) (*chart, int) {
	if len(links) == 0 && len(whole) == 0 {
		return nil, 0
	}
	byID := map[string]*analyzer.Workflow{}
	for i := range loc.Workflows {
		if _, dup := byID[loc.Workflows[i].ID]; !dup {
			byID[loc.Workflows[i].ID] = &loc.Workflows[i]
		}
	}
	node := map[string]int{}
	inCycle := map[string]bool{}
	for _, l := range links {
		if l.Cycle {
			inCycle[l.From], inCycle[l.To] = true, true
		}
	}
	type pair struct{ from, to string }
	var order []pair
	grouped := map[pair][]analyzer.Link{}
	for _, l := range links {
		p := pair{l.From, l.To}
		if _, ok := grouped[p]; !ok {
			order = append(order, p)
		}
		grouped[p] = append(grouped[p], l)
	}
	var nodes []chartNode
	addNode := func(id string) int {
		if i, ok := node[id]; ok {
			return i
		}
		wf := byID[id]
		name, status := id, ""
		if wf != nil {
			name, status = cmpName(wf), wf.Status
		}
		class, kind := "workflow", "Published"
		if status == analyzer.StatusDraft {
			class, kind = "workflow draft", "Draft"
		}
		if inCycle[id] {
			class += " cycle"
			kind = "↻ in a cycle · " + kind
		}
		href := ""
		if a, ok := anchors[id]; ok {
			href = "#" + a
		}
		node[id] = len(nodes)
		nodes = append(nodes, chartNode{name: name, kind: kind, class: class, tooltip: name + " — " + kind, href: href, height: boxHeight})
		return node[id]
	}
	var edges []chartEdge
	cycles := 0
	for _, p := range order {
		ls := grouped[p]
		e := chartEdge{from: addNode(p.from), to: addNode(p.to), class: "edge link"}
		if slices.ContainsFunc(ls, func(l analyzer.Link) bool { return l.Cycle }) {
			e.class += " cycle"
			cycles++
		}
		if !slices.ContainsFunc(ls, func(l analyzer.Link) bool { return !l.Uncertain }) {
			e.class += " uncertain"
		}
		if len(ls) == 1 {
			e.label = linkLabel(ls[0])
		} else {
			e.label = fmt.Sprintf("%d links", len(ls))
		}
		if strings.Contains(e.class, "cycle") {
			e.label = "↻ " + e.label
		}
		edges = append(edges, e)
	}
	desc := fmt.Sprintf("%d %s that start or are started by another, joined by %d %s", len(nodes), analyzer.Plural(len(nodes), "workflow"), len(edges), analyzer.Plural(len(edges), "arrow"))
	if cycles > 0 {
		desc += fmt.Sprintf("; %d %s lie on a cycle, drawn thick and dashed and marked ↻", cycles, analyzer.Plural(cycles, "arrow"))
	}
	return &chart{
		id: "location-graph", nodes: nodes, edges: edges, band: whole, bandLabel: "Whole location",
		title: "Which workflow starts which", desc: desc + ". Each box links to its workflow's section.",
	}, cycles
}

// linkLabel says what a link's step does in a few words.
func linkLabel(l analyzer.Link) string {
	switch l.Via {
	case "tag":
		return "tag " + l.Value
	case "field":
		return "field " + l.Value
	case "stage":
		return "stage"
	case "enroll":
		return "add to workflow"
	}
	return l.Via
}

func cmpName(wf *analyzer.Workflow) string {
	if strings.TrimSpace(wf.Name) != "" {
		return wf.Name
	}
	return "Workflow " + wf.ID
}
