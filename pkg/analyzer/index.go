package analyzer

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// locIndex holds what several rules need about the whole location, built once per analysis. Every
// lookup of the location context lives here, built on first use, so that no rule rebuilds one per
// workflow or per step: an analysis costs time linear in the workflows plus the context, never their
// product.
type locIndex struct {
	loc *Location
	// cancel is the analysis's context and cancelled records that it was found done (stopped).
	cancel    context.Context
	cancelled bool
	// byID maps a workflow id to the workflow; duplicated ids keep the first.
	byID   map[string]*Workflow
	graphs map[*Workflow]*graph
	// lg is the location graph (locgraph.go), built on first use by locGraph.
	lg *locGraph
	// ctx indexes the location context; nil when the location has none.
	ctx *contextIndex
	// triggerLookups is WD017's per-kind test of trigger filter values, built on first use by
	// triggerObjects.
	triggerLookups map[string]func(t *Trigger, v string) bool
}

func newLocIndex(loc *Location) *locIndex {
	idx := &locIndex{loc: loc, byID: make(map[string]*Workflow, len(loc.Workflows)), graphs: make(map[*Workflow]*graph, len(loc.Workflows))}
	for i := range loc.Workflows {
		wf := &loc.Workflows[i]
		if _, dup := idx.byID[wf.ID]; !dup {
			idx.byID[wf.ID] = wf
		}
	}
	if loc.Context != nil {
		idx.ctx = &contextIndex{ctx: loc.Context, sets: map[string]map[string]bool{}, idx: idx}
	}
	return idx
}

// stopped reports whether the analysis was cancelled. Rules and indexes that loop over many workflows
// or context objects ask it as they go and stop early; the analysis then returns no report.
func (idx *locIndex) stopped() bool {
	if !idx.cancelled && idx.cancel != nil && idx.cancel.Err() != nil {
		idx.cancelled = true
	}
	return idx.cancelled
}

// checkEvery is how many objects a loop over the location context handles between two looks at the
// analysis's context: often enough to stop within a millisecond, rarely enough to cost nothing.
const checkEvery = 4096

// eachOf yields a pointer to every element of list in order, stopping early once the analysis is
// cancelled; it looks at the analysis's context every checkEvery elements.
func eachOf[T any](idx *locIndex, list []T) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		for i := range list {
			if i%checkEvery == checkEvery-1 && idx.stopped() {
				return
			}
			if !yield(&list[i]) {
				return
			}
		}
	}
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

// triggerObjects returns, per object kind, a test of whether a trigger's filter value names an
// existing object of the location context, or no entry when the context's list for that kind is
// unknown (nil). It is nil when the location has no context.
func (idx *locIndex) triggerObjects() map[string]func(t *Trigger, v string) bool {
	if idx.triggerLookups == nil && idx.ctx != nil {
		idx.triggerLookups = idx.ctx.triggerObjectLookups()
	}
	return idx.triggerLookups
}

// stageName names a stage by the location context when it knows it, else by id.
func (idx *locIndex) stageName(id string) string {
	if pl := idx.ctx.pipelines(); pl != nil {
		if name, ok := pl.stageNames[id]; ok {
			return fmt.Sprintf("%q", name)
		}
	}
	return fmt.Sprintf("%q", id)
}

// Object kinds the context index knows besides the Ref kinds: surveys and tags.
const (
	objectSurvey = "survey"
	objectTag    = "tag"
)

// contextIndex is the location context's objects by kind, for lookups by id. Each kind's set is built
// on first use, once per analysis, and shared by every rule that asks, so an analysis pays for a
// context list only when a rule needs it and never more than once.
type contextIndex struct {
	ctx *Context
	idx *locIndex
	// sets maps a kind to its ids, trimmed and non-empty; a kind whose list is unknown maps to nil.
	sets map[string]map[string]bool
	pl   *pipelineIndex
	// plBuilt says pl was built (it stays nil when the context has no pipeline list).
	plBuilt bool
}

// pipelineIndex is the context's pipelines and stages.
type pipelineIndex struct {
	// pipelines holds the pipeline ids; stages each (pipeline, stage) pair; anyStage the stage ids
	// of every pipeline.
	pipelines map[string]bool
	stages    map[stageOf]bool
	anyStage  map[string]bool
	// names and stageNames map pipeline and stage ids to the first non-empty name the context gives.
	names, stageNames map[string]string
}

// stageOf is a stage of a pipeline, as the pipeline index keys it.
type stageOf struct{ pipeline, stage string }

// ids returns the set of ids of the context's list of kind (a Ref kind, objectSurvey or objectTag;
// tags in tagKey form, custom fields and values by id, key and bare key, phone numbers by digits),
// and false when the context does not list that kind.
func (c *contextIndex) ids(kind string) (map[string]bool, bool) {
	if c == nil {
		return nil, false
	}
	if set, built := c.sets[kind]; built {
		return set, set != nil
	}
	var set map[string]bool
	add := func(id string) {
		if id = strings.TrimSpace(id); id != "" {
			set[id] = true
		}
	}
	objects := func(list []Object) {
		if list != nil {
			set = make(map[string]bool, len(list))
			for o := range eachOf(c.idx, list) {
				add(o.ID)
			}
		}
	}
	ctx := c.ctx
	switch kind {
	case RefCalendar:
		objects(ctx.Calendars)
	case RefUser:
		objects(ctx.Users)
	case RefTemplate:
		objects(ctx.Templates)
	case RefForm:
		objects(ctx.Forms)
	case objectSurvey:
		objects(ctx.Surveys)
	case objectTag:
		if ctx.Tags != nil {
			set = make(map[string]bool, len(ctx.Tags))
			for t := range eachOf(c.idx, ctx.Tags) {
				set[tagKey(*t)] = true
			}
		}
	case RefPipeline:
		if pl := c.pipelines(); pl != nil {
			set = pl.pipelines
		}
	case RefCustomField:
		// A field is found by its id or by its key in any spelling (missing normalizes the id it
		// looks up the same way), so the key is stored once, normalized.
		if ctx.CustomFields != nil {
			set = make(map[string]bool, 2*len(ctx.CustomFields))
			for f := range eachOf(c.idx, ctx.CustomFields) {
				add(f.ID)
				add(normalizeMergeKey(f.Key, "contact"))
			}
		}
	case RefCustomValue:
		if ctx.CustomValues != nil {
			set = make(map[string]bool, 2*len(ctx.CustomValues))
			for v := range eachOf(c.idx, ctx.CustomValues) {
				add(v.ID)
				add(normalizeMergeKey(v.Key, "custom_values"))
			}
		}
	case RefPhoneNumber:
		if ctx.PhoneNumbers != nil {
			set = make(map[string]bool, len(ctx.PhoneNumbers))
			for n := range eachOf(c.idx, ctx.PhoneNumbers) {
				add(phoneDigits(n.Number))
			}
		}
	}
	c.sets[kind] = set
	return set, set != nil
}

// listed reports whether the context lists objects of kind (see ids), without building their set.
func (c *contextIndex) listed(kind string) bool {
	ctx := c.ctx
	switch kind {
	case RefCalendar:
		return ctx.Calendars != nil
	case RefUser:
		return ctx.Users != nil
	case RefTemplate:
		return ctx.Templates != nil
	case RefForm:
		return ctx.Forms != nil
	case objectSurvey:
		return ctx.Surveys != nil
	case objectTag:
		return ctx.Tags != nil
	case RefPipeline, RefStage:
		return ctx.Pipelines != nil
	case RefCustomField:
		return ctx.CustomFields != nil
	case RefCustomValue:
		return ctx.CustomValues != nil
	case RefPhoneNumber:
		return ctx.PhoneNumbers != nil
	}
	return false
}

// pipelines returns the index of the context's pipelines, or nil when the context does not list
// them.
func (c *contextIndex) pipelines() *pipelineIndex {
	if c == nil || c.ctx.Pipelines == nil {
		return nil
	}
	if c.plBuilt {
		return c.pl
	}
	stages := 0
	for _, pl := range c.ctx.Pipelines {
		stages += len(pl.Stages)
	}
	ix := &pipelineIndex{
		pipelines: make(map[string]bool, len(c.ctx.Pipelines)), stages: make(map[stageOf]bool, stages),
		anyStage: make(map[string]bool, stages), names: map[string]string{}, stageNames: map[string]string{},
	}
	seen := 0
	for pl := range eachOf(c.idx, c.ctx.Pipelines) {
		// Pipelines may hold many stages each, so the stages count towards the next look at the
		// analysis's context too.
		if seen += len(pl.Stages); seen >= checkEvery {
			if seen = 0; c.idx.stopped() {
				break
			}
		}
		id := strings.TrimSpace(pl.ID)
		ix.pipelines[id] = true
		if _, named := ix.names[id]; !named && pl.Name != "" {
			ix.names[id] = pl.Name
		}
		for _, s := range pl.Stages {
			sid := strings.TrimSpace(s.ID)
			ix.stages[stageOf{id, sid}] = true
			ix.anyStage[sid] = true
			if _, named := ix.stageNames[sid]; !named && s.Name != "" {
				ix.stageNames[sid] = s.Name
			}
		}
	}
	c.pl, c.plBuilt = ix, true
	return ix
}

// pipelineName names a pipeline for a message: its name and id, or its id.
func (ix *pipelineIndex) pipelineName(id string) string {
	if name, ok := ix.names[id]; ok {
		return fmt.Sprintf("%q (%s)", name, id)
	}
	return id
}

// triggerObjectLookups returns, per object kind, a test of whether a trigger's filter value names an
// existing object, with no entry when the context's list for that kind is unknown (nil).
func (c *contextIndex) triggerObjectLookups() map[string]func(t *Trigger, v string) bool {
	out := map[string]func(t *Trigger, v string) bool{}
	if c.listed(objectTag) {
		out["tag"] = func(_ *Trigger, v string) bool {
			set, _ := c.ids(objectTag)
			return set[tagKey(v)]
		}
	}
	for kind, ref := range map[string]string{"form": RefForm, "survey": objectSurvey, "calendar": RefCalendar} {
		if c.listed(ref) {
			out[kind] = func(_ *Trigger, v string) bool {
				set, _ := c.ids(ref)
				return set[strings.TrimSpace(v)]
			}
		}
	}
	if c.listed(RefPipeline) {
		out["pipeline"] = func(_ *Trigger, v string) bool { return c.pipelines().pipelines[strings.TrimSpace(v)] }
		out["stage"] = func(t *Trigger, v string) bool {
			pl, stage := c.pipelines(), strings.TrimSpace(v)
			scope, _ := filterValues(t.Filters, func(f string) bool { return f == "pipeline.id" }, strings.TrimSpace)
			if len(scope) == 0 {
				return pl.anyStage[stage]
			}
			// A stage filter beside a pipeline filter must be a stage of one of those pipelines. When
			// none of them exists, the pipeline finding already says the trigger never fires.
			known := slices.DeleteFunc(slices.Clone(scope), func(id string) bool { return !pl.pipelines[id] })
			if len(known) == 0 {
				return true
			}
			return slices.ContainsFunc(known, func(id string) bool { return pl.stages[stageOf{id, stage}] })
		}
	}
	return out
}
