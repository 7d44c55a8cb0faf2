package analyzer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The location graph links workflows through the contact: what each workflow's active triggers
// listen to (a tag being added, a contact field changing, an opportunity reaching a stage, a form, a
// reply...) and what each workflow's steps do to the contact (add or remove tags, write fields, move
// opportunities, add the contact to or remove it from workflows). Workflow A enrolls workflow B when a
// step of A produces something a trigger of B listens to, or adds the contact to B directly. Rules read
// it through the small API below; it is built once per analysis, on first use, in time linear in the
// location's steps, triggers and resulting edges.

// Signal kinds: what a step does to the contact that another workflow can react to. A listen of a
// trigger type that no step can cause (a form submission, a reply, an appointment) uses the trigger's
// type as its kind instead.
const (
	// signalTag is a tag added to the contact; Value is the tag in tagKey form.
	signalTag = "tag"
	// signalTagRemove is a tag removed from the contact; no trigger of ours listens to it.
	signalTagRemove = "tag_remove"
	// signalField is a contact field written; Value is its key in fieldKey form ("contact.email").
	signalField = "field"
	// signalStage is an opportunity created in or moved to a stage; Value is the stage id and Scope
	// the pipeline id when the step names it.
	signalStage = "stage"
	// signalEnroll is an add-to-workflow step; Value is the target workflow id.
	signalEnroll = "enroll"
	// signalUnenroll is a remove-from-workflow step; Value is the target workflow id, or "*" when the
	// step removes the contact from every workflow.
	signalUnenroll = "unenroll"
)

// signal is one thing a step does to the contact.
type signal struct {
	Kind  string
	Value string
	// Scope narrows Value: the pipeline of a stage. Empty when unknown.
	Scope string
}

// write is a signal produced by one step of a workflow.
type write struct {
	signal
	// Step is the id of the step that produces it.
	Step string
}

// listen is what one active trigger of a workflow reacts to.
type listen struct {
	// Trigger is the trigger's index in the workflow's Triggers.
	Trigger int
	// Kind is signalTag, signalField or signalStage for tag, contact-changed and stage triggers, or the
	// trigger's type for every other trigger.
	Kind string
	// Accept lists the values the trigger fires for; nil means any value of its kind.
	Accept []string
	// Reject lists values a negated filter (neq, not_in, not_contains) excludes.
	Reject []string
	// Scope lists the pipelines a stage trigger is limited to; nil means any.
	Scope []string
	// Unknown lists what the analyzer cannot read of the trigger's filters (unknownFilters): when it
	// is not empty the trigger may not fire for a signal it seems to accept, so rules that conclude
	// from a firing report the pair as not assessed, and enrollment edges through it are uncertain.
	Unknown []Unread
	// sets holds Accept, Reject and Scope as sets when one of them is long (see indexed), so that a
	// trigger filtering on thousands of values answers in constant time.
	sets *listenSets
}

type listenSets struct{ accept, reject, scope map[string]bool }

// longList is the length from which a list is searched through a set rather than scanned.
const longList = 16

// indexed returns l with sets built when any of its lists is long.
func (l listen) indexed() listen {
	if len(l.Accept) < longList && len(l.Reject) < longList && len(l.Scope) < longList {
		return l
	}
	l.sets = &listenSets{accept: setOf(l.Accept), reject: setOf(l.Reject), scope: setOf(l.Scope)}
	return l
}

// setOf returns the values of list as a set (never nil).
func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

// inList reports whether v is in list, through set when there is one.
func inList(list []string, set map[string]bool, v string) bool {
	if set != nil {
		return set[v]
	}
	return slices.Contains(list, v)
}

// lookup returns l's sets, or no sets when its lists are short enough to scan.
func (l listen) lookup() listenSets {
	if l.sets == nil {
		return listenSets{}
	}
	return *l.sets
}

// accepts reports whether the trigger fires for s.
func (l listen) accepts(s signal) bool {
	if l.Kind != s.Kind {
		return false
	}
	if l.Accept != nil && !inList(l.Accept, l.lookup().accept, s.Value) {
		return false
	}
	return l.acceptsAccepted(s)
}

// acceptsAccepted is accepts for a signal whose value the trigger is already known to accept (it was
// found in the index by value), so a trigger listing many values is not searched again.
func (l listen) acceptsAccepted(s signal) bool {
	sets := l.lookup()
	if inList(l.Reject, sets.reject, s.Value) {
		return false
	}
	return l.Scope == nil || s.Scope == "" || inList(l.Scope, sets.scope, s.Scope)
}

// listener is one active trigger of one workflow and what it listens to.
type listener struct {
	listen
	WF *Workflow
	// pos is the workflow's position in the location, for ordering.
	pos int
}

// enrollEdge says that a step of From starts the contact into To.
type enrollEdge struct {
	From *Workflow
	To   *Workflow
	// Step is the id of the step of From that causes it.
	Step string
	// Via is what the step does: signalTag, signalField, signalStage or signalEnroll.
	Via string
	// Value is the tag, field key, stage id or workflow id the step writes.
	Value string
	// Trigger is the index of To's trigger that fires, or -1 for an add-to-workflow step.
	Trigger int
	// Uncertain marks an edge through a trigger filtered on something the analyzer cannot read
	// (listen.Unknown): the step may or may not start To.
	Uncertain bool
}

// workflowLinks is one workflow's side of the location graph.
type workflowLinks struct {
	listens []listen
	writes  []write
	out     []enrollEdge
	in      []enrollEdge
}

// locGraph is the location graph. Edges start only at live workflows, because a draft's steps never
// run; they may end at a draft (whose triggers would fire once it is published), so callers that care
// about what runs today check live(e.To).
type locGraph struct {
	idx   *locIndex
	links map[*Workflow]*workflowLinks
	// exact indexes listeners by kind and accepted value; any holds those that accept every value of
	// their kind (and those that only reject some).
	exact map[string]map[string][]listener
	any   map[string][]listener
	// tagAdders maps a tag to the live workflows that add it, in location order.
	tagAdders map[string][]*Workflow
	// fieldIDs maps a custom field id to its key, from the location context, so a step that writes a
	// field by id meets a trigger that watches it by key.
	fieldIDs map[string]string
	// appointments indexes the Appointment Status triggers for WD016, built on first use.
	appointments *appointmentIndex
}

// live reports whether a workflow runs: anything not a draft. Importers set published or draft; a
// workflow of unknown status is treated as running so that nothing is silently excused.
func live(wf *Workflow) bool { return wf.Status != StatusDraft }

// locGraph returns the location graph, building it on first use.
func (idx *locIndex) locGraph() *locGraph {
	if idx.lg == nil {
		idx.lg = newLocGraph(idx)
	}
	return idx.lg
}

func newLocGraph(idx *locIndex) *locGraph {
	loc := idx.loc
	lg := &locGraph{
		idx: idx, links: make(map[*Workflow]*workflowLinks, len(loc.Workflows)),
		exact: map[string]map[string][]listener{}, any: map[string][]listener{},
		tagAdders: map[string][]*Workflow{}, fieldIDs: map[string]string{},
	}
	if loc.Context != nil {
		lg.fieldIDs = make(map[string]string, len(loc.Context.CustomFields))
		for f := range eachOf(idx, loc.Context.CustomFields) {
			if f.ID != "" && f.Key != "" {
				lg.fieldIDs[f.ID] = f.Key
			}
		}
	}
	for i := range loc.Workflows {
		if idx.stopped() {
			// The analysis is cancelled and its result discarded; the rules only need a graph that
			// answers, not a complete one.
			for j := i; j < len(loc.Workflows); j++ {
				lg.links[&loc.Workflows[j]] = &workflowLinks{}
			}
			break
		}
		wf := &loc.Workflows[i]
		wl := &workflowLinks{listens: lg.triggerListens(wf), writes: lg.stepWrites(wf)}
		lg.links[wf] = wl
		for _, l := range wl.listens {
			ref := listener{listen: l, WF: wf, pos: i}
			if l.Accept == nil {
				lg.any[l.Kind] = append(lg.any[l.Kind], ref)
				continue
			}
			byValue := lg.exact[l.Kind]
			if byValue == nil {
				byValue = map[string][]listener{}
				lg.exact[l.Kind] = byValue
			}
			for _, v := range l.Accept {
				byValue[v] = append(byValue[v], ref)
			}
		}
		if live(wf) {
			for _, w := range wl.writes {
				if w.Kind == signalTag {
					if ws := lg.tagAdders[w.Value]; len(ws) == 0 || ws[len(ws)-1] != wf {
						lg.tagAdders[w.Value] = append(ws, wf)
					}
				}
			}
		}
	}
	for i := range loc.Workflows {
		if wf := &loc.Workflows[i]; live(wf) && !idx.stopped() {
			lg.addEdges(wf)
		}
	}
	return lg
}

// addEdges records the enrollment edges leaving wf: one per step, target workflow and value written,
// however many of the target's triggers that value fires.
func (lg *locGraph) addEdges(wf *Workflow) {
	for _, w := range lg.links[wf].writes {
		switch w.Kind {
		case signalEnroll:
			if to, ok := lg.idx.byID[w.Value]; ok {
				lg.addEdge(enrollEdge{From: wf, To: to, Step: w.Step, Via: w.Kind, Value: w.Value, Trigger: -1})
			}
		case signalTag, signalField, signalStage:
			for _, l := range lg.listeners(w.signal) {
				lg.addEdge(enrollEdge{From: wf, To: l.WF, Step: w.Step, Via: w.Kind, Value: w.Value, Trigger: l.Trigger, Uncertain: len(l.Unknown) > 0})
			}
		}
	}
}

func (lg *locGraph) addEdge(e enrollEdge) {
	from, to := lg.links[e.From], lg.links[e.To]
	// A step that fires two triggers of the same workflow enrolls it once, certainly if either trigger
	// certainly fires. The two are added one after the other, so the edge is the last of both lists.
	if n := len(from.out); n > 0 && from.out[n-1].Step == e.Step && from.out[n-1].To == e.To && from.out[n-1].Value == e.Value {
		if from.out[n-1].Uncertain && !e.Uncertain {
			from.out[n-1] = e
			to.in[len(to.in)-1] = e
		}
		return
	}
	from.out = append(from.out, e)
	to.in = append(to.in, e)
}

// listens returns what wf's active triggers listen to, in trigger order.
func (lg *locGraph) listens(wf *Workflow) []listen { return lg.links[wf].listens }

// writes returns what wf's reachable steps do to the contact, in step order. Unreachable steps never
// run, so they write nothing.
func (lg *locGraph) writes(wf *Workflow) []write { return lg.links[wf].writes }

// listeners returns the active triggers, of any workflow live or draft, that fire for s, in location
// order.
func (lg *locGraph) listeners(s signal) []listener {
	var out []listener
	for _, l := range lg.exact[s.Kind][s.Value] {
		if l.acceptsAccepted(s) {
			out = append(out, l)
		}
	}
	for _, l := range lg.any[s.Kind] {
		if l.accepts(s) {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b listener) int { return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.Trigger, b.Trigger)) })
	return out
}

// tagWriters returns the live workflows whose reachable steps add tag (any spelling; see tagKey), in
// location order.
func (lg *locGraph) tagWriters(tag string) []*Workflow { return lg.tagAdders[tagKey(tag)] }

// enrollers returns the edges by which live workflows start contacts into wf, in location order.
func (lg *locGraph) enrollers(wf *Workflow) []enrollEdge { return lg.links[wf].in }

// enrollees returns the edges by which wf, when live, starts contacts into other workflows (or into
// itself), in step order.
func (lg *locGraph) enrollees(wf *Workflow) []enrollEdge { return lg.links[wf].out }

// enrollmentLoop is a strongly connected group of live workflows that enroll each other.
type enrollmentLoop struct {
	// Path is the shortest cycle through the member with the lowest id, starting there: each edge's
	// To is the next edge's From, and the last edge returns to the first workflow.
	Path []enrollEdge
	// Members are every workflow of the group, sorted by id.
	Members []*Workflow
}

// enrollmentLoops finds the groups of two or more live workflows that enroll each other, ordered by
// their lowest member id. A workflow that only enrolls itself is not a loop here: WD015 (its own
// trigger) and WD021 (add-to-workflow of itself) report that.
func (lg *locGraph) enrollmentLoops() []enrollmentLoop {
	nodes, adj, _ := lg.liveAdjacency()
	var loops []enrollmentLoop
	for _, comp := range strongComponents(adj) {
		if len(comp) < 2 {
			continue
		}
		members := make([]*Workflow, len(comp))
		for k, v := range comp {
			members[k] = nodes[v]
		}
		slices.SortFunc(members, func(a, b *Workflow) int { return cmp.Compare(a.ID, b.ID) })
		loops = append(loops, enrollmentLoop{Path: lg.shortestLoop(members), Members: members})
	}
	slices.SortFunc(loops, func(a, b enrollmentLoop) int { return cmp.Compare(a.Members[0].ID, b.Members[0].ID) })
	return loops
}

// liveAdjacency numbers the live workflows in location order and lists, per workflow, the others its
// enrollment edges lead to: through certain edges only, and through all edges.
func (lg *locGraph) liveAdjacency() (nodes []*Workflow, certain, all [][]int) {
	for i := range lg.idx.loc.Workflows {
		if wf := &lg.idx.loc.Workflows[i]; live(wf) {
			nodes = append(nodes, wf)
		}
	}
	node := make(map[*Workflow]int, len(nodes))
	for i, wf := range nodes {
		node[wf] = i
	}
	certain, all = make([][]int, len(nodes)), make([][]int, len(nodes))
	for i, wf := range nodes {
		for _, e := range lg.links[wf].out {
			if j, ok := node[e.To]; ok && j != i {
				all[i] = append(all[i], j)
				if !e.Uncertain {
					certain[i] = append(certain[i], j)
				}
			}
		}
	}
	return nodes, certain, all
}

// possibleLoop is a group of live workflows that would start each other in a circle if the
// uncertain edges fired: Members sorted by id, Via an uncertain edge inside the group.
type possibleLoop struct {
	Members []*Workflow
	Via     enrollEdge
}

// possibleLoops finds the groups of two or more live workflows that would start each other in a
// circle if the uncertain edges (through triggers filtered on something unknown) fired, and that are
// not already a certain loop, ordered by their lowest member id.
func (lg *locGraph) possibleLoops() []possibleLoop {
	nodes, certain, all := lg.liveAdjacency()
	var loops []possibleLoop
	sure := make([]int, len(nodes))
	for c, comp := range strongComponents(certain) {
		for _, v := range comp {
			sure[v] = c
		}
	}
	for _, comp := range strongComponents(all) {
		if len(comp) < 2 || !slices.ContainsFunc(comp, func(v int) bool { return sure[v] != sure[comp[0]] }) {
			continue
		}
		members := make([]*Workflow, len(comp))
		in := make(map[*Workflow]bool, len(comp))
		for k, v := range comp {
			members[k] = nodes[v]
			in[nodes[v]] = true
		}
		slices.SortFunc(members, func(a, b *Workflow) int { return cmp.Compare(a.ID, b.ID) })
		var edge enrollEdge
		for _, wf := range members {
			if k := slices.IndexFunc(lg.links[wf].out, func(e enrollEdge) bool { return e.Uncertain && in[e.To] && e.To != wf }); k >= 0 {
				edge = lg.links[wf].out[k]
				break
			}
		}
		loops = append(loops, possibleLoop{Members: members, Via: edge})
	}
	slices.SortFunc(loops, func(a, b possibleLoop) int { return cmp.Compare(a.Members[0].ID, b.Members[0].ID) })
	return loops
}

// shortestLoop finds, by breadth-first search inside the group, the shortest cycle through its first
// member. Edges are tried in step order, so the answer is deterministic.
func (lg *locGraph) shortestLoop(members []*Workflow) []enrollEdge {
	start := members[0]
	in := make(map[*Workflow]bool, len(members))
	for _, wf := range members {
		in[wf] = true
	}
	via := map[*Workflow]enrollEdge{}
	queue := []*Workflow{start}
	for len(queue) > 0 {
		wf := queue[0]
		queue = queue[1:]
		for _, e := range lg.links[wf].out {
			if !in[e.To] || e.To == wf || e.Uncertain {
				continue
			}
			if e.To == start {
				path := []enrollEdge{e}
				for at := wf; at != start; at = via[at].From {
					path = append(path, via[at])
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := via[e.To]; !seen {
				via[e.To] = e
				queue = append(queue, e.To)
			}
		}
	}
	// Unreachable: every member of a strongly connected group lies on a cycle through the others.
	panic("analyzer: enrollment group without a cycle through its first member")
}

// describe says in words what the edge's step does, for messages: `adds tag "vip" (step "Tag it")`.
func (lg *locGraph) describe(e enrollEdge) string {
	step := lg.idx.graph(e.From).step(e.Step)
	var what string
	switch e.Via {
	case signalTag:
		what = fmt.Sprintf("adds tag %q", e.Value)
	case signalField:
		what = "writes " + e.Value
	case signalStage:
		what = "moves an opportunity to stage " + lg.idx.stageName(e.Value)
	case signalEnroll:
		what = "adds the contact to " + workflowLabel(e.To)
	}
	return fmt.Sprintf("%s (step %s)", what, strings.TrimPrefix(stepLabel(step), "step "))
}

// triggerListens turns wf's active triggers into listens.
func (lg *locGraph) triggerListens(wf *Workflow) []listen {
	var out []listen
	for i, t := range wf.Triggers {
		if !t.Active {
			continue
		}
		l := listen{Trigger: i, Kind: t.Type, Unknown: unknownFilters(&wf.Triggers[i])}
		switch t.Type {
		case TriggerContactTag:
			l.Kind = signalTag
			l.Accept, l.Reject = filterValues(t.Filters, func(f string) bool { return f == "tag" }, tagKey)
		case TriggerContactChanged:
			l.Kind = signalField
			var keys uniqueValues
			for _, f := range t.Filters {
				if key, ok := lg.watchedField(f.Field); ok {
					keys.add(key)
				}
			}
			l.Accept = keys.list
		case TriggerPipelineStage:
			l.Kind = signalStage
			l.Accept, l.Reject = filterValues(t.Filters, func(f string) bool { return f == "pipeline.stage.id" }, strings.TrimSpace)
			l.Scope, _ = filterValues(t.Filters, func(f string) bool { return f == "pipeline.id" }, strings.TrimSpace)
		}
		out = append(out, l.indexed())
	}
	return out
}

// filterValues collects the values of the filters whose field matches, normalized by norm: those of
// positive filters into accept (nil when there is none), those of negated filters into reject.
func filterValues(filters []Filter, field func(string) bool, norm func(string) string) (accept, reject []string) {
	var a, r uniqueValues
	for _, f := range filters {
		if !field(f.Field) {
			continue
		}
		negated := f.Operator == "neq" || f.Operator == "not_in" || f.Operator == "not_contains"
		for _, v := range f.Values {
			v = norm(v)
			if v == "" {
				continue
			}
			if negated {
				r.add(v)
			} else {
				a.add(v)
			}
		}
	}
	return a.list, r.list
}

// uniqueValues collects values once each in first-seen order. It scans its list while the list is
// short and keeps a set once it is long, so collecting n values costs linear time.
type uniqueValues struct {
	list []string
	set  map[string]bool
}

func (u *uniqueValues) add(v string) {
	if u.set == nil && len(u.list) >= longList {
		u.set = make(map[string]bool, 2*len(u.list))
		for _, x := range u.list {
			u.set[x] = true
		}
	}
	if inList(u.list, u.set, v) {
		return
	}
	if u.set != nil {
		u.set[v] = true
	}
	u.list = append(u.list, v)
}

// watchedField returns the key of the contact field a contact-changed filter field names
// ("contact.<key or field id>"), and false for any other filter field.
func (lg *locGraph) watchedField(field string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(field), "contact.")
	if !ok || strings.TrimSpace(rest) == "" {
		return "", false
	}
	return lg.fieldKey(rest), true
}

// fieldKey normalizes a written or watched contact field to "contact.<key>" in lower case: a custom
// field id becomes its key through the location context, merge-field braces and a "contact." prefix
// are accepted.
func (lg *locGraph) fieldKey(raw string) string {
	raw = strings.TrimSpace(raw)
	if key, ok := lg.fieldIDs[raw]; ok {
		raw = key
	}
	k := strings.ToLower(raw)
	k = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(k, "{{"), "}}"))
	if !strings.HasPrefix(k, "contact.") {
		k = "contact." + k
	}
	return k
}

// stepWrites lists what wf's reachable steps do to the contact, in step order.
func (lg *locGraph) stepWrites(wf *Workflow) []write {
	g := lg.idx.graph(wf)
	var out []write
	add := func(s *Step, kind, value, scope string) {
		if value != "" {
			out = append(out, write{signal: signal{Kind: kind, Value: value, Scope: scope}, Step: s.ID})
		}
	}
	for i := range wf.Steps {
		if !g.reachable[i] {
			continue
		}
		s := &wf.Steps[i]
		switch s.Kind {
		case KindTagAdd, KindTagRemove:
			kind := signalTag
			if s.Kind == KindTagRemove {
				kind = signalTagRemove
			}
			for _, t := range s.Tags {
				add(s, kind, tagKey(t), "")
			}
		case KindFieldUpdate:
			for _, f := range s.Fields {
				if strings.TrimSpace(f.Field) != "" {
					add(s, signalField, lg.fieldKey(f.Field), "")
				}
			}
		case KindOpportunity:
			// Creating an opportunity in a stage and moving one there both land it in the stage; a
			// find or remove step does neither.
			if o := s.Opportunity; o != nil && o.Op != "find" && o.Op != "remove" {
				add(s, signalStage, strings.TrimSpace(o.StageID), strings.TrimSpace(o.PipelineID))
			}
		case KindEnroll, KindUnenroll:
			e := s.Enrollment
			if e == nil {
				continue
			}
			kind := signalEnroll
			if s.Kind == KindUnenroll {
				kind = signalUnenroll
				if e.All {
					add(s, kind, "*", "")
				}
			}
			for _, id := range e.WorkflowIDs {
				add(s, kind, strings.TrimSpace(id), "")
			}
		}
	}
	return out
}

// tagKey is the form tags are compared in: GHL stores tags lower-case, and spaces around a tag are
// not part of it.
func tagKey(tag string) string { return strings.ToLower(strings.TrimSpace(tag)) }

// triggerSignature identifies what a trigger fires on: its type and its filters, each with its values
// sorted and normalized, the filters sorted, so two triggers with the same signature fire for the same
// events whatever order the builder wrote them in. A single-value eq is the same test as in.
func triggerSignature(t *Trigger) string {
	parts := make([]string, 0, len(t.Filters))
	for _, f := range t.Filters {
		norm := strings.TrimSpace
		if f.Field == "tag" {
			norm = tagKey
		}
		vals := make([]string, 0, len(f.Values))
		for _, v := range f.Values {
			vals = append(vals, norm(v))
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		op := f.Operator
		if op == "eq" || op == "" {
			op = "in"
		}
		parts = append(parts, fmt.Sprintf("%q %q %q", f.Field, op, vals))
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	return t.Type + "\n" + strings.Join(parts, "\n")
}

// workflowLabel names a workflow in a message: its name in quotes, or its id.
func workflowLabel(wf *Workflow) string {
	if wf.Name != "" {
		return fmt.Sprintf("%q", wf.Name)
	}
	return "workflow " + wf.ID
}
