package analyzer

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

func init() { register(wd021, wd022) }

var wd021 = &rule{
	doc: RuleDoc{
		ID: "WD021", Category: "cross-workflow", Severity: SeverityWarning,
		Title:   "Bad workflow reference",
		Summary: "An add-to-workflow or remove-from-workflow step targets a missing workflow, a draft, its own workflow, or nothing, or was given a bare string.",
		Why: "GHL skips a step whose target workflow was deleted without an error, and a draft workflow runs no contacts, so an " +
			"add-to-workflow into either enrolls nobody and the hand-over silently stops there. Adding a contact to the workflow " +
			"it is already in does nothing (re-entry only applies to contacts who finished or were removed), and removing it from " +
			"its own workflow ends the run before the steps after it. A remove-from-workflow whose workflow list was saved as a " +
			"bare string instead of an array removes the contact from nothing.",
		Fix: "Open the step and pick the intended, published target workflow again (publish the target if it is meant to run). " +
			"Use a go-to or an end step instead of adding a workflow to itself, and re-save a remove-from-workflow step from the " +
			"builder so its list is stored as a list.",
		Example: "\"New lead\" ends with \"Add to workflow: Nurture\" while \"Nurture\" is still a draft.",
		Needs:   []string{NeedsWorkflow, NeedsLocation},
	},
	workflow: checkWorkflowReferences,
}

func checkWorkflowReferences(p *pass) {
	var unknown []string
	for i := range p.wf.Steps {
		s := &p.wf.Steps[i]
		if s.Kind != KindEnroll && s.Kind != KindUnenroll {
			continue
		}
		verb, prep := "adds the contact to", "to"
		if s.Kind == KindUnenroll {
			verb, prep = "removes the contact from", "from"
		}
		var targets []string
		if e := s.Enrollment; e != nil {
			if e.BareString {
				p.report(s.ID, "%s was given its workflow as a bare string instead of a list, so GHL removes the contact from nothing", stepTitle(s))
				continue
			}
			for _, id := range e.WorkflowIDs {
				if id = strings.TrimSpace(id); id != "" {
					targets = append(targets, id)
				}
			}
			if e.All {
				continue
			}
		}
		if len(targets) == 0 {
			p.report(s.ID, "%s names no workflow to add the contact %s, so it does nothing", stepTitle(s), prep)
			continue
		}
		for _, id := range targets {
			target, found := p.idx.byID[id]
			switch {
			case id == p.wf.ID && s.Kind == KindEnroll:
				p.report(s.ID, "%s %s this same workflow, which the contact is already in: GHL does not enroll a contact twice, so the step does nothing", stepTitle(s), verb)
			case id == p.wf.ID && len(p.g.successors(i, func(Edge) bool { return true })) > 0:
				p.report(s.ID, "%s %s this same workflow, so the steps after it never run", stepTitle(s), verb)
			case id == p.wf.ID:
				p.report(s.ID, "%s %s this same workflow at its last step, which ends the run just as the end of the workflow would: the step does nothing", stepTitle(s), verb)
			case !found && p.loc.Complete:
				p.report(s.ID, "%s %s workflow %s, which does not exist in this location (deleted, or copied from another location): GHL skips the step", stepTitle(s), verb, id)
			case !found:
				unknown = append(unknown, id)
			case !live(target) && s.Kind == KindEnroll:
				p.report(s.ID, "%s %s %s, which is a draft: a draft runs no contacts, so the hand-over stops here", stepTitle(s), verb, workflowLabel(target))
			case !live(target):
				p.report(s.ID, "%s %s %s, which is a draft and so holds no running contacts: if it is meant to be live, publish it; otherwise the step does nothing", stepTitle(s), verb, workflowLabel(target))
			}
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		unknown = slices.Compact(unknown)
		what := "target workflow " + unknown[0] + " is"
		if len(unknown) > 1 {
			what = "target workflows " + strings.Join(unknown, ", ") + " are"
		}
		p.notAssessed(what + " not among the analysed workflows and the location is not complete, so whether it exists is unknown")
	}
}

var wd022 = &rule{
	doc: RuleDoc{
		ID: "WD022", Category: "cross-workflow", Severity: SeverityInfo,
		Title:   "Racing writers",
		Summary: "The same field, tag or opportunity stage is written by several workflows that start on the same event.",
		Why: "Workflows that fire on the same event run at the same moment. GHL documents that two updates to the same contact " +
			"in the same second may execute out of order, or one may not apply (the tag shows in the execution log but not on " +
			"the contact); the same tag added by several workflows at once is one of its named causes. Which value wins then " +
			"changes from contact to contact.",
		Fix: "Let one workflow own each field, tag and stage: move the write into a single workflow, or put a one-minute wait " +
			"before the write in the others so the updates no longer land together.",
		Example: "\"Form to CRM\" and \"Form to nurture\" both start on form \"Contact us\" and both set the field lead_status.",
		Needs:   []string{NeedsLocation},
	},
	location: checkRacingWriters,
}

// eventTrigger is one active trigger of a live workflow, as WD022 compares them.
type eventTrigger struct {
	wf  *Workflow
	pos int
	// index is the trigger's position in the workflow's Triggers.
	index   int
	trigger *Trigger
	family  string
	// watched are the contact fields a contact-changed trigger watches, in the location graph's key form.
	watched []string
	// values are the positive filter values per field, normalized.
	values map[string][]string
}

// triggerFamily groups trigger types that fire on the same event: booking an appointment fires both
// the Appointment Status trigger and the deprecated Customer Booked Appointment trigger.
func triggerFamily(t string) string {
	if t == TriggerCustomerAppointment {
		return TriggerAppointment
	}
	return t
}

// primaryFilterField is the filter field that names which event of a trigger family fires it; triggers
// are bucketed by it so only triggers that can overlap are compared pairwise.
func primaryFilterField(family string) string {
	switch family {
	case TriggerContactTag:
		return "tag"
	case TriggerFormSubmitted:
		return "form.id"
	case TriggerSurveySubmitted:
		return "survey.id"
	case TriggerAppointment:
		return "calendar.id"
	case TriggerPipelineStage:
		return "pipeline.stage.id"
	case TriggerTriggerLink:
		return "link.id"
	}
	return ""
}

func newEventTrigger(lg *locGraph, wf *Workflow, pos, index int) eventTrigger {
	t := &wf.Triggers[index]
	et := eventTrigger{wf: wf, pos: pos, index: index, trigger: t, family: triggerFamily(t.Type), values: map[string][]string{}}
	for _, f := range t.Filters {
		if t.Type == TriggerContactChanged {
			if key, ok := lg.watchedField(f.Field); ok {
				et.watched = append(et.watched, key)
			}
		}
		if f.Operator == "neq" || f.Operator == "not_in" || f.Operator == "not_contains" || f.Operator == "has_no_value" {
			continue
		}
		for _, v := range f.Values {
			if v = normalizeFilterValue(f.Field, v); v != "" {
				et.values[f.Field] = append(et.values[f.Field], v)
			}
		}
	}
	return et
}

func normalizeFilterValue(field, v string) string {
	if field == "tag" {
		return tagKey(v)
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// overlaps reports whether two triggers of the same family can fire for one event: every field both
// filter on shares a value, and two contact-changed triggers watch a common field. A filter only one of
// them has does not separate them, since the other fires for any value.
func (a eventTrigger) overlaps(b eventTrigger) bool {
	if a.family != b.family {
		return false
	}
	if a.family == TriggerContactChanged && (len(a.watched) == 0 || len(b.watched) == 0 || !intersects(a.watched, b.watched)) {
		// A contact-changed trigger without a watched field is WD014's problem; it is not compared here.
		return false
	}
	for field, av := range a.values {
		if bv, ok := b.values[field]; ok && !intersects(av, bv) {
			return false
		}
	}
	return true
}

// intersects reports whether two lists share a value; long lists are compared through a set, so
// triggers filtering on thousands of values compare in linear time.
func intersects(a, b []string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) >= longList || (len(a) > 1 && len(b) >= longList) {
		set := setOf(b)
		return slices.ContainsFunc(a, func(x string) bool { return set[x] })
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// raceTarget is something a workflow writes on the contact: a tag (added or removed), a field or an
// opportunity stage.
type raceTarget struct {
	kind, value string
}

func (t raceTarget) String() string {
	switch t.kind {
	case signalTag:
		return fmt.Sprintf("tag %q", t.value)
	case signalField:
		return "field " + strings.TrimPrefix(t.value, "contact.")
	}
	return "opportunity stage " + t.value
}

// wfPair is two workflows by location position, the lower first.
type wfPair struct{ a, b int }

func checkRacingWriters(p *pass) {
	lg := p.idx.locGraph()
	writes := make([]map[raceTarget]string, len(p.loc.Workflows))
	// Bucket the active triggers of live workflows that write something, by family and by the value
	// of their primary filter.
	type bucketKey struct{ family, value string }
	buckets := map[bucketKey][]eventTrigger{}
	wildcards := map[string][]eventTrigger{}
	for i := range p.workflowIndexes() {
		wf := &p.loc.Workflows[i]
		if !live(wf) {
			continue
		}
		if writes[i] = raceTargets(lg, wf); len(writes[i]) == 0 {
			continue
		}
		for ti, t := range wf.Triggers {
			if !t.Active {
				continue
			}
			if unknown := unknownFilters(&wf.Triggers[ti]); len(unknown) > 0 {
				// Whether it fires on the same event as another trigger depends on what cannot be read.
				p.on(wf).triggerNotAssessed(&wf.Triggers[ti], unknown)
				continue
			}
			et := newEventTrigger(lg, wf, i, ti)
			keys := et.values[primaryFilterField(et.family)]
			if et.family == TriggerContactChanged {
				keys = et.watched
			}
			if len(keys) == 0 {
				wildcards[et.family] = append(wildcards[et.family], et)
				continue
			}
			for _, k := range slices.Compact(slices.Sorted(slices.Values(keys))) {
				buckets[bucketKey{et.family, k}] = append(buckets[bucketKey{et.family, k}], et)
			}
		}
	}
	// Compare triggers pairwise only inside a bucket, each bucket with its family's unfiltered
	// triggers, and those among themselves; keep for each pair of workflows the first pair of triggers
	// (in trigger order) found to overlap, so the message does not depend on map order.
	pairs := map[wfPair][2]eventTrigger{}
	compare := func(a, b eventTrigger) {
		if a.wf == b.wf || !a.overlaps(b) {
			return
		}
		if a.pos > b.pos {
			a, b = b, a
		}
		k := wfPair{a.pos, b.pos}
		if prev, seen := pairs[k]; !seen || triggerOrder(a, b, prev) < 0 {
			pairs[k] = [2]eventTrigger{a, b}
		}
	}
	for k, ets := range buckets {
		for x := range ets {
			for _, b := range ets[x+1:] {
				compare(ets[x], b)
			}
			for _, w := range wildcards[k.family] {
				compare(ets[x], w)
			}
		}
	}
	for _, ets := range wildcards {
		for x := range ets {
			for _, b := range ets[x+1:] {
				compare(ets[x], b)
			}
		}
	}
	// For each target written by both workflows of an overlapping pair, each of them races with the
	// other. Each workflow is reported once per target with all its partners; partners are not
	// chained further, since two workflows that each overlap a third need not overlap each other.
	partners := map[raceTarget]map[int][]int{}
	for k := range pairs {
		for t := range writes[k.a] {
			if _, ok := writes[k.b][t]; !ok {
				continue
			}
			if partners[t] == nil {
				partners[t] = map[int][]int{}
			}
			partners[t][k.a] = append(partners[t][k.a], k.b)
			partners[t][k.b] = append(partners[t][k.b], k.a)
		}
	}
	targets := slices.SortedFunc(maps.Keys(partners), func(x, y raceTarget) int {
		return cmp.Or(cmp.Compare(x.kind, y.kind), cmp.Compare(x.value, y.value))
	})
	for _, t := range targets {
		for _, wi := range slices.Sorted(maps.Keys(partners[t])) {
			others := partners[t][wi]
			slices.Sort(others)
			// Name the event by this workflow's trigger in its pair with its first partner.
			pair := pairs[wfPair{min(wi, others[0]), max(wi, others[0])}]
			own := pair[0]
			if own.pos != wi {
				own = pair[1]
			}
			reportRace(p, lg, t, wi, others, writes[wi][t], own.trigger)
		}
	}
}

// triggerOrder orders two candidate trigger pairs by the triggers' positions in their workflows, so
// the pair kept for a message does not depend on map iteration order.
func triggerOrder(a, b eventTrigger, prev [2]eventTrigger) int {
	return cmp.Or(cmp.Compare(a.index, prev[0].index), cmp.Compare(b.index, prev[1].index))
}

// racePartnersShown is how many racing workflows a WD022 message names before counting the rest.
const racePartnersShown = 5

// reportRace reports, on workflow wi, its step that writes the target and the workflows (by
// position) that write it on the same event.
func reportRace(p *pass, lg *locGraph, t raceTarget, wi int, partners []int, stepID string, trigger *Trigger) {
	wf := &p.loc.Workflows[wi]
	// The message names the first partners and counts the rest: when many workflows start on one
	// event, naming every partner in every workflow's finding would make the report grow with the
	// square of the workflows. Related still lists them all.
	var others, related []string
	for k, o := range partners {
		if k == racePartnersShown {
			others = append(others, fmt.Sprintf("%d more %s", len(partners)-k, Plural(len(partners)-k, "workflow")))
			break
		}
		others = append(others, workflowLabel(&p.loc.Workflows[o]))
	}
	for _, o := range partners {
		related = append(related, p.loc.Workflows[o].ID)
	}
	what := t.String()
	if t.kind == signalStage {
		what = "opportunity stage " + lg.idx.stageName(t.value)
	}
	verb := "writes"
	if len(partners) > 1 {
		verb = "write"
	}
	p.reportWorkflow(wf, SeverityInfo, stepID, related,
		"%s writes %s, and %s also %s it on the same event (this workflow's trigger %s, %s): the updates land in the same second, in no guaranteed order, and one may be lost",
		stepTitle(p.idx.graph(wf).step(stepID)), what, joinLabels(others), verb, triggerLabel(trigger), describeTrigger(trigger))
}

// raceTargets maps what a workflow's reachable steps write (tags added or removed, fields, stages) to
// the first step that writes each.
func raceTargets(lg *locGraph, wf *Workflow) map[raceTarget]string {
	out := map[raceTarget]string{}
	for _, w := range lg.writes(wf) {
		var t raceTarget
		switch w.Kind {
		case signalTag, signalTagRemove:
			t = raceTarget{signalTag, w.Value}
		case signalField, signalStage:
			t = raceTarget{w.Kind, w.Value}
		default:
			continue
		}
		if _, ok := out[t]; !ok {
			out[t] = w.Step
		}
	}
	return out
}
