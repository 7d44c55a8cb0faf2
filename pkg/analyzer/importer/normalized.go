package importer

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// isNormalizedLocation tells the normalized model from the bundle: the first workflow that decides
// carries "edges" or has a first step carrying "kind" (the bundle writes "type" and no edges).
func isNormalizedLocation(top fields) bool {
	normalized := false
	eachElement(top["workflows"], func(it json.RawMessage) bool {
		var wf fields
		if kindOf(it) != "an object" || json.Unmarshal(it, &wf) != nil {
			return false
		}
		decided, n := normalizedShape(wf)
		normalized = n
		return decided
	})
	return normalized
}

// isNormalizedWorkflow tells a single normalized workflow from a single bundle workflow.
func isNormalizedWorkflow(top fields) bool {
	_, normalized := normalizedShape(top)
	return normalized
}

// normalizedShape decides from one workflow object: it is normalized when it has an "edges" key or
// its first step object has "kind"; it is undecided when it has neither edges nor step objects.
func normalizedShape(wf fields) (decided, normalized bool) {
	if _, ok := wf["edges"]; ok {
		return true, true
	}
	eachElement(wf["steps"], func(st json.RawMessage) bool {
		var sf fields
		if kindOf(st) != "an object" || json.Unmarshal(st, &sf) != nil {
			return false
		}
		_, normalized = sf["kind"]
		decided = true
		return true
	})
	return decided, normalized
}

// normalizedLocation reads a Location document of the normalized model and validates it.
func (p *parser) normalizedLocation(top fields) (*Result, error) {
	items, err := rawArray(top["workflows"], "$.workflows")
	if err != nil {
		return nil, err
	}
	if err := p.countWorkflows(len(items)); err != nil {
		return nil, err
	}
	res := &Result{Location: newLocation(), Raw: []json.RawMessage{}, Dialect: DialectNormalized}
	loc := res.Location
	if top.has("id") {
		id, ok := top.value("id").(string)
		if !ok {
			return nil, errorf("$.id", "expected a string, got %s", kindOf(top["id"]))
		}
		loc.ID = id
	}
	if top.has("complete") {
		if err := decodeInto(top["complete"], &loc.Complete, "$.complete"); err != nil {
			return nil, err
		}
	}
	if top.has("context") {
		loc.Context = &analyzer.Context{}
		if err := decodeInto(top["context"], loc.Context, "$.context"); err != nil {
			return nil, err
		}
		if err := p.countNormalizedContext(loc.Context, "$.context"); err != nil {
			return nil, err
		}
	}
	firstAt := map[string]int{}
	for i, it := range items {
		path := fmt.Sprintf("$.workflows[%d]", i)
		wf, err := p.normalizedWorkflowDoc(it, path)
		if err != nil {
			return nil, err
		}
		if j, dup := firstAt[wf.ID]; dup {
			return nil, errorf(path+".id", "duplicate workflow id %q (first at $.workflows[%d])", wf.ID, j)
		}
		firstAt[wf.ID] = i
		loc.Workflows = append(loc.Workflows, wf)
		res.Raw = append(res.Raw, compact(it))
	}
	return res, nil
}

// countNormalizedContext counts a decoded normalized context's objects towards MaxContextObjects, list
// by list in the model's order.
func (p *parser) countNormalizedContext(c *analyzer.Context, path string) error {
	for _, l := range []struct {
		key string
		n   int
	}{
		{"tags", len(c.Tags)}, {"customFields", len(c.CustomFields)}, {"customValues", len(c.CustomValues)},
		{"calendars", len(c.Calendars)}, {"users", len(c.Users)}, {"pipelines", len(c.Pipelines)},
	} {
		if err := p.countContext(l.n, path+"."+l.key); err != nil {
			return err
		}
	}
	for i, pl := range c.Pipelines {
		if err := p.countContext(len(pl.Stages), fmt.Sprintf("%s.pipelines[%d].stages", path, i)); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		key string
		n   int
	}{
		{"forms", len(c.Forms)}, {"surveys", len(c.Surveys)}, {"templates", len(c.Templates)}, {"phoneNumbers", len(c.PhoneNumbers)},
	} {
		if err := p.countContext(l.n, path+"."+l.key); err != nil {
			return err
		}
	}
	return nil
}

// normalizedWorkflow reads a single Workflow document of the normalized model.
func (p *parser) normalizedWorkflow(_ fields, raw json.RawMessage) (*Result, error) {
	if err := p.countWorkflows(1); err != nil {
		return nil, err
	}
	wf, err := p.normalizedWorkflowDoc(raw, "$")
	if err != nil {
		return nil, err
	}
	loc := newLocation()
	loc.Workflows = append(loc.Workflows, wf)
	return &Result{Location: loc, Raw: []json.RawMessage{compact(raw)}, Dialect: DialectNormalized}, nil
}

// wireWorkflow is a normalized workflow with its lists still encoded, so each element's errors can
// name its index.
type wireWorkflow struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Version    int               `json:"version"`
	LocationID string            `json:"locationId"`
	Settings   analyzer.Settings `json:"settings"`
	Triggers   []json.RawMessage `json:"triggers"`
	Steps      []json.RawMessage `json:"steps"`
	Edges      []json.RawMessage `json:"edges"`
	Root       string            `json:"root"`
	Dialect    string            `json:"dialect"`
}

// normalizedWorkflowDoc decodes and validates one normalized workflow: a non-empty id, unique
// non-empty step ids, known step kinds, edges of known kinds leaving existing steps, and a root that
// names a step (computed when absent).
func (p *parser) normalizedWorkflowDoc(raw json.RawMessage, path string) (analyzer.Workflow, error) {
	if kindOf(raw) != "an object" {
		return analyzer.Workflow{}, errorf(path, "expected a workflow object, got %s", kindOf(raw))
	}
	var w wireWorkflow
	if err := decodeInto(raw, &w, path); err != nil {
		return analyzer.Workflow{}, err
	}
	if w.ID == "" {
		return analyzer.Workflow{}, errorf(path+".id", "workflow id is empty")
	}
	if err := p.checkSteps(len(w.Steps)); err != nil {
		return analyzer.Workflow{}, err
	}
	wf := analyzer.Workflow{
		ID: w.ID, Name: w.Name, Status: w.Status, Version: w.Version, LocationID: w.LocationID,
		Settings: w.Settings, Root: w.Root, Dialect: cmp.Or(w.Dialect, DialectNormalized),
		Triggers: make([]analyzer.Trigger, 0, len(w.Triggers)),
		Steps:    make([]analyzer.Step, 0, len(w.Steps)),
		Edges:    make([]analyzer.Edge, 0, len(w.Edges)),
	}
	for i, it := range w.Triggers {
		var t analyzer.Trigger
		if err := decodeInto(it, &t, fmt.Sprintf("%s.triggers[%d]", path, i)); err != nil {
			return wf, err
		}
		if t.Filters == nil {
			t.Filters = []analyzer.Filter{}
		}
		for k := range t.Filters {
			if t.Filters[k].Values == nil {
				t.Filters[k].Values = []string{}
			}
		}
		wf.Triggers = append(wf.Triggers, t)
	}
	pos := make(map[string]int, len(w.Steps))
	for i, it := range w.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		var s analyzer.Step
		if err := decodeInto(it, &s, sp); err != nil {
			return wf, err
		}
		switch j, dup := pos[s.ID]; {
		case s.ID == "":
			return wf, errorf(sp+".id", "step id is empty")
		case dup:
			return wf, errorf(sp+".id", "duplicate step id %q (first at %s.steps[%d])", s.ID, path, j)
		case !slices.Contains(analyzer.StepKinds, s.Kind):
			return wf, errorf(sp+".kind", "unknown step kind %q", s.Kind)
		}
		pos[s.ID] = i
		if len(s.Raw) > 0 {
			s.Raw = compact(s.Raw)
		}
		wf.Steps = append(wf.Steps, s)
	}
	for i, it := range w.Edges {
		ep := fmt.Sprintf("%s.edges[%d]", path, i)
		var e analyzer.Edge
		if err := decodeInto(it, &e, ep); err != nil {
			return wf, err
		}
		if !slices.Contains(analyzer.EdgeKinds, e.Kind) {
			return wf, errorf(ep+".kind", "unknown edge kind %q", e.Kind)
		}
		if _, ok := pos[e.From]; !ok {
			return wf, errorf(ep+".from", "no step %q in this workflow", e.From)
		}
		wf.Edges = append(wf.Edges, e)
	}
	if wf.Root == "" {
		wf.Root = chooseRoot(wf.Steps, wf.Edges, nil)
	} else if _, ok := pos[wf.Root]; !ok {
		return wf, errorf(path+".root", "no step %q in this workflow", wf.Root)
	}
	return wf, nil
}

// decodeInto decodes raw into v, reporting a type error at the path of the offending field.
func decodeInto(raw json.RawMessage, v any, path string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		p := path
		if typ.Field != "" {
			p += "." + typ.Field
		}
		return errorf(p, "expected %s, got %s", typ.Type.String(), typ.Value)
	}
	return errorf(path, "%v", err)
}
