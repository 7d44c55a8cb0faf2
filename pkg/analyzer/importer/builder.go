package importer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// builderSchemaPrefix starts the "$schema" of every export envelope version this reader accepts.
const builderSchemaPrefix = "ghl-workflow-export/"

// builderUnit is one workflow of a builder input, with what its envelope says around it.
type builderUnit struct {
	path     string          // JSON path of the workflow document
	doc      fields          // the workflow document
	source   obj             // the envelope's {locationId, workflowId}, or nil
	triggers json.RawMessage // the trigger array, or nil
	trigPath string
	raw      json.RawMessage // the Result.Raw entry
}

// builderDoc is what one envelope (or bare document) contributes to the location.
type builderDoc struct {
	units    []builderUnit
	ctx      *analyzer.Context
	locID    string
	complete bool
}

// isBuilderEnvelope recognises an envelope without "$schema": a "workflow" object, or a "workflows"
// array whose first object holds "workflow" or "workflowData".
func isBuilderEnvelope(top fields) bool {
	if raw, ok := top["workflow"]; ok && kindOf(raw) == "an object" {
		return true
	}
	found := false
	eachElement(top["workflows"], func(it json.RawMessage) bool {
		var f fields
		if kindOf(it) != "an object" || json.Unmarshal(it, &f) != nil {
			return false
		}
		found = f.has("workflow") || f.has("workflowData")
		return true
	})
	return found
}

// builderEnvelope reads a top-level builder object: a single or bulk envelope or a bare document.
func (p *parser) builderEnvelope(top fields, raw json.RawMessage) (*Result, error) {
	d, err := p.readEnvelope(top, raw, "$")
	if err != nil {
		return nil, err
	}
	return p.builderResult([]*builderDoc{d})
}

// builderArray reads a JSON array of builder objects, merged into one location.
func (p *parser) builderArray(items []json.RawMessage) (*Result, error) {
	docs := make([]*builderDoc, 0, len(items))
	for i, it := range items {
		path := fmt.Sprintf("$[%d]", i)
		var f fields
		if json.Unmarshal(it, &f) != nil {
			return nil, errorf(path, "expected a GHL workflow export object, got %s", kindOf(it))
		}
		if !f.has("$schema") && !f.has("workflowData") && !isBuilderEnvelope(f) {
			return nil, errorf(path, "expected a GHL workflow export (\"workflow\", \"workflows\" or \"workflowData\")")
		}
		d, err := p.readEnvelope(f, it, path)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return p.builderResult(docs)
}

// readEnvelope collects the workflows of one envelope or bare document.
func (p *parser) readEnvelope(top fields, raw json.RawMessage, path string) (*builderDoc, error) {
	d := &builderDoc{}
	if top.has("$schema") {
		s, _ := top.value("$schema").(string)
		if !strings.HasPrefix(s, builderSchemaPrefix) {
			return nil, errorf(path+".$schema", "unsupported schema %q: expected %sv1", s, builderSchemaPrefix)
		}
	}
	if top.has("context") {
		var cf fields
		if json.Unmarshal(top["context"], &cf) != nil {
			return nil, errorf(path+".context", "expected an object, got %s", kindOf(top["context"]))
		}
		ctx, err := p.readContext(cf, path+".context")
		if err != nil {
			return nil, err
		}
		d.ctx, d.locID = ctx, contextLocationID(cf)
		if d.ctx == nil {
			// A context object naming none of the keys still says the location was described.
			d.ctx = &analyzer.Context{}
		}
	}
	source := asObj(top.value("source"))
	if d.locID == "" {
		d.locID = source.str("locationId", "location_id")
	}
	switch {
	case top.has("workflows"):
		d.complete = true
		items, err := rawArray(top["workflows"], path+".workflows")
		if err != nil {
			return nil, err
		}
		if err := p.countWorkflows(len(items)); err != nil {
			return nil, err
		}
		for i, it := range items {
			u, err := bulkEntry(it, fmt.Sprintf("%s.workflows[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if d.locID == "" {
				d.locID = u.source.str("locationId", "location_id")
			}
			d.units = append(d.units, u)
		}
	case top.has("workflow"):
		if err := p.countWorkflows(1); err != nil {
			return nil, err
		}
		var doc fields
		if json.Unmarshal(top["workflow"], &doc) != nil {
			return nil, errorf(path+".workflow", "expected a workflow object, got %s", kindOf(top["workflow"]))
		}
		d.units = append(d.units, builderUnit{
			path: path + ".workflow", doc: doc, source: source,
			triggers: rawField(top, "triggers"), trigPath: path + ".triggers",
			raw: wrapRaw(top, "source", "workflow", "triggers"),
		})
	case top.has("workflowData"):
		if err := p.countWorkflows(1); err != nil {
			return nil, err
		}
		d.units = append(d.units, builderUnit{
			path: path, doc: top, triggers: rawField(top, "triggers"), trigPath: path + ".triggers",
			raw: wrapRaw(fields{"workflow": raw}, "workflow"),
		})
	default:
		return nil, errorf(path, "a GHL workflow export needs \"workflow\" (one workflow) or \"workflows\" (a bulk export)")
	}
	return d, nil
}

// bulkEntry reads one element of a bulk export's "workflows": {source, workflow, triggers}, or a bare
// workflow document.
func bulkEntry(raw json.RawMessage, path string) (builderUnit, error) {
	var ef fields
	if json.Unmarshal(raw, &ef) != nil {
		return builderUnit{}, errorf(path, "expected an object, got %s", kindOf(raw))
	}
	switch {
	case ef.has("workflow"):
		var doc fields
		if json.Unmarshal(ef["workflow"], &doc) != nil {
			return builderUnit{}, errorf(path+".workflow", "expected a workflow object, got %s", kindOf(ef["workflow"]))
		}
		return builderUnit{
			path: path + ".workflow", doc: doc, source: asObj(ef.value("source")),
			triggers: rawField(ef, "triggers"), trigPath: path + ".triggers",
			raw: wrapRaw(ef, "source", "workflow", "triggers"),
		}, nil
	case ef.has("workflowData"):
		return builderUnit{
			path: path, doc: ef, triggers: rawField(ef, "triggers"), trigPath: path + ".triggers",
			raw: wrapRaw(fields{"workflow": raw}, "workflow"),
		}, nil
	}
	return builderUnit{}, errorf(path, "expected {\"source\", \"workflow\", \"triggers\"} or a workflow document with \"workflowData\"")
}

// wrapRaw builds the compact {"k1": ..., "k2": ...} of the keys f has, in the order given.
func wrapRaw(f fields, keys ...string) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, k := range keys {
		raw, ok := f[k]
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		fmt.Fprintf(&b, "%q:", k)
		b.Write(compact(raw))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// rawArray decodes an array whose elements stay encoded.
func rawArray(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, errorf(path, "expected an array, got %s", kindOf(raw))
	}
	return items, nil
}

// builderResult turns the collected workflows into one location.
func (p *parser) builderResult(docs []*builderDoc) (*Result, error) {
	res := &Result{Location: newLocation(), Raw: []json.RawMessage{}, Dialect: DialectBuilder}
	var units []builderUnit
	for _, d := range docs {
		if res.Location.ID == "" {
			res.Location.ID = d.locID
		}
		res.Location.Complete = res.Location.Complete || d.complete
		res.Location.Context = mergeContext(res.Location.Context, d.ctx)
		units = append(units, d.units...)
	}
	explicit := make([]string, len(units))
	firstAt := make(map[string]string, len(units))
	for i, u := range units {
		key := "_id"
		id, _ := scalarString(u.doc.value("_id"))
		if id == "" {
			key = "id"
			id, _ = scalarString(u.doc.value("id"))
		}
		if id == "" {
			id = u.source.str("workflowId", "workflow_id")
		}
		if id == "" {
			continue
		}
		if prev, dup := firstAt[id]; dup {
			return nil, errorf(u.path+"."+key, "duplicate workflow id %q (first at %s)", id, prev)
		}
		firstAt[id] = u.path
		explicit[i] = id
	}
	ids := assignIDs(explicit, "workflow")
	for i, u := range units {
		wf, err := p.builderWorkflow(u, ids[i])
		if err != nil {
			return nil, err
		}
		res.Location.Workflows = append(res.Location.Workflows, wf)
		res.Raw = append(res.Raw, u.raw)
	}
	return res, nil
}

// builderDocKeys are the workflow document's scalar keys the reader uses.
var builderDocKeys = []string{
	"name", "status", "version", "locationId", "location_id", "allowMultiple", "allowReentry",
	"allowReEntry", "allowMultipleOpportunity", "stopOnResponse", "removeContactFromLastStep",
	"autoMarkAsRead", "timezone", "timeWindow", "window", "sendingWindow", "creationSource", "originType",
}

// builderWorkflow reads one workflow document with its triggers and steps.
func (p *parser) builderWorkflow(u builderUnit, id string) (analyzer.Workflow, error) {
	doc := obj{}
	for _, k := range builderDocKeys {
		if v := u.doc.value(k); v != nil {
			doc[k] = v
		}
	}
	wf := analyzer.Workflow{
		ID:         id,
		Name:       doc.str("name"),
		Status:     normStatus(doc.str("status")),
		LocationID: doc.str("locationId", "location_id"),
		Dialect:    DialectBuilder,
	}
	if v, ok := doc.number("version"); ok {
		wf.Version = clampInt(v)
	}
	sourceLoc := u.source.str("locationId", "location_id")
	if wf.LocationID == "" {
		wf.LocationID = sourceLoc
	}

	triggers, trigPath := u.triggers, u.trigPath
	if triggers == nil {
		triggers, trigPath = rawField(u.doc, "triggers"), u.path+".triggers"
	}
	trigObjs, err := objectArray(triggers, trigPath, "trigger")
	if err != nil {
		return wf, err
	}
	allowFromTrigger := false
	for _, t := range trigObjs {
		wf.Triggers = append(wf.Triggers, readTrigger(t))
		allowFromTrigger = allowFromTrigger || t.truthy("allowMultiple")
	}

	wf.Settings = analyzer.Settings{
		AllowMultipleOpportunity:  doc.truthy("allowMultipleOpportunity"),
		StopOnResponse:            doc.truthy("stopOnResponse"),
		RemoveContactFromLastStep: doc.truthy("removeContactFromLastStep"),
		AutoMarkAsRead:            doc.truthy("autoMarkAsRead"),
		Timezone:                  doc.str("timezone"),
		TimeWindow:                readWindow(doc.child("timeWindow", "sendingWindow", "window")),
	}
	if allow, ok := doc.flag("allowMultiple", "allowReentry", "allowReEntry"); ok {
		wf.Settings.AllowReEntry = allow
	} else {
		wf.Settings.AllowReEntry = allowFromTrigger
	}
	switch normKey(doc.str("creationSource", "originType")) {
	case "snapshot", "recipe":
		wf.Settings.Cloned = true
	}
	if sourceLoc != "" && doc.str("locationId", "location_id") != "" && sourceLoc != doc.str("locationId", "location_id") {
		wf.Settings.Cloned = true
	}

	var templates []json.RawMessage
	tplPath := u.path + ".workflowData.templates"
	if u.doc.has("workflowData") {
		var wd fields
		if json.Unmarshal(u.doc["workflowData"], &wd) != nil {
			return wf, errorf(u.path+".workflowData", "expected an object, got %s", kindOf(u.doc["workflowData"]))
		}
		if wd.has("templates") {
			if templates, err = rawArray(wd["templates"], tplPath); err != nil {
				return wf, err
			}
		}
	}
	if err := p.checkSteps(len(templates)); err != nil {
		return wf, err
	}
	g, err := readBuilderGraph(templates, tplPath, wf.LocationID)
	if err != nil {
		return wf, err
	}
	wf.Steps, wf.Edges = g.steps, g.edges
	finishWorkflow(&wf, g.hasParent)
	return wf, nil
}

// objectArray decodes an optional array of objects; what names the elements in errors.
func objectArray(raw json.RawMessage, path, what string) ([]obj, error) {
	if raw == nil {
		return nil, nil
	}
	items, err := rawArray(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(items))
	for i, it := range items {
		o, ok := decodeObject(it)
		if !ok {
			return nil, errorf(fmt.Sprintf("%s[%d]", path, i), "expected a %s object, got %s", what, kindOf(it))
		}
		out = append(out, o)
	}
	return out, nil
}

// normStatus maps a workflow status to published or draft. GHL and the exporters import unknown or
// missing statuses as draft; any other explicit status (archived) is kept lower-cased.
func normStatus(s string) string {
	switch k := strings.ToLower(strings.TrimSpace(s)); k {
	case "published", "active", "live", "enabled", "on":
		return analyzer.StatusPublished
	case "draft", "inactive", "disabled", "off", "paused", "":
		return analyzer.StatusDraft
	default:
		return k
	}
}

// Node roles in the builder's template list.
const (
	rolePlain     = iota // any other step
	roleCondition        // an if/else condition node, collapsed with its branch nodes into one step
	roleBranch           // a branch-yes/branch-no node of an if/else
	roleMarker           // a transition marker starting one path of a multi-path action
)

// bnode is one builder template.
type bnode struct {
	id, typ, name string
	o, attrs      obj
	raw           json.RawMessage
	next          []string
	form          string
	parentKey     string
	role          int
	collapsed     bool
}

// builderGraph is the steps and edges of one workflow.
type builderGraph struct {
	steps     []analyzer.Step
	edges     []analyzer.Edge
	hasParent func(i int) bool
}

// readBuilderGraph reads workflowData.templates[]. Branch nodes of an if/else and transition markers
// of multi-path actions are collapsed into labelled edges of the step they belong to; next is the
// runtime edge and parentKey only a consistency check (used to prefer a true entry as the root).
func readBuilderGraph(items []json.RawMessage, path, wfLoc string) (builderGraph, error) {
	nodes := make([]bnode, 0, len(items))
	byID := make(map[string]int, len(items))
	for i, raw := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		n, err := readBuilderNode(raw, ip)
		if err != nil {
			return builderGraph{}, err
		}
		if j, dup := byID[n.id]; dup {
			return builderGraph{}, errorf(ip+".id", "duplicate step id %q (first at %s[%d])", n.id, path, j)
		}
		byID[n.id] = i
		nodes = append(nodes, n)
	}
	// A branch node or marker is collapsed into the one step that points at it. One pointed at from
	// several places is malformed and is kept as a step instead: copying its paths into every
	// referrer would let a small input multiply into a huge number of edges.
	references := make(map[string]int)
	for _, n := range nodes {
		for _, t := range n.next {
			references[t]++
		}
	}
	for i := range nodes {
		n := &nodes[i]
		n.collapsed = (n.role == roleBranch || n.role == roleMarker) && references[n.id] == 1
	}
	b := &builderEdges{nodes: nodes, byID: byID}

	var g builderGraph
	var outIdx []int
	for i := range nodes {
		n := &nodes[i]
		if n.collapsed {
			continue
		}
		s := interpret(stepInput{id: n.id, typ: n.typ, name: n.name, attrs: n.attrs, attrsKey: "attributes", dialect: DialectBuilder, workflowLocation: wfLoc})
		if n.role == roleBranch || n.role == roleMarker {
			// A branch node or marker that is not collapsed (nothing, or several steps, point at
			// it) is kept so the analyzer can report it; it is a structural node, not a condition
			// or an action of its own.
			s.Kind, s.Condition = analyzer.KindAction, nil
		}
		s.Raw = compact(n.raw)
		s.Shape = b.shape(n, &s)
		g.edges = append(g.edges, b.edges(n, &s)...)
		g.steps = append(g.steps, s)
		outIdx = append(outIdx, i)
	}
	g.hasParent = func(i int) bool { return parentResolves(nodes[outIdx[i]].parentKey, byID) }
	return g, nil
}

// readBuilderNode reads one template: its id (required, a non-empty string), type, name, attributes
// and next (a string, an array of strings, or absent).
func readBuilderNode(raw json.RawMessage, path string) (bnode, error) {
	o, ok := decodeObject(raw)
	if !ok {
		return bnode{}, errorf(path, "expected a step object, got %s", kindOf(raw))
	}
	if o["id"] == nil {
		return bnode{}, errorf(path+".id", "step has no id")
	}
	id, ok := o["id"].(string)
	if !ok {
		return bnode{}, errorf(path+".id", "expected a string step id, got %s", jsonKind(o["id"]))
	}
	if strings.TrimSpace(id) == "" {
		return bnode{}, errorf(path+".id", "step id is empty")
	}
	next, form, err := readNext(o, path+".next", false)
	if err != nil {
		return bnode{}, err
	}
	n := bnode{
		id: id, typ: o.str("type"), name: o.str("name"), o: o, attrs: o.child("attributes"),
		raw: raw, next: next, form: form, parentKey: o.str("parentKey", "parent_key"),
	}
	if n.attrs == nil {
		n.attrs = obj{}
	}
	t, _ := lookupStepType(n.typ)
	switch {
	case normKey(n.typ) == "transition" || normKey(o.str("cat")) == "transition":
		n.role = roleMarker
	case t.kind == analyzer.KindCondition:
		n.role = roleCondition
		if isBranchNode(n.o, n.attrs) {
			n.role = roleBranch
		}
	}
	return n, nil
}

// isBranchNode tells an if/else branch node (branch-yes, branch-no) from its condition node.
func isBranchNode(o, attrs obj) bool {
	if strings.HasPrefix(normKey(o.str("nodeType")), "branch") || attrs.truthy("else") {
		return true
	}
	isIf, ok := attrs.flag("if")
	return ok && !isIf
}

// readNext reads a step's next: absent (or null), a string, or an array of strings; any other type
// is an *Error. In the bundle dialect an explicit null means the step ends; nullIsExplicit reports it
// as form "null" so the reader can tell it from an absent next.
func readNext(o obj, path string, nullIsExplicit bool) ([]string, string, error) {
	v, present := o["next"]
	switch t := v.(type) {
	case nil:
		if present && nullIsExplicit {
			return nil, "null", nil
		}
		return nil, "absent", nil
	case string:
		if t == "" {
			return nil, "scalar", nil
		}
		return []string{t}, "scalar", nil
	case []any:
		if len(t) == 0 {
			return nil, "empty", nil
		}
		out := make([]string, 0, len(t))
		for k, item := range t {
			s, ok := item.(string)
			if !ok {
				return nil, "", errorf(fmt.Sprintf("%s[%d]", path, k), "expected a step id string, got %s", jsonKind(item))
			}
			if s != "" {
				out = append(out, s)
			}
		}
		return out, "array", nil
	}
	return nil, "", errorf(path, "expected a step id or an array of step ids, got %s", jsonKind(v))
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// maxParentCandidates bounds how many "-" positions of a parentKey are tried as the end of a parent
// id, so a hostile key cannot cost more than a fixed multiple of its length.
const maxParentCandidates = 64

// parentResolves reports whether a parentKey names an existing step, exactly or as
// "<parentId>-<branchName>" (matched by prefix, ghl-research.md §2.6).
func parentResolves(pk string, byID map[string]int) bool {
	_, ok := parentPrefix(pk, func(id string) bool { _, ok := byID[id]; return ok })
	return ok
}

// parentPrefix finds the id a parentKey starts with: the whole key, or the part before one of its
// first dashes. It returns the id and the rest after the dash (the branch name).
func parentPrefix(pk string, exists func(string) bool) (id string, ok bool) {
	if pk == "" {
		return "", false
	}
	if exists(pk) {
		return pk, true
	}
	tried := 0
	for k := 0; k < len(pk) && tried < maxParentCandidates; k++ {
		if pk[k] != '-' || k == 0 {
			continue
		}
		tried++
		if exists(pk[:k]) {
			return pk[:k], true
		}
	}
	return "", false
}

// builderEdges builds the edges of builder steps.
type builderEdges struct {
	nodes []bnode
	byID  map[string]int
}

func (b *builderEdges) node(id string) *bnode {
	if i, ok := b.byID[id]; ok {
		return &b.nodes[i]
	}
	return nil
}

func (b *builderEdges) isCollapsed(id string) bool {
	n := b.node(id)
	return n != nil && n.collapsed
}

// resolve follows collapsed nodes (branch nodes, markers) from t to the steps they lead to. "" in the
// result means a path that ends with nothing after it. Each collapsed node is visited once.
func (b *builderEdges) resolve(t string) []string {
	if !b.isCollapsed(t) {
		return []string{t}
	}
	var out []string
	seen := map[string]bool{}
	added := map[string]bool{}
	add := func(to string) {
		if !added[to] {
			added[to] = true
			out = append(out, to)
		}
	}
	queue := []string{t}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if seen[x] {
			continue
		}
		seen[x] = true
		n := b.node(x)
		if len(n.next) == 0 {
			add("")
		}
		for _, y := range n.next {
			if b.isCollapsed(y) {
				queue = append(queue, y)
			} else {
				add(y)
			}
		}
	}
	return out
}

// isMultiPath reports whether a step splits into named paths (find opportunity, split, a wait with two
// exits): it says so in cat or attributes, or its next is an array naming transition markers. A scalar
// next to a marker is a plain next that the marker is followed through.
func (b *builderEdges) isMultiPath(n *bnode) bool {
	switch normKey(n.typ) {
	case "find_opportunity", "workflow_split":
		return true
	}
	if normKey(n.o.str("cat")) == "multi_path" || n.attrs.truthy("convertToMultipath") || len(n.attrs.list("transitions")) > 0 {
		return true
	}
	if n.form != "array" {
		return false
	}
	for _, t := range n.next {
		if m := b.node(t); m != nil && m.role == roleMarker {
			return true
		}
	}
	return false
}

// shape records how the template wrote its next, for WD006.
func (b *builderEdges) shape(n *bnode, s *analyzer.Step) *analyzer.EdgeShape {
	sh := &analyzer.EdgeShape{Next: n.form, Targets: len(n.next), Branches: -1}
	multi := b.isMultiPath(n)
	sh.Router = n.role == roleCondition || multi || normKey(n.o.str("cat")) == "conditions" ||
		normKey(n.o.str("nodeType")) == "condition_node"
	switch {
	case n.role == roleCondition && s.Condition != nil:
		sh.Branches = len(s.Condition.Branches)
	case multi:
		sh.Branches = len(n.attrs.list("transitions"))
	case sh.Router:
		sh.Branches = len(n.attrs.list("branches"))
	}
	return sh
}

// edges builds a step's outgoing edges and, for a wait with a timeout exit, its timeout.
func (b *builderEdges) edges(n *bnode, s *analyzer.Step) []analyzer.Edge {
	switch {
	case n.role == roleCondition && s.Condition != nil:
		return b.conditionEdges(n, s)
	case b.isMultiPath(n):
		return b.multiPathEdges(n, s)
	}
	var out []analyzer.Edge
	if s.Kind == analyzer.KindGoto && s.GotoTarget != "" {
		out = append(out, analyzer.Edge{From: n.id, To: s.GotoTarget, Kind: analyzer.EdgeGoto})
	}
	for _, t := range n.next {
		for _, to := range b.resolve(t) {
			out = append(out, analyzer.Edge{From: n.id, To: to, Kind: analyzer.EdgeNext})
		}
	}
	return out
}

// conditionEdges collapses GHL's three-node if/else: the condition's next lists one branch node per
// branch and, when the automatic None branch is there, one more; each branch node's next is the first
// step of that branch. A next that names steps directly (no branch nodes) is read by position. With
// no next at all every branch, None included, is empty.
func (b *builderEdges) conditionEdges(n *bnode, s *analyzer.Step) []analyzer.Edge {
	branches := s.Condition.Branches
	noneName := n.attrs.str("noneBranchName")
	var out []analyzer.Edge
	emit := func(kind, label, branchID, target string) {
		for _, to := range b.resolve(target) {
			out = append(out, analyzer.Edge{From: n.id, To: to, Kind: kind, Label: label, BranchID: branchID})
		}
	}
	if len(n.next) == 0 {
		for _, br := range branches {
			out = append(out, analyzer.Edge{From: n.id, Kind: analyzer.EdgeBranch, Label: br.Name, BranchID: br.ID})
		}
		return append(out, analyzer.Edge{From: n.id, Kind: analyzer.EdgeElse, Label: cmp.Or(noneName, "None")})
	}
	used := make([]bool, len(branches))
	byID := newIndexByKey(len(branches), func(i int) string { return branches[i].ID })
	elseDone := false
	for pos, t := range n.next {
		bn := b.node(t)
		isBranchNode := bn != nil && bn.collapsed && bn.role == roleBranch
		bi := byID.take(t, used)
		isElseNode := isBranchNode && (bn.attrs.truthy("else") || isElseNodeType(bn.o.str("nodeType")))
		if bi < 0 && !isElseNode && pos < len(branches) && !used[pos] {
			bi = pos
		}
		branchID := ""
		if isBranchNode {
			branchID = t
		}
		switch {
		case bi >= 0:
			used[bi] = true
			br := &branches[bi]
			if br.ID == "" {
				br.ID = branchID
			}
			if br.Name == "" && isBranchNode {
				br.Name = cmp.Or(bn.attrs.str("conditionName"), bn.name)
			}
			emit(analyzer.EdgeBranch, br.Name, cmp.Or(branchID, br.ID), t)
		case !elseDone:
			elseDone = true
			label := noneName
			if label == "" && isBranchNode {
				label = cmp.Or(bn.attrs.str("conditionName"), bn.name)
			}
			emit(analyzer.EdgeElse, cmp.Or(label, "None"), branchID, t)
		default:
			// More targets than branches plus None: kept so nothing is lost; WD006 reports the shape.
			emit(analyzer.EdgeBranch, "", branchID, t)
		}
	}
	for i, br := range branches {
		if !used[i] {
			out = append(out, analyzer.Edge{From: n.id, Kind: analyzer.EdgeBranch, Label: br.Name, BranchID: br.ID})
		}
	}
	return out
}

// multiPathEdges builds the named paths of a multi-path action from its next and
// attributes.transitions, dropping the transition markers. A wait with two exits gets a next edge for
// its primary exit and a timeout edge for the exit named timeout (shapes.md); startAfter is then its
// timeout.
func (b *builderEdges) multiPathEdges(n *bnode, s *analyzer.Step) []analyzer.Edge {
	var trans []obj
	for _, item := range n.attrs.list("transitions") {
		if o := asObj(item); o != nil {
			trans = append(trans, o)
		}
	}
	isWait := s.Kind == analyzer.KindWait && s.Wait != nil
	hasTimeout := false
	used := make([]bool, len(trans))
	var out []analyzer.Edge
	kindFor := func(marker *bnode, tr obj) string {
		if !isWait {
			return analyzer.EdgeTransition
		}
		timeout := tr != nil && (strings.Contains(normKey(tr.str("name")), "timeout") || strings.Contains(normKey(tr.str("type", "condition")), "timeout"))
		if marker != nil {
			timeout = timeout || strings.Contains(normKey(marker.attrs.str("type")), "timeout") || strings.Contains(normKey(marker.name), "timeout")
		}
		if timeout {
			hasTimeout = true
			return analyzer.EdgeTimeout
		}
		return analyzer.EdgeNext
	}
	byID := newIndexByKey(len(trans), func(i int) string { return trans[i].str("id") })
	for pos, t := range n.next {
		ti := byID.take(t, used)
		if ti < 0 && pos < len(trans) && !used[pos] {
			ti = pos
		}
		var tr obj
		label, branchID := "", ""
		if ti >= 0 {
			used[ti] = true
			tr = trans[ti]
			label, branchID = tr.str("name"), tr.str("id")
		}
		var marker *bnode
		if m := b.node(t); m != nil && m.collapsed && m.role == roleMarker {
			marker, branchID = m, t
			label = cmp.Or(label, m.name)
		}
		kind := kindFor(marker, tr)
		for _, to := range b.resolve(t) {
			out = append(out, analyzer.Edge{From: n.id, To: to, Kind: kind, Label: label, BranchID: branchID})
		}
	}
	for i, tr := range trans {
		if !used[i] {
			out = append(out, analyzer.Edge{From: n.id, Kind: kindFor(nil, tr), Label: tr.str("name"), BranchID: tr.str("id")})
		}
	}
	if isWait && hasTimeout && isEventWait(s.Wait.Mode) {
		if d := readStartAfter(n.attrs.child("startAfter")); d != nil && d.Value > 0 {
			s.Wait.Timeout = d
		}
	}
	return out
}

// indexByKey finds list items by key in constant time, in list order, skipping items already used.
type indexByKey map[string][]int

// newIndexByKey indexes n items by the non-empty keys key returns.
func newIndexByKey(n int, key func(i int) string) indexByKey {
	idx := indexByKey{}
	for i := 0; i < n; i++ {
		if k := key(i); k != "" {
			idx[k] = append(idx[k], i)
		}
	}
	return idx
}

// take returns the first unused item with key k, or -1. It does not mark the item used.
func (idx indexByKey) take(k string, used []bool) int {
	list := idx[k]
	for len(list) > 0 && used[list[0]] {
		list = list[1:]
	}
	idx[k] = list
	if len(list) == 0 {
		return -1
	}
	return list[0]
}

// isElseNodeType reports whether a branch node's nodeType names the None branch (branch-no).
func isElseNodeType(nodeType string) bool {
	k := normKey(nodeType)
	return strings.HasSuffix(k, "_no") || strings.HasSuffix(k, "_none") || strings.HasSuffix(k, "_else")
}
