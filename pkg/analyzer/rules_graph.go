package analyzer

import (
	"fmt"
	"strings"
)

// Graph rules: the shape of one workflow's steps and edges.

func init() { register(wd001, wd002, wd003, wd004, wd005, wd006) }

var wd001 = &rule{
	doc: RuleDoc{
		ID: "WD001", Category: "graph", Severity: SeverityError, Title: "Dangling reference",
		Summary: "A next, branch, path, go-to target, trigger entry or the start step names a step that does not exist.",
		Why: "GHL follows `next` (not `order` or `parentKey`) at run time. When it names a step that was deleted, or a go-to " +
			"targets one, the contact's run simply stops there without an error in the builder, so every later step is skipped.",
		Fix:     "Open the step in the GHL builder and reconnect its next step, branch, path or go-to target to an existing action (or re-point the trigger), then save and re-publish.",
		Example: "An if/else whose \"Yes\" branch still points at an SMS step that was deleted.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow:   checkDanglingReferences,
	structural: true,
}

func checkDanglingReferences(p *pass) {
	g := p.g
	type ref struct{ from, to string }
	seen := map[ref]bool{}
	for _, e := range p.wf.Edges {
		from := g.step(e.From)
		if from == nil || e.To == "" || g.step(e.To) != nil || seen[ref{e.From, e.To}] {
			continue
		}
		seen[ref{e.From, e.To}] = true
		p.report(e.From, "%s points at step %q, which does not exist, so contacts stop there.", capitalize(edgeLabel(e, from)), e.To)
	}
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.GotoTarget != "" && g.step(s.GotoTarget) == nil && !seen[ref{s.ID, s.GotoTarget}] {
			seen[ref{s.ID, s.GotoTarget}] = true
			p.report(s.ID, "Go-to %s targets step %q, which does not exist, so contacts stop there.", stepLabel(s), s.GotoTarget)
		}
	}
	for _, t := range p.wf.Triggers {
		if t.Active && t.EntryStepID != "" && g.step(t.EntryStepID) == nil {
			p.report("", "Trigger %s starts at step %q, which does not exist, so contacts it enrolls run nothing.", triggerLabel(&t), t.EntryStepID)
		}
	}
	if p.wf.Root != "" && g.step(p.wf.Root) == nil {
		p.report("", "The workflow's start step %q does not exist, so contacts its triggers enroll run nothing.", p.wf.Root)
	}
}

var wd002 = &rule{
	doc: RuleDoc{
		ID: "WD002", Category: "graph", Severity: SeverityError, Title: "Tight loop",
		Summary: "A loop of steps with no wait on it that really pauses.",
		Why: "Nothing slows a loop without a pause: the contact laps at platform speed and every send on the loop repeats " +
			"until GHL's Loop Lock trips after 50 executions for one contact in about 30 minutes, which then needs support to " +
			"unlock. A time wait of zero, or a date or appointment wait whose moment has passed, does not pause on the next lap.",
		Fix:     "Put a time delay with a real duration (or a wait for a reply or condition, with a timeout) on the loop, or replace the go-to with a goal or an if/else that ends the loop.",
		Example: "\"Send SMS\" -> \"Go to Send SMS\" with no wait between them.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkTightLoops,
}

// pauses reports whether a step holds the contact on every pass: a time wait with a positive duration,
// a wait for an event (reply, condition, trigger link, email event) or a recurring schedule. Date and
// appointment waits pause only until their moment, which has passed on the next lap of a loop. A wait
// of unknown mode is assumed to pause, so no loop is called tight on a guess.
func pauses(s *Step) bool {
	if s.Kind != KindWait {
		return false
	}
	if s.Wait == nil {
		return true
	}
	switch s.Wait.Mode {
	case WaitTime:
		return s.Wait.Duration.Minutes() > 0
	case WaitDateTime, WaitAppointment, WaitEventTime:
		return false
	default:
		return true
	}
}

func checkTightLoops(p *pass) {
	g := p.g
	// Cycles that survive removing every pausing wait are exactly the loops with no pause on them.
	adj := make([][]int, len(p.wf.Steps))
	for i := range p.wf.Steps {
		if !g.reachable[i] || pauses(&p.wf.Steps[i]) {
			continue
		}
		for _, ei := range g.out[i] {
			if j, ok := g.pos[p.wf.Edges[ei].To]; ok && !pauses(&p.wf.Steps[j]) {
				adj[i] = append(adj[i], j)
			}
		}
	}
	for _, comp := range strongComponents(adj) {
		if len(comp) == 1 && !g.selfLoop(comp[0]) {
			continue
		}
		at, message, wait := comp[0], -1, -1
		for k := len(comp) - 1; k >= 0; k-- {
			switch s := &p.wf.Steps[comp[k]]; s.Kind {
			case KindGoto:
				at = comp[k]
			case KindMessage:
				message = comp[k]
			case KindWait:
				wait = comp[k]
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Steps %s form a loop with no wait that pauses", stepList(g, comp))
		if wait >= 0 {
			w := &p.wf.Steps[wait]
			if w.Wait != nil && w.Wait.Mode == WaitTime {
				fmt.Fprintf(&b, " (wait %s on it has no duration)", stepLabel(w))
			} else {
				fmt.Fprintf(&b, " (wait %s on it does not hold contacts once its moment has passed)", stepLabel(w))
			}
		}
		b.WriteString(", so a contact laps at platform speed")
		if message >= 0 {
			fmt.Fprintf(&b, " and receives %s again on every lap", stepLabel(&p.wf.Steps[message]))
		}
		b.WriteString(" until GHL's Loop Lock stops it after 50 executions.")
		p.report(p.wf.Steps[at].ID, "%s", b.String())
	}
}

var wd003 = &rule{
	doc: RuleDoc{
		ID: "WD003", Category: "graph", Severity: SeverityWarning, Title: "Loop without exit",
		Summary: "A loop that waits but has no if/else, split, multi-path exit, remove-from-workflow or goal that can end it.",
		Why: "A loop with a pause does not trip Loop Lock quickly, but if nothing on it can branch out the contact repeats it " +
			"forever: every message on it is re-sent each lap, and the contact stays enrolled, so it can never re-enter. A Goal " +
			"Event listens from enrollment whatever step the contact is on, so a goal anywhere in the workflow is an exit.",
		Fix:     "Add an if/else on the loop with a branch that leaves it (for example when a tag is present or a counter field reaches a limit), or add a Goal Event step that pulls converted contacts out.",
		Example: "\"Wait 1 day\" -> \"Send reminder\" -> \"Go to Wait 1 day\" with no if/else on the loop.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow: checkLoopsWithoutExit,
}

func checkLoopsWithoutExit(p *pass) {
	g := p.g
	for i := range p.wf.Steps {
		if p.wf.Steps[i].Kind == KindGoal {
			return
		}
	}
	for _, cyc := range g.cycles() {
		if !g.reachable[cyc[0]] {
			continue
		}
		comp := g.comp[cyc[0]]
		wait, exits := -1, false
		for _, i := range cyc {
			s := &p.wf.Steps[i]
			if wait < 0 && pauses(s) {
				wait = i
			}
			if s.Kind == KindUnenroll && unenrollsSelf(s, p.wf.ID) {
				exits = true
			}
			// Any edge that ends the path or leads off the loop is a way out: a branch or path of an
			// if/else, split or multi-path step, or the other exit of a two-exit wait.
			for _, e := range g.outEdges(i) {
				if j, ok := g.pos[e.To]; !ok || g.comp[j] != comp {
					exits = true
				}
			}
		}
		if wait < 0 || exits {
			continue
		}
		p.report(p.wf.Steps[wait].ID, "Steps %s loop forever: the loop waits at %s, but no if/else, split or goal lets a contact out, so "+
			"they repeat it until someone removes them by hand.", stepList(g, cyc), stepLabel(&p.wf.Steps[wait]))
	}
}

// unenrollsSelf reports whether a remove-from-workflow step takes the contact out of the workflow
// with id wfID.
func unenrollsSelf(s *Step, wfID string) bool {
	if s.Enrollment == nil || s.Enrollment.BareString {
		return false
	}
	if s.Enrollment.All {
		return true
	}
	for _, id := range s.Enrollment.WorkflowIDs {
		if strings.TrimSpace(id) == wfID {
			return true
		}
	}
	return false
}

var wd004 = &rule{
	doc: RuleDoc{
		ID: "WD004", Category: "graph", Severity: SeverityWarning, Title: "Unreachable step",
		Summary: "Steps that no trigger entry, the start step or a reachable go-to leads to.",
		Why: "GHL runs what `next` links from the trigger's entry step; `order` and `parentKey` do not connect anything. Steps " +
			"left detached after an edit never run, so whatever they were meant to do (a reminder, a tag, an owner " +
			"notification) silently never happens.",
		Fix:     "Reconnect the detached steps in the GHL builder (drag them under the step that should precede them), or delete them if they are left over.",
		Example: "An SMS whose only predecessor was deleted, so nothing points at it any more.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow:   checkUnreachable,
	structural: true,
}

func checkUnreachable(p *pass) {
	g := p.g
	n := len(p.wf.Steps)
	claimed := make([]bool, n)
	// Report each detached island once, at its head: first the steps nothing points at, then, for
	// detached loops that have no such step, their first step in input order.
	island := func(head int) int {
		size := 0
		stack := []int{head}
		claimed[head] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			for _, j := range g.successors(i, func(Edge) bool { return true }) {
				if !g.reachable[j] && !claimed[j] {
					claimed[j] = true
					stack = append(stack, j)
				}
			}
		}
		return size
	}
	report := func(head, size int) {
		s := &p.wf.Steps[head]
		if size == 1 {
			p.report(s.ID, "Step %s is never reached: no trigger entry, start step or go-to leads to it, so it never runs.", stepLabel(s))
			return
		}
		p.report(s.ID, "Step %s and %d %s after it are never reached: no trigger entry, start step or go-to leads to them, so they never run.",
			stepLabel(s), size-1, Plural(size-1, "step"))
	}
	hasPred := func(i int) bool {
		for _, ei := range g.in[i] {
			if from, ok := g.pos[p.wf.Edges[ei].From]; ok && from != i {
				return true
			}
		}
		return false
	}
	for round := 0; round < 2; round++ {
		for i := range n {
			if g.reachable[i] || claimed[i] || (round == 0 && hasPred(i)) {
				continue
			}
			report(i, island(i))
		}
	}
}

var wd005 = &rule{
	doc: RuleDoc{
		ID: "WD005", Category: "graph", Severity: SeverityWarning, Title: "Empty branch",
		Summary: "An if/else branch (the automatic None branch included) or a multi-path path with nothing after it.",
		Why: "Contacts who take an empty branch leave the workflow silently: GHL shows no error, and the case the branch was " +
			"made for (a lead who did not match, an opportunity that was not found) gets no follow-up.",
		Fix:     "Add the steps that branch should run in the GHL builder, or, if ending there is intended, add a clear final action (an internal note or tag) so the exit is deliberate and visible.",
		Example: "An if/else \"Replied?\" whose None branch has no steps under it.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow:   checkEmptyBranches,
	structural: true,
}

func checkEmptyBranches(p *pass) {
	for _, e := range p.wf.Edges {
		if e.To != "" || (e.Kind != EdgeBranch && e.Kind != EdgeElse && e.Kind != EdgeTransition) {
			continue
		}
		from := p.g.step(e.From)
		if from == nil {
			continue
		}
		p.report(e.From, "%s has nothing after it, so contacts who take it leave the workflow silently.", capitalize(edgeLabel(e, from)))
	}
}

var wd006 = &rule{
	doc: RuleDoc{
		ID: "WD006", Category: "graph", Severity: SeverityWarning, Title: "Malformed edge shape",
		Summary: "A step's next is an array on a non-router, a single id on a router, an empty array, or lists a number of targets its branches do not explain.",
		Why: "GHL's builder stores `next` as a string for ordinary steps and an array only for if/else and multi-path steps: " +
			"it rejects an array on other steps (non-branching-next-is-array) and an empty array, treats an array of one as a " +
			"branch point, and mis-renders routers whose targets do not match their branches (one per branch, plus one for " +
			"the None branch of an if/else).",
		Fix:     "Rebuild the step's connections in the GHL builder rather than by editing JSON: write next as a single id on ordinary steps, omit it on a last step, and give routers one target per branch or path.",
		Example: "An SMS step whose next is [\"abc\"], an array of one.",
		Needs:   []string{NeedsWorkflow},
	},
	workflow:   checkEdgeShapes,
	structural: true,
}

func checkEdgeShapes(p *pass) {
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		sh := s.Shape
		if sh == nil {
			continue
		}
		switch {
		case sh.Next == "empty":
			p.report(s.ID, "Step %s has next: [] (an empty array), which GHL rejects; a last step leaves next out.", stepLabel(s))
		case sh.Next == "array" && !sh.Router:
			p.report(s.ID, "Step %s is not an if/else or multi-path step but writes next as an array of %d; GHL rejects this "+
				"(non-branching-next-is-array), and an array of one makes the builder treat the step as a branch point.", stepLabel(s), sh.Targets)
		case sh.Next == "scalar" && sh.Router:
			p.report(s.ID, "Step %s is a router but writes next as a single id instead of one per branch, so the builder cannot tell its branches apart.", stepLabel(s))
		case sh.Next == "array" && sh.Router && sh.Branches >= 0 && !routerTargetsFit(s, sh):
			branches := "branches"
			if sh.Branches == 1 {
				branches = "branch"
			}
			p.report(s.ID, "Step %s declares %d %s but next lists %d %s; %s.", stepLabel(s), sh.Branches, branches,
				sh.Targets, Plural(sh.Targets, "target"), routerExpectation(s, sh))
		}
	}
}

// routerTargetsFit reports whether a router's next has as many targets as its branches explain: an
// if/else has one per branch plus, optionally, one for its None branch; a multi-path step one per path.
func routerTargetsFit(s *Step, sh *EdgeShape) bool {
	if s.Kind == KindCondition {
		return sh.Targets == sh.Branches || sh.Targets == sh.Branches+1
	}
	return sh.Targets == sh.Branches
}

func routerExpectation(s *Step, sh *EdgeShape) string {
	if s.Kind == KindCondition {
		return fmt.Sprintf("an if/else needs %d (one per branch) or %d (with the None branch)", sh.Branches, sh.Branches+1)
	}
	return fmt.Sprintf("a multi-path step needs exactly one per path (%d)", sh.Branches)
}

// edgeLabel names an edge by what the builder shows: `branch "Yes" of if/else "Check"`.
func edgeLabel(e Edge, from *Step) string {
	name := stepLabel(from)
	label := ""
	if e.Label != "" {
		label = fmt.Sprintf("%q ", e.Label)
	}
	switch e.Kind {
	case EdgeBranch:
		return fmt.Sprintf("branch %sof %s", label, name)
	case EdgeElse:
		// GHL names the automatic branch "None" unless the builder renamed it.
		if strings.EqualFold(e.Label, "none") {
			label = ""
		}
		return fmt.Sprintf("the None branch %sof %s", label, name)
	case EdgeTransition:
		return fmt.Sprintf("path %sof %s", label, name)
	case EdgeGoto:
		return fmt.Sprintf("the go-to target of %s", name)
	case EdgeTimeout:
		return fmt.Sprintf("the timeout exit of %s", name)
	default:
		return fmt.Sprintf("the next step of %s", name)
	}
}

// stepList names the steps at indexes idx, at most six of them, for a message.
func stepList(g *graph, idx []int) string {
	const show = 6
	names := make([]string, 0, min(len(idx), show))
	for k, i := range idx {
		if k == show {
			break
		}
		names = append(names, stepLabel(&g.wf.Steps[i]))
	}
	out := strings.Join(names, ", ")
	if len(idx) > show {
		out += fmt.Sprintf(" and %d more", len(idx)-show)
	}
	return out
}

// capitalize upper-cases the first letter of a message fragment.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// triggerLabel names a trigger for a message: its name in quotes, or its type.
func triggerLabel(t *Trigger) string {
	if t.Name != "" {
		return fmt.Sprintf("%q", t.Name)
	}
	return fmt.Sprintf("%q", t.Type)
}
