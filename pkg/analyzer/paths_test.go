package analyzer

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// mustGraph builds the graph of a workflow made of the given steps and edges, starting at the first
// step.
func mustGraph(tb testing.TB, steps []Step, edges []Edge) *graph {
	tb.Helper()
	require.NotEmpty(tb, steps)
	wf := &Workflow{ID: "wf", Steps: steps, Edges: edges, Root: steps[0].ID}
	return newGraph(wf)
}

func timeWait(id string, minutes float64, window *TimeWindow) Step {
	return Step{ID: id, Kind: KindWait, Wait: &Wait{Mode: WaitTime, Duration: &Duration{Value: minutes, Unit: "minutes"}, Window: window}}
}

func plainStep(id string) Step { return Step{ID: id, Kind: KindAction} }

func nextEdge(from, to string) Edge { return Edge{From: from, To: to, Kind: EdgeNext} }

func TestTiming(t *testing.T) {
	window := &TimeWindow{Start: "09:00", End: "17:00"}
	type expect struct {
		step     string
		src      timingSource
		windowed bool
		// via is the wait step id expected to have set the source; "" for the trigger.
		via string
	}
	tests := []struct {
		name  string
		steps []Step
		edges []Edge
		has   []expect
		lacks []expect
	}{
		{
			name:  "a step right after the trigger is timed by the trigger",
			steps: []Step{plainStep("a"), plainStep("b")},
			edges: []Edge{nextEdge("a", "b")},
			has:   []expect{{step: "b", src: fromTrigger}},
			lacks: []expect{{step: "b", src: fromFixedWait}},
		},
		{
			name:  "a time wait releases at a fixed moment, windowed when it has a window",
			steps: []Step{timeWait("w1", 60, nil), plainStep("a"), timeWait("w2", 60, window), plainStep("b")},
			edges: []Edge{nextEdge("w1", "a"), nextEdge("a", "w2"), nextEdge("w2", "b")},
			has:   []expect{{step: "a", src: fromFixedWait, via: "w1"}, {step: "b", src: fromFixedWait, windowed: true, via: "w2"}},
			lacks: []expect{{step: "b", src: fromFixedWait}, {step: "a", src: fromTrigger}},
		},
		{
			name:  "a zero wait does not pause and passes the timing through",
			steps: []Step{timeWait("w1", 60, nil), timeWait("zero", 0, nil), plainStep("a")},
			edges: []Edge{nextEdge("w1", "zero"), nextEdge("zero", "a")},
			has:   []expect{{step: "a", src: fromFixedWait, via: "w1"}},
		},
		{
			name:  "a zero wait with a window holds whatever timed the contact before",
			steps: []Step{timeWait("w1", 60, nil), timeWait("gate", 0, window), plainStep("a")},
			edges: []Edge{nextEdge("w1", "gate"), nextEdge("gate", "a")},
			has:   []expect{{step: "a", src: fromFixedWait, windowed: true, via: "w1"}},
			lacks: []expect{{step: "a", src: fromFixedWait}},
		},
		{
			name: "branches that rejoin bring the worst case of both paths",
			steps: []Step{
				{ID: "if", Kind: KindCondition}, timeWait("safe", 60, window), timeWait("bare", 180, nil), plainStep("join"),
			},
			edges: []Edge{
				{From: "if", To: "safe", Kind: EdgeBranch}, {From: "if", To: "bare", Kind: EdgeElse},
				nextEdge("safe", "join"), nextEdge("bare", "join"),
			},
			has: []expect{{step: "join", src: fromFixedWait, via: "bare"}, {step: "join", src: fromFixedWait, windowed: true, via: "safe"}},
		},
		{
			name: "an event wait releases on the event, and on its timeout at a fixed moment",
			steps: []Step{
				{ID: "reply", Kind: KindWait, Wait: &Wait{Mode: WaitReply, Timeout: &Duration{Value: 1, Unit: "days"}}},
				plainStep("replied"), plainStep("silent"),
			},
			edges: []Edge{nextEdge("reply", "replied"), {From: "reply", To: "silent", Kind: EdgeTimeout}},
			has:   []expect{{step: "replied", src: fromEventWait, via: "reply"}, {step: "silent", src: fromFixedWait, via: "reply"}},
			lacks: []expect{{step: "replied", src: fromFixedWait}, {step: "silent", src: fromEventWait}},
		},
		{
			name: "appointment waits before and after the appointment",
			steps: []Step{
				{ID: "before", Kind: KindWait, Wait: &Wait{Mode: WaitAppointment, Offset: &Offset{When: "before", Minutes: 60}}},
				plainStep("reminder"),
				{ID: "after", Kind: KindWait, Wait: &Wait{Mode: WaitEventTime, Offset: &Offset{When: "after", Minutes: 120}}},
				plainStep("review"),
			},
			edges: []Edge{nextEdge("before", "reminder"), nextEdge("reminder", "after"), nextEdge("after", "review")},
			has:   []expect{{step: "reminder", src: fromBeforeEvent, via: "before"}, {step: "review", src: fromAfterEvent, via: "after"}},
			lacks: []expect{{step: "review", src: fromBeforeEvent}},
		},
		{
			name:  "a loop through a wait reaches its head both from the trigger and from the wait",
			steps: []Step{plainStep("head"), timeWait("w", 60, nil), plainStep("tail")},
			edges: []Edge{nextEdge("head", "w"), nextEdge("w", "tail"), {From: "tail", To: "head", Kind: EdgeGoto}},
			has:   []expect{{step: "head", src: fromTrigger}, {step: "head", src: fromFixedWait, via: "w"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGraph(t, tt.steps, tt.edges)
			tm := newTiming(g)
			for _, e := range tt.has {
				i := g.pos[e.step]
				require.True(t, tm.has(i, e.src, e.windowed), "%s should be reached with source %d windowed=%v", e.step, e.src, e.windowed)
				want := -1
				if e.via != "" {
					want = g.pos[e.via]
				}
				require.Equal(t, want, tm.viaWait(i, e.src, e.windowed), "wait that timed %s", e.step)
			}
			for _, e := range tt.lacks {
				require.False(t, tm.has(g.pos[e.step], e.src, e.windowed), "%s should not be reached with source %d windowed=%v", e.step, e.src, e.windowed)
			}
		})
	}
}

func TestTimingIsLinearOnLongChains(t *testing.T) {
	// A chain of waits and messages with a go-to back to the start: every step is revisited a bounded
	// number of times, so a 20,000-step workflow finishes at once.
	const n = 20000
	steps := make([]Step, n)
	edges := make([]Edge, 0, n)
	for i := range steps {
		id := stepID(i)
		if i%2 == 0 {
			steps[i] = timeWait(id, 60, nil)
		} else {
			steps[i] = plainStep(id)
		}
		if i > 0 {
			edges = append(edges, nextEdge(stepID(i-1), id))
		}
	}
	edges = append(edges, Edge{From: stepID(n - 1), To: stepID(0), Kind: EdgeGoto})
	g := mustGraph(t, steps, edges)
	tm := newTiming(g)
	require.True(t, tm.has(0, fromFixedWait, false), "the go-to brings the last wait's timing back to the start")
	require.True(t, tm.has(n-1, fromFixedWait, false))
}

func stepID(i int) string { return "s" + strconv.Itoa(i) }

func TestReachStopping(t *testing.T) {
	isFind := func(s *Step) bool { return s.Kind == KindOpportunity }
	g := mustGraph(t,
		[]Step{{ID: "if", Kind: KindCondition}, {ID: "find", Kind: KindOpportunity}, plainStep("guarded"), plainStep("open"), plainStep("after")},
		[]Edge{
			{From: "if", To: "find", Kind: EdgeBranch}, {From: "if", To: "open", Kind: EdgeElse},
			nextEdge("find", "guarded"), nextEdge("open", "after"),
		})
	mark := reachStopping(g, isFind)
	require.True(t, mark[g.pos["find"]], "a stop step is reached")
	require.False(t, mark[g.pos["guarded"]], "nothing past a stop step is reached")
	require.True(t, mark[g.pos["open"]])
	require.True(t, mark[g.pos["after"]])
}
