package importer

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// maxInlineDepth bounds how deeply bundle if/else steps may nest inline branch actions. The JSON depth
// limit already bounds it; this names the bound where the reader recurses.
const maxInlineDepth = 16

// bundle reads the auditor's bundle: {"workflows": [...]} with the location context at top level.
// A bundle describes a whole account, so the location is complete.
func (p *parser) bundle(top fields) (*Result, error) {
	items, err := rawArray(top["workflows"], "$.workflows")
	if err != nil {
		return nil, err
	}
	if err := p.countWorkflows(len(items)); err != nil {
		return nil, err
	}
	ctx, err := p.readContext(top, "$")
	if err != nil {
		return nil, err
	}
	res := &Result{Location: newLocation(), Raw: []json.RawMessage{}, Dialect: DialectBundle}
	res.Location.Context = ctx
	res.Location.Complete = true
	res.Location.ID, _ = scalarString(top.value("locationId"))

	docs := make([]fields, len(items))
	explicit := make([]string, len(items))
	firstAt := map[string]int{}
	for i, it := range items {
		path := fmt.Sprintf("$.workflows[%d]", i)
		if kindOf(it) != "an object" || json.Unmarshal(it, &docs[i]) != nil {
			return nil, errorf(path, "expected a workflow object, got %s", kindOf(it))
		}
		key, id := bundleWorkflowID(docs[i])
		if id == "" {
			continue
		}
		if j, dup := firstAt[id]; dup {
			return nil, errorf(path+"."+key, "duplicate workflow id %q (first at $.workflows[%d])", id, j)
		}
		firstAt[id] = i
		explicit[i] = id
	}
	ids := assignIDs(explicit, "workflow")
	for i, it := range items {
		wf, err := p.bundleWorkflowDoc(docs[i], fmt.Sprintf("$.workflows[%d]", i), ids[i])
		if err != nil {
			return nil, err
		}
		res.Location.Workflows = append(res.Location.Workflows, wf)
		res.Raw = append(res.Raw, compact(it))
	}
	return res, nil
}

// bundleWorkflow reads one bundle workflow given on its own (not a whole account).
func (p *parser) bundleWorkflow(top fields, raw json.RawMessage) (*Result, error) {
	if err := p.countWorkflows(1); err != nil {
		return nil, err
	}
	_, id := bundleWorkflowID(top)
	if id == "" {
		id = "workflow-1"
	}
	wf, err := p.bundleWorkflowDoc(top, "$", id)
	if err != nil {
		return nil, err
	}
	loc := newLocation()
	loc.Workflows = append(loc.Workflows, wf)
	return &Result{Location: loc, Raw: []json.RawMessage{compact(raw)}, Dialect: DialectBundle}, nil
}

func bundleWorkflowID(f fields) (key, id string) {
	for _, k := range []string{"_id", "id", "workflowId"} {
		if s, _ := scalarString(f.value(k)); s != "" {
			return k, s
		}
	}
	return "", ""
}

// bundleWorkflowDoc reads one bundle workflow: _id, name, status, triggers[], steps[], settings{}.
func (p *parser) bundleWorkflowDoc(f fields, path, id string) (analyzer.Workflow, error) {
	head := obj{}
	for _, k := range []string{"name", "title", "status", "state", "version", "locationId", "settings", "creationSource", "originType"} {
		if v := f.value(k); v != nil {
			head[k] = v
		}
	}
	wf := analyzer.Workflow{
		ID:         id,
		Name:       head.str("name", "title"),
		Status:     normStatus(head.str("status", "state")),
		LocationID: head.str("locationId"),
		Dialect:    DialectBundle,
	}
	if v, ok := head.number("version"); ok {
		wf.Version = clampInt(v)
	}
	trigs, err := objectArray(rawField(f, "triggers"), path+".triggers", "trigger")
	if err != nil {
		return wf, err
	}
	for _, t := range trigs {
		wf.Triggers = append(wf.Triggers, readTrigger(t))
	}
	wf.Settings = bundleSettings(head.child("settings"))
	switch normKey(head.str("creationSource", "originType")) {
	case "snapshot", "recipe":
		wf.Settings.Cloned = true
	}

	stepsKey := "steps"
	if !f.has(stepsKey) && f.has("actions") {
		stepsKey = "actions"
	}
	items, err := rawArray(rawOrNull(f, stepsKey), path+"."+stepsKey)
	if err != nil {
		return wf, err
	}
	r := &bundleReader{maxSteps: p.opts.MaxStepsPerWorkflow, wfLoc: wf.LocationID}
	for i, it := range items {
		o, ok := decodeObject(it)
		sp := fmt.Sprintf("%s.%s[%d]", path, stepsKey, i)
		if !ok {
			return wf, errorf(sp, "expected a step object, got %s", kindOf(it))
		}
		if _, err := r.add(o, it, sp, false, 0); err != nil {
			return wf, err
		}
	}
	if err := r.assignIDs(); err != nil {
		return wf, err
	}
	r.build(&wf)
	for _, n := range r.nodes {
		if n.meta.truthy("stopOnResponse", "stop_on_response") {
			// The bundle marks a wait that ends when the contact replies; in GHL that is the
			// workflow's Stop On Response.
			wf.Settings.StopOnResponse = true
		}
	}
	finishWorkflow(&wf, r.hasParent)
	return wf, nil
}

func rawOrNull(f fields, key string) json.RawMessage {
	if raw, ok := f[key]; ok {
		return raw
	}
	return json.RawMessage("null")
}

// bundleSettings reads the bundle's settings: allowReentry, stopOnResponse, timezone and a send
// window under sendingWindow or window (whose own timezone stands for the workflow's when the
// workflow names none).
func bundleSettings(st obj) analyzer.Settings {
	if st == nil {
		return analyzer.Settings{}
	}
	s := analyzer.Settings{
		AllowMultipleOpportunity:  st.truthy("allowMultipleOpportunity"),
		StopOnResponse:            st.truthy("stopOnResponse", "stop_on_response"),
		RemoveContactFromLastStep: st.truthy("removeContactFromLastStep"),
		AutoMarkAsRead:            st.truthy("autoMarkAsRead"),
		Timezone:                  st.str("timezone", "timeZone"),
	}
	s.AllowReEntry, _ = st.flag("allowReentry", "allowReEntry", "allow_reentry", "allowMultiple")
	win := st.child("sendingWindow", "sending_window", "window", "timeWindow", "quietHours", "quiet_hours")
	s.TimeWindow = readWindow(win)
	if s.Timezone == "" && win != nil {
		s.Timezone = win.str("timezone", "timeZone")
	}
	return s
}

// unode is one bundle step: a step of the list or an inline action of an if/else branch.
type unode struct {
	id         string
	explicitID bool
	typ, name  string
	meta       obj
	metaKey    string // the key meta sits under, "" when the step is its own configuration
	raw        json.RawMessage
	path       string
	next       []string
	form       string
	parentKey  string
	// For an inline action: the if/else it belongs to, the branch (-1 for None) and its position in
	// that branch's actions.
	inline            bool
	cond, branch, pos int
	// For an if/else: its inline actions per branch (in the order of Condition.Branches) and whether
	// the branch declared an action list; the same for the None branch when written out.
	inlineActions  [][]int
	inlineDeclared []bool
	elseActions    []int
	elseDeclared   bool
	elseEntry      obj
	step           analyzer.Step
}

// bundleReader builds the steps and edges of one bundle workflow.
type bundleReader struct {
	nodes    []unode
	maxSteps int
	wfLoc    string
	byID     map[string]int
	lanes    map[string][]int
	laneOf   []string
	// branchIDs maps the branch node ids if/else steps declare to their lanes.
	branchIDs map[string]string
	// lanePos is each list step's position in its lane.
	lanePos []int
	// byName and byFoldedName index steps by name for go-to by name (the first step of each name).
	byName, byFoldedName map[string]int
	// branchNames indexes, per if/else, its branches by slug of name (the first of each).
	branchNames map[int]map[string]int
}

// add appends a step and, for an if/else, the inline actions of its branches.
func (r *bundleReader) add(o obj, raw json.RawMessage, path string, inline bool, depth int) (int, error) {
	if len(r.nodes) >= r.maxSteps {
		return 0, &LimitError{Limit: LimitSteps, Max: r.maxSteps, Got: len(r.nodes) + 1}
	}
	n := unode{typ: o.str("type", "actionType", "action"), name: o.str("name", "label", "title"), path: path, inline: inline}
	if raw != nil {
		n.raw = compact(raw)
	} else {
		// Inline actions have no bytes of their own; encoding/json writes them compact with sorted keys.
		n.raw = rawJSON(map[string]any(o))
	}
	if id, ok := o["id"]; ok && id != nil {
		s, ok := id.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return 0, errorf(path+".id", "expected a non-empty string step id, got %s", jsonKind(id))
		}
		n.id, n.explicitID = s, true
	}
	var err error
	if n.next, n.form, err = readNext(o, path+".next", true); err != nil {
		return 0, err
	}
	n.parentKey = o.str("parentKey", "parent_key", "parentId")
	metaPath := path
	for _, k := range []string{"meta", "config", "data", "params", "parameters", "settings"} {
		if m := asObj(o[k]); m != nil {
			n.meta, n.metaKey, metaPath = m, k, path+"."+k
			break
		}
	}
	if n.meta == nil {
		n.meta = o
	}
	idx := len(r.nodes)
	r.nodes = append(r.nodes, n)

	if t, _ := lookupStepType(n.typ); t.kind != analyzer.KindCondition {
		return idx, nil
	}
	isElse := bundleElseEntry(n.meta)
	for bi, item := range n.meta.list("branches") {
		e := asObj(item)
		if e == nil {
			// readBranches skips the same entries, so branch positions stay aligned.
			continue
		}
		actionsKey := ""
		for _, k := range []string{"actions", "steps", "children", "nodes"} {
			if _, ok := e[k]; ok {
				actionsKey = k
				break
			}
		}
		var children []int
		if actionsKey != "" {
			if depth >= maxInlineDepth {
				return 0, errorf(path, "inline branch actions nested deeper than %d levels", maxInlineDepth)
			}
			for k, item := range asList(e[actionsKey]) {
				ao := asObj(item)
				ap := fmt.Sprintf("%s.branches[%d].%s[%d]", metaPath, bi, actionsKey, k)
				if ao == nil {
					return 0, errorf(ap, "expected a step object, got %s", jsonKind(item))
				}
				child, err := r.add(ao, nil, ap, true, depth+1)
				if err != nil {
					return 0, err
				}
				r.nodes[child].cond, r.nodes[child].pos = idx, len(children)
				children = append(children, child)
			}
		}
		if isElse(e) {
			r.nodes[idx].elseEntry = e
			r.nodes[idx].elseDeclared = actionsKey != ""
			r.nodes[idx].elseActions = children
			for _, c := range children {
				r.nodes[c].branch = -1
			}
			continue
		}
		for _, c := range children {
			r.nodes[c].branch = len(r.nodes[idx].inlineActions)
		}
		r.nodes[idx].inlineActions = append(r.nodes[idx].inlineActions, children)
		r.nodes[idx].inlineDeclared = append(r.nodes[idx].inlineDeclared, actionsKey != "")
	}
	return idx, nil
}

// assignIDs gives every step its id: explicit ids (which must be unique), step-N by position for
// list steps, and <if/else id>.<branch>.<action> for inline actions ("e" for the None branch).
func (r *bundleReader) assignIDs() error {
	r.byID = make(map[string]int, len(r.nodes))
	for i, n := range r.nodes {
		if !n.explicitID {
			continue
		}
		if j, dup := r.byID[n.id]; dup {
			return errorf(n.path+".id", "duplicate step id %q (first at %s)", n.id, r.nodes[j].path)
		}
		r.byID[n.id] = i
	}
	taken := func(id string) bool { _, ok := r.byID[id]; return ok }
	unique := func(cand string) string {
		base := cand
		for k := 2; taken(cand); k++ {
			cand = fmt.Sprintf("%s-%d", base, k)
		}
		return cand
	}
	top := 0
	for i := range r.nodes {
		n := &r.nodes[i]
		if !n.inline {
			top++
		}
		if n.explicitID {
			continue
		}
		if n.inline {
			branch := "e"
			if n.branch >= 0 {
				branch = fmt.Sprint(n.branch + 1)
			}
			n.id = unique(fmt.Sprintf("%s.%s.%d", r.nodes[n.cond].id, branch, n.pos+1))
		} else {
			n.id = unique(fmt.Sprintf("step-%d", top))
		}
		r.byID[n.id] = i
	}
	return nil
}

// build interprets every step and builds the edges. Steps without next run in list order within
// their lane: the list's own steps form the main lane, and steps whose parentKey names an if/else
// branch (a branch id, or "<if/else id>-<branch name>") form that branch's lane. A step whose
// parentKey names a plain step runs in that step's lane; one whose parentKey names nothing is
// detached. An explicit null or empty next ends the path. A go-to never falls through to the next
// step.
func (r *bundleReader) build(wf *analyzer.Workflow) {
	r.byName, r.byFoldedName = map[string]int{}, map[string]int{}
	for i := len(r.nodes) - 1; i >= 0; i-- {
		r.byName[r.nodes[i].name] = i
		r.byFoldedName[strings.ToLower(strings.TrimSpace(r.nodes[i].name))] = i
	}
	for i := range r.nodes {
		n := &r.nodes[i]
		n.step = interpret(stepInput{id: n.id, typ: n.typ, name: n.name, attrs: n.meta, attrsKey: n.metaKey, dialect: DialectBundle, workflowLocation: r.wfLoc})
		n.step.Raw = n.raw
		if n.step.Kind == analyzer.KindGoto {
			n.step.GotoTarget = r.gotoTarget(n.meta)
		}
	}
	r.buildLanes()
	for i := range r.nodes {
		n := &r.nodes[i]
		wf.Edges = append(wf.Edges, r.edges(i)...)
		wf.Steps = append(wf.Steps, n.step)
	}
}

// gotoTarget resolves a go-to's target: an id, or the bundle's targetStepName (the first step with
// that name). An unresolved name is kept as the target so the analyzer reports it as missing.
func (r *bundleReader) gotoTarget(meta obj) string {
	if id := gotoTarget(meta); id != "" {
		return id
	}
	name := meta.str("targetStepName", "target_step_name", "targetName")
	if name == "" {
		return ""
	}
	if i, ok := r.byName[name]; ok {
		return r.nodes[i].id
	}
	if i, ok := r.byFoldedName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return r.nodes[i].id
	}
	return name
}

// branchLane is the lane key: an if/else step and one of its branches (-1 for None).
func branchLane(cond, branch int) string {
	if branch < 0 {
		return fmt.Sprintf("#%d/else", cond)
	}
	return fmt.Sprintf("#%d/%d", cond, branch)
}

// buildLanes groups list steps by lane, keeping list order within each lane.
func (r *bundleReader) buildLanes() {
	// Branch node ids an if/else declares: its branches' ids and the entries of an explicit next.
	branchIDs := map[string]string{}
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.step.Condition == nil {
			continue
		}
		for bi, br := range n.step.Condition.Branches {
			if br.ID != "" {
				branchIDs[br.ID] = branchLane(i, bi)
			}
		}
		if n.elseEntry != nil {
			if id := n.elseEntry.str("id"); id != "" {
				branchIDs[id] = branchLane(i, -1)
			}
		}
		if n.form == "array" {
			for _, m := range r.nextBranches(i) {
				if _, isStep := r.byID[m.target]; !isStep {
					if _, known := branchIDs[m.target]; !known {
						branchIDs[m.target] = branchLane(i, m.branch)
					}
				}
			}
		}
	}
	r.branchIDs = branchIDs
	r.lanes = map[string][]int{}
	r.laneOf = make([]string, len(r.nodes))
	r.lanePos = make([]int, len(r.nodes))
	resolved := make([]bool, len(r.nodes))
	for i := range r.nodes {
		if r.nodes[i].inline {
			continue
		}
		lane := r.resolveLane(i, resolved)
		r.laneOf[i], resolved[i] = lane, true
		r.lanePos[i] = len(r.lanes[lane])
		r.lanes[lane] = append(r.lanes[lane], i)
	}
}

// resolveLane finds a list step's lane from its parentKey. A parentKey naming a plain step puts it in
// that step's lane: the chain is followed until a step whose lane is already known (resolved), so
// the whole pass stays linear, and a chain that comes back on itself ends as a detached lane.
func (r *bundleReader) resolveLane(i int, resolved []bool) string {
	start := i
	seen := map[int]bool{}
	for {
		pk := r.nodes[i].parentKey
		if pk == "" {
			return ""
		}
		if lane, ok := r.branchIDs[pk]; ok {
			return lane
		}
		id, ok := parentPrefix(pk, func(s string) bool { _, ok := r.byID[s]; return ok })
		if !ok {
			return "?" + r.nodes[start].parentKey
		}
		j := r.byID[id]
		if r.nodes[j].step.Condition != nil {
			if b, ok := r.branchBySuffix(j, strings.TrimPrefix(strings.TrimPrefix(pk, id), "-")); ok {
				return branchLane(j, b)
			}
			return "?" + r.nodes[start].parentKey
		}
		if r.nodes[j].inline || seen[j] || j == start {
			return "?" + r.nodes[start].parentKey
		}
		if resolved[j] {
			return r.laneOf[j]
		}
		seen[j] = true
		i = j
	}
}

// branchBySuffix matches the branch-name part of a "<id>-<branch name>" parentKey: a branch's name,
// yes/true for the first branch, or no/none/else/false and the None branch's name for None. An empty
// suffix (the parentKey is the if/else's id) means the first branch.
func (r *bundleReader) branchBySuffix(cond int, suffix string) (int, bool) {
	n := &r.nodes[cond]
	branches := n.step.Condition.Branches
	k := normKey(suffix)
	if r.branchNames == nil {
		r.branchNames = map[int]map[string]int{}
	}
	names, ok := r.branchNames[cond]
	if !ok {
		names = map[string]int{}
		for bi := len(branches) - 1; bi >= 0; bi-- {
			if key := slug(branches[bi].Name); key != "" {
				names[key] = bi
			}
		}
		r.branchNames[cond] = names
	}
	if bi, ok := names[slug(suffix)]; ok && slug(suffix) != "" {
		return bi, true
	}
	noneName := n.meta.str("noneBranchName")
	if n.elseEntry != nil {
		noneName = cmp.Or(noneName, n.elseEntry.str("name"))
	}
	switch {
	case k == "" || k == "yes" || k == "true" || k == "y":
		return 0, len(branches) > 0
	case k == "no" || k == "none" || k == "else" || k == "false" || k == "n" || (noneName != "" && slug(noneName) == slug(suffix)):
		return -1, true
	}
	return 0, false
}

// laneHead returns the first step of a lane, or "" when the lane is empty.
func (r *bundleReader) laneHead(lane string) string {
	if list := r.lanes[lane]; len(list) > 0 {
		return r.nodes[list[0]].id
	}
	return ""
}

// continuation is where a step without next goes: the next step of its lane, or for an inline action
// the next action of its branch and, after the last one, the continuation of its if/else. An if/else
// with a scalar next continues there.
func (r *bundleReader) continuation(i int) string {
	for depth := 0; depth <= maxInlineDepth+1; depth++ {
		n := &r.nodes[i]
		if n.inline {
			c := &r.nodes[n.cond]
			list := c.elseActions
			if n.branch >= 0 {
				list = c.inlineActions[n.branch]
			}
			if n.pos+1 < len(list) {
				return r.nodes[list[n.pos+1]].id
			}
			i = n.cond
			switch r.nodes[i].form {
			case "scalar":
				return r.target(r.nodes[i].next, "")
			case "null", "empty":
				return ""
			}
			continue
		}
		if lane := r.lanes[r.laneOf[i]]; r.lanePos[i]+1 < len(lane) {
			return r.nodes[lane[r.lanePos[i]+1]].id
		}
		return ""
	}
	return ""
}

// target resolves an explicit next entry: a step id, a branch id whose lane holds steps (its first
// step), an empty declared branch (""), or an unknown id kept as written.
func (r *bundleReader) target(next []string, fallback string) string {
	if len(next) == 0 {
		return fallback
	}
	return r.resolveTarget(next[0])
}

func (r *bundleReader) resolveTarget(t string) string {
	if _, ok := r.byID[t]; ok {
		return t
	}
	if lane, ok := r.branchIDs[t]; ok {
		return r.laneHead(lane)
	}
	if list := r.lanes["?"+t]; len(list) > 0 {
		return r.nodes[list[0]].id
	}
	return t
}

// nextMatch pairs an explicit next entry of an if/else with its branch (-1 for None).
type nextMatch struct {
	target string
	branch int
	extra  bool
}

// nextBranches matches an if/else's explicit next array to its branches: by branch id, else by
// position, the entry after the last branch being None (as in the builder).
func (r *bundleReader) nextBranches(i int) []nextMatch {
	n := &r.nodes[i]
	branches := n.step.Condition.Branches
	used := make([]bool, len(branches))
	elseDone := false
	var out []nextMatch
	elseID := ""
	if n.elseEntry != nil {
		elseID = n.elseEntry.str("id")
	}
	byID := newIndexByKey(len(branches), func(k int) string { return branches[k].ID })
	for pos, t := range n.next {
		bi := byID.take(t, used)
		if bi < 0 && t != elseID && pos < len(branches) && !used[pos] {
			bi = pos
		}
		switch {
		case bi >= 0:
			used[bi] = true
			out = append(out, nextMatch{target: t, branch: bi})
		case !elseDone:
			elseDone = true
			out = append(out, nextMatch{target: t, branch: -1})
		default:
			out = append(out, nextMatch{target: t, branch: -1, extra: true})
		}
	}
	return out
}

// edges builds one step's outgoing edges.
func (r *bundleReader) edges(i int) []analyzer.Edge {
	n := &r.nodes[i]
	s := &n.step
	var out []analyzer.Edge
	add := func(kind, to, label, branchID string) {
		out = append(out, analyzer.Edge{From: n.id, To: to, Kind: kind, Label: label, BranchID: branchID})
	}
	if s.Kind == analyzer.KindGoto && s.GotoTarget != "" {
		add(analyzer.EdgeGoto, s.GotoTarget, "", "")
	}
	if s.Condition != nil {
		r.conditionEdges(i, add)
		return out
	}
	switch n.form {
	case "null", "empty":
	case "scalar", "array":
		for _, t := range n.next {
			add(analyzer.EdgeNext, r.resolveTarget(t), "", "")
		}
	default:
		if s.Kind != analyzer.KindGoto {
			if c := r.continuation(i); c != "" {
				add(analyzer.EdgeNext, c, "", "")
			}
		}
	}
	return out
}

// conditionEdges builds an if/else's branch and None edges. An explicit next array maps to branches
// as in the builder; otherwise each branch leads to its inline actions (an empty declared list is an
// empty branch), else to its lane, else to the step after the if/else.
func (r *bundleReader) conditionEdges(i int, add func(kind, to, label, branchID string)) {
	n := &r.nodes[i]
	branches := n.step.Condition.Branches
	noneLabel := cmp.Or(n.meta.str("noneBranchName"), "None")
	elseID := ""
	if n.elseEntry != nil {
		noneLabel = cmp.Or(n.meta.str("noneBranchName"), cmp.Or(n.elseEntry.str("name"), "None"))
		elseID = n.elseEntry.str("id")
	}
	switch n.form {
	case "null", "empty":
		for _, br := range branches {
			add(analyzer.EdgeBranch, "", br.Name, br.ID)
		}
		add(analyzer.EdgeElse, "", noneLabel, elseID)
		return
	case "array":
		used := make([]bool, len(branches))
		for _, m := range r.nextBranches(i) {
			to := r.resolveTarget(m.target)
			switch {
			case m.extra:
				add(analyzer.EdgeBranch, to, "", m.target)
			case m.branch >= 0:
				used[m.branch] = true
				br := branches[m.branch]
				add(analyzer.EdgeBranch, to, br.Name, cmp.Or(br.ID, m.target))
			default:
				add(analyzer.EdgeElse, to, noneLabel, m.target)
			}
		}
		for bi, br := range branches {
			if !used[bi] {
				add(analyzer.EdgeBranch, "", br.Name, br.ID)
			}
		}
		return
	}
	cont := r.continuation(i)
	if n.form == "scalar" {
		cont = r.target(n.next, cont)
	}
	for bi, br := range branches {
		to := cont
		switch {
		case bi < len(n.inlineDeclared) && n.inlineDeclared[bi]:
			to = ""
			if list := n.inlineActions[bi]; len(list) > 0 {
				to = r.nodes[list[0]].id
			}
		case len(r.lanes[branchLane(i, bi)]) > 0:
			to = r.laneHead(branchLane(i, bi))
		}
		add(analyzer.EdgeBranch, to, br.Name, br.ID)
	}
	to := cont
	switch {
	case n.elseDeclared:
		to = ""
		if len(n.elseActions) > 0 {
			to = r.nodes[n.elseActions[0]].id
		}
	case len(r.lanes[branchLane(i, -1)]) > 0:
		to = r.laneHead(branchLane(i, -1))
	}
	add(analyzer.EdgeElse, to, noneLabel, elseID)
}

// hasParent reports whether a step hangs off another step: an inline action, or a list step whose
// parentKey names a branch or an existing step (as in the builder). Such a step is not taken as the
// entry while another candidate is.
func (r *bundleReader) hasParent(i int) bool {
	n := &r.nodes[i]
	if n.inline {
		return true
	}
	if n.parentKey == "" {
		return false
	}
	if _, ok := r.branchIDs[n.parentKey]; ok {
		return true
	}
	_, ok := parentPrefix(n.parentKey, func(s string) bool { _, ok := r.byID[s]; return ok })
	return ok
}
