package analyzer

// locIndex holds what several rules need about the whole location, built once per analysis.
type locIndex struct {
	loc *Location
	// byID maps a workflow id to the workflow; duplicated ids keep the first.
	byID   map[string]*Workflow
	graphs map[*Workflow]*graph
	// lg is the location graph (locgraph.go), built on first use by locGraph.
	lg *locGraph
}

func newLocIndex(loc *Location) *locIndex {
	idx := &locIndex{loc: loc, byID: make(map[string]*Workflow, len(loc.Workflows)), graphs: make(map[*Workflow]*graph, len(loc.Workflows))}
	for i := range loc.Workflows {
		wf := &loc.Workflows[i]
		if _, dup := idx.byID[wf.ID]; !dup {
			idx.byID[wf.ID] = wf
		}
	}
	return idx
}

// graph returns the workflow's graph, building it on first use.
func (idx *locIndex) graph(wf *Workflow) *graph {
	g, ok := idx.graphs[wf]
	if !ok {
		g = newGraph(wf)
		idx.graphs[wf] = g
	}
	return g
}
