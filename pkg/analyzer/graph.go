package analyzer

import "slices"

// graph indexes one workflow's steps and edges for the rules. It is built once per workflow per
// analysis, in time linear in steps plus edges.
type graph struct {
	wf *Workflow
	// pos maps a step id to its index in wf.Steps; duplicated ids keep the first.
	pos map[string]int
	// out and in hold edge indexes into wf.Edges per step index.
	out [][]int
	in  [][]int
	// entries are the step indexes contacts start at: each active trigger's entry and the root.
	entries []int
	// reachable marks steps reachable from an entry, following every edge (go-to included).
	reachable []bool
	// comp is the strongly connected component of each step; compSize counts its steps, and a
	// component of one step is a cycle only when the step points to itself.
	comp     []int
	compSize []int
	// timing is built on first use by the rules that ask what wait releases each step.
	timing *timing
}

// timings returns which waits release each step, computed once per analysis (paths.go).
func (g *graph) timings() *timing {
	if g.timing == nil {
		g.timing = newTiming(g)
	}
	return g.timing
}

func newGraph(wf *Workflow) *graph {
	n := len(wf.Steps)
	g := &graph{wf: wf, pos: make(map[string]int, n), out: make([][]int, n), in: make([][]int, n)}
	for i := range wf.Steps {
		if _, dup := g.pos[wf.Steps[i].ID]; !dup {
			g.pos[wf.Steps[i].ID] = i
		}
	}
	for ei, e := range wf.Edges {
		from, okFrom := g.pos[e.From]
		to, okTo := g.pos[e.To]
		if okFrom {
			g.out[from] = append(g.out[from], ei)
		}
		if okTo {
			g.in[to] = append(g.in[to], ei)
		}
	}
	seen := make([]bool, n)
	addEntry := func(id string) {
		if i, ok := g.pos[id]; ok && !seen[i] {
			seen[i] = true
			g.entries = append(g.entries, i)
		}
	}
	for _, t := range wf.Triggers {
		if t.EntryStepID != "" {
			addEntry(t.EntryStepID)
		}
	}
	addEntry(wf.Root)
	g.reachable = g.walk(g.entries, func(Edge) bool { return true })
	g.components()
	return g
}

// step returns the step with id, or nil.
func (g *graph) step(id string) *Step {
	if i, ok := g.pos[id]; ok {
		return &g.wf.Steps[i]
	}
	return nil
}

// outEdges returns the edges leaving step index i.
func (g *graph) outEdges(i int) []Edge {
	es := make([]Edge, 0, len(g.out[i]))
	for _, ei := range g.out[i] {
		es = append(es, g.wf.Edges[ei])
	}
	return es
}

// successors returns the step indexes step i leads to along edges that follow accepts.
func (g *graph) successors(i int, follow func(Edge) bool) []int {
	var next []int
	for _, ei := range g.out[i] {
		e := g.wf.Edges[ei]
		if j, ok := g.pos[e.To]; ok && follow(e) {
			next = append(next, j)
		}
	}
	return next
}

// walk marks every step reachable from starts along edges that follow accepts; starts are marked.
func (g *graph) walk(starts []int, follow func(Edge) bool) []bool {
	mark := make([]bool, len(g.wf.Steps))
	stack := append([]int(nil), starts...)
	for _, s := range starts {
		mark[s] = true
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ei := range g.out[i] {
			e := g.wf.Edges[ei]
			if j, ok := g.pos[e.To]; ok && !mark[j] && follow(e) {
				mark[j] = true
				stack = append(stack, j)
			}
		}
	}
	return mark
}

// components computes the strongly connected components of the steps.
func (g *graph) components() {
	// One backing array for every adjacency list: each edge adds at most one entry, so it never grows.
	adj := make([][]int, len(g.wf.Steps))
	flat := make([]int, 0, len(g.wf.Edges))
	for i := range adj {
		start := len(flat)
		for _, ei := range g.out[i] {
			if j, ok := g.pos[g.wf.Edges[ei].To]; ok {
				flat = append(flat, j)
			}
		}
		adj[i] = flat[start:len(flat):len(flat)]
	}
	comps := strongComponents(adj)
	g.comp = make([]int, len(adj))
	g.compSize = make([]int, len(comps))
	for c, members := range comps {
		g.compSize[c] = len(members)
		for _, i := range members {
			g.comp[i] = c
		}
	}
}

// strongComponents returns the strongly connected components of the graph whose adjacency lists adj
// gives, each component's nodes in increasing order, the components in the order Tarjan's algorithm
// completes them (successors first). It is iterative, so deep graphs cannot overflow the stack, and
// runs in time linear in nodes plus edges.
func strongComponents(adj [][]int) [][]int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	next := 0
	type frame struct{ v, edge int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.edge < len(adj[v]) {
				w := adj[v][f.edge]
				f.edge++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				if p := call[len(call)-1].v; low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				slices.Sort(comp)
				comps = append(comps, comp)
			}
		}
	}
	return comps
}

// cycles returns the step indexes of each cycle (strongly connected component with a loop), each
// list in step order, the lists ordered by their first step.
func (g *graph) cycles() [][]int {
	byComp := map[int][]int{}
	var order []int
	for i := range g.wf.Steps {
		c := g.comp[i]
		if g.compSize[c] == 1 && !g.selfLoop(i) {
			continue
		}
		if _, ok := byComp[c]; !ok {
			order = append(order, c)
		}
		byComp[c] = append(byComp[c], i)
	}
	out := make([][]int, 0, len(order))
	for _, c := range order {
		out = append(out, byComp[c])
	}
	return out
}

func (g *graph) selfLoop(i int) bool {
	for _, ei := range g.out[i] {
		if g.wf.Edges[ei].To == g.wf.Steps[i].ID {
			return true
		}
	}
	return false
}
