package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStrongComponents(t *testing.T) {
	ring := func(n int) [][]int {
		adj := make([][]int, n)
		for i := range adj {
			adj[i] = []int{(i + 1) % n}
		}
		return adj
	}
	chain := func(n int) [][]int {
		adj := make([][]int, n)
		for i := 0; i+1 < n; i++ {
			adj[i] = []int{i + 1}
		}
		return adj
	}
	tests := []struct {
		name string
		adj  [][]int
		want [][]int
	}{
		{name: "empty", adj: nil, want: nil},
		{name: "single node without loop", adj: [][]int{nil}, want: [][]int{{0}}},
		{name: "self loop", adj: [][]int{{0}}, want: [][]int{{0}}},
		{
			// 0 -> 1 -> 2 -> 1 (inner loop), 2 -> 0 (outer loop), 2 -> 3 -> 4 -> 3 (a loop after it).
			name: "nested loops and a loop downstream",
			adj:  [][]int{{1}, {2}, {1, 0, 3}, {4}, {3}},
			want: [][]int{{3, 4}, {0, 1, 2}},
		},
		{
			name: "two loops joined by one edge stay apart",
			adj:  [][]int{{1}, {0, 2}, {3}, {2}},
			want: [][]int{{2, 3}, {0, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, strongComponents(tt.adj))
		})
	}
	t.Run("deep graphs do not overflow", func(t *testing.T) {
		const n = 200_000
		require.Len(t, strongComponents(chain(n)), n)
		comps := strongComponents(ring(n))
		require.Len(t, comps, 1)
		require.Len(t, comps[0], n)
	})
}

func TestAcyclicOrderIgnoresBackEdges(t *testing.T) {
	wf := &Workflow{
		Steps: []Step{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}},
		Edges: []Edge{
			{From: "a", To: "b", Kind: EdgeNext},
			{From: "b", To: "c", Kind: EdgeNext},
			{From: "c", To: "a", Kind: EdgeGoto},
			{From: "b", To: "d", Kind: EdgeBranch},
		},
		Root: "a",
	}
	order, back := acyclicOrder(newGraph(wf))
	require.Equal(t, []bool{false, false, true, false}, back)
	pos := map[int]int{}
	for k, v := range order {
		pos[v] = k
	}
	require.Len(t, order, 4)
	require.Less(t, pos[0], pos[1])
	require.Less(t, pos[1], pos[2])
	require.Less(t, pos[1], pos[3])
}

// mustLocGraph builds the location graph of loc.
func mustLocGraph(tb testing.TB, loc *Location) *locGraph {
	tb.Helper()
	lg := newLocIndex(loc).locGraph()
	require.NotNil(tb, lg)
	return lg
}

func linear(steps ...Step) ([]Step, []Edge) {
	var edges []Edge
	for i := 0; i+1 < len(steps); i++ {
		edges = append(edges, Edge{From: steps[i].ID, To: steps[i+1].ID, Kind: EdgeNext})
	}
	return steps, edges
}

func testWorkflow(id, status string, triggers []Trigger, steps ...Step) Workflow {
	s, e := linear(steps...)
	root := ""
	if len(s) > 0 {
		root = s[0].ID
	}
	return Workflow{ID: id, Name: "Workflow " + id, Status: status, Triggers: triggers, Steps: s, Edges: e, Root: root}
}

func tagTrigger(op string, tags ...string) Trigger {
	return Trigger{Type: TriggerContactTag, Known: true, Active: true, Filters: []Filter{{Field: "tag", Operator: op, Values: tags}}}
}

func TestLocGraphEdges(t *testing.T) {
	loc := &Location{
		Complete: true,
		Context:  &Context{CustomFields: []CustomField{{ID: "cf-1", Key: "contact.lead_status"}}},
		Workflows: []Workflow{
			testWorkflow("writer", StatusPublished, nil,
				Step{ID: "w1", Kind: KindTagAdd, Tags: []string{"  VIP "}},
				Step{ID: "w2", Kind: KindFieldUpdate, Fields: []FieldWrite{{Field: "cf-1", Value: "x"}}},
				Step{ID: "w3", Kind: KindOpportunity, Opportunity: &Opportunity{Op: "update", PipelineID: "pl-1", StageID: "st-1"}},
				Step{ID: "w4", Kind: KindEnroll, Enrollment: &Enrollment{WorkflowIDs: []string{"target"}}},
				Step{ID: "w5", Kind: KindUnenroll, Enrollment: &Enrollment{All: true}},
			),
			testWorkflow("vip", StatusPublished, []Trigger{tagTrigger("in", "vip")}),
			testWorkflow("not-vip", StatusPublished, []Trigger{tagTrigger("neq", "vip")}),
			testWorkflow("any-tag", StatusDraft, []Trigger{{Type: TriggerContactTag, Active: true}}),
			testWorkflow("status", StatusPublished, []Trigger{{Type: TriggerContactChanged, Active: true,
				Filters: []Filter{{Field: "contact.Lead_Status", Operator: "has_changed"}}}}),
			testWorkflow("stage-other-pipeline", StatusPublished, []Trigger{{Type: TriggerPipelineStage, Active: true,
				Filters: []Filter{{Field: "pipeline.id", Values: []string{"pl-2"}}}}}),
			testWorkflow("stage", StatusPublished, []Trigger{{Type: TriggerPipelineStage, Active: true,
				Filters: []Filter{{Field: "pipeline.id", Values: []string{"pl-1"}}, {Field: "pipeline.stage.id", Values: []string{"st-1"}}}}}),
			testWorkflow("target", StatusPublished, nil, Step{ID: "t1", Kind: KindMessage}),
			testWorkflow("inactive", StatusPublished, []Trigger{{Type: TriggerContactTag, Active: false}}),
			testWorkflow("draft-writer", StatusDraft, nil, Step{ID: "d1", Kind: KindTagAdd, Tags: []string{"vip"}}),
		},
	}
	lg := mustLocGraph(t, loc)
	wf := func(id string) *Workflow { return lg.idx.byID[id] }

	type edge struct{ to, step, via, value string }
	var got []edge
	for _, e := range lg.enrollees(wf("writer")) {
		require.Same(t, wf("writer"), e.From)
		got = append(got, edge{e.To.ID, e.Step, e.Via, e.Value})
	}
	require.Equal(t, []edge{
		{"vip", "w1", signalTag, "vip"},
		{"any-tag", "w1", signalTag, "vip"},
		{"status", "w2", signalField, "contact.lead_status"},
		{"stage", "w3", signalStage, "st-1"},
		{"target", "w4", signalEnroll, "target"},
	}, got, "a negated filter, another pipeline and an inactive trigger do not listen")

	require.Empty(t, lg.enrollees(wf("draft-writer")), "a draft's steps never run")
	require.Len(t, lg.enrollers(wf("any-tag")), 1, "edges may end at a draft")
	require.Equal(t, []*Workflow{wf("writer")}, lg.tagWriters("Vip"), "only live workflows count as writers")
	require.Equal(t, `adds tag "vip" (step w1)`, lg.describe(lg.enrollees(wf("writer"))[0]))
	require.Equal(t, `adds the contact to "Workflow target" (step w4)`, lg.describe(lg.enrollees(wf("writer"))[4]))

	var unenroll []write
	for _, w := range lg.writes(wf("writer")) {
		if w.Kind == signalUnenroll {
			unenroll = append(unenroll, w)
		}
	}
	require.Equal(t, []write{{signal: signal{Kind: signalUnenroll, Value: "*"}, Step: "w5"}}, unenroll)

	var listeners []string
	for _, l := range lg.listeners(signal{Kind: signalTag, Value: "other"}) {
		listeners = append(listeners, l.WF.ID)
	}
	require.Equal(t, []string{"not-vip", "any-tag"}, listeners)
}

func TestLocGraphSkipsUnreachableWrites(t *testing.T) {
	w := testWorkflow("w", StatusPublished, nil, Step{ID: "a", Kind: KindMessage})
	w.Steps = append(w.Steps, Step{ID: "orphan", Kind: KindTagAdd, Tags: []string{"x"}})
	lg := mustLocGraph(t, &Location{Workflows: []Workflow{w}})
	require.Empty(t, lg.writes(&lg.idx.loc.Workflows[0]))
	require.Empty(t, lg.tagWriters("x"))
}

func TestEnrollmentLoops(t *testing.T) {
	enroll := func(id string, targets ...string) Step {
		return Step{ID: id, Kind: KindEnroll, Enrollment: &Enrollment{WorkflowIDs: targets}}
	}
	// c -> a -> b -> c is the shortest circle through a; d hangs on it via b -> d -> a; e only enrolls
	// itself; f -> g is no circle; x is a draft closing h -> x -> h.
	loc := &Location{Workflows: []Workflow{
		testWorkflow("c", StatusPublished, nil, enroll("c1", "a")),
		testWorkflow("b", StatusPublished, nil, enroll("b1", "d"), enroll("b2", "c")),
		testWorkflow("a", StatusPublished, nil, enroll("a1", "b")),
		testWorkflow("d", StatusPublished, nil, enroll("d1", "a")),
		testWorkflow("e", StatusPublished, nil, enroll("e1", "e")),
		testWorkflow("f", StatusPublished, nil, enroll("f1", "g")),
		testWorkflow("g", StatusPublished, nil),
		testWorkflow("h", StatusPublished, nil, enroll("h1", "x")),
		testWorkflow("x", StatusDraft, nil, enroll("x1", "h")),
	}}
	loops := mustLocGraph(t, loc).enrollmentLoops()
	require.Len(t, loops, 1)
	var path, members []string
	for _, e := range loops[0].Path {
		path = append(path, e.From.ID+">"+e.To.ID)
	}
	for _, wf := range loops[0].Members {
		members = append(members, wf.ID)
	}
	require.Equal(t, []string{"a>b", "b>d", "d>a"}, path, "b enrolls d before c, so the first shortest circle found goes through d")
	require.Equal(t, []string{"a", "b", "c", "d"}, members)
}

func TestTriggerSignature(t *testing.T) {
	a := Trigger{Type: TriggerFormSubmitted, Filters: []Filter{
		{Field: "form.id", Operator: "eq", Values: []string{"f1"}},
		{Field: "tag", Operator: "in", Values: []string{"B", "a "}},
	}}
	b := Trigger{Type: TriggerFormSubmitted, Filters: []Filter{
		{Field: "tag", Operator: "in", Values: []string{"A", "b"}},
		{Field: "form.id", Operator: "in", Values: []string{"f1"}},
	}}
	c := Trigger{Type: TriggerFormSubmitted, Filters: []Filter{{Field: "form.id", Operator: "in", Values: []string{"f1"}}}}
	require.Equal(t, triggerSignature(&a), triggerSignature(&b))
	require.NotEqual(t, triggerSignature(&a), triggerSignature(&c))
}
