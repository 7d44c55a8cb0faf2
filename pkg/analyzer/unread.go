package analyzer

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// What the analyzer cannot read is unknown, never empty. A step or trigger whose input holds a part
// the importer could not read (Step.Unread, Trigger.Unread), or a trigger filtered on a field the
// rules do not understand for its type, is not judged by the rules that depend on that part: they
// report it as not assessed, naming the part, instead of reporting something missing, empty or
// unfiltered that may well be there.

// triggerFilterFields are, per trigger type, the filter fields the rules understand: what the trigger
// listens to is known only when all its filters are among them. A contact-changed trigger's filters
// name the contact fields it watches ("contact.<key>"), or a tag the contact must have.
var triggerFilterFields = map[string][]string{
	TriggerContactTag:          {"tag"},
	TriggerAppointment:         {"calendar.id", "appointment.status"},
	TriggerCustomerAppointment: {"calendar.id", "appointment.status"},
	TriggerPipelineStage:       {"pipeline.id", "pipeline.stage.id"},
	TriggerOpportunityStatus:   {"pipeline.id", "opportunity.status"},
	TriggerOpportunityCreated:  {"pipeline.id", "pipeline.stage.id"},
	// Bare form and survey filters hold a name rather than an id (the auditor's samples); they are
	// compared as written.
	TriggerFormSubmitted:   {"form.id", "form"},
	TriggerSurveySubmitted: {"survey.id", "survey"},
	TriggerCallStatus:      {"call.status"},
	TriggerCustomerReply:   {"message.body"},
	TriggerTriggerLink:     {"link.id"},
}

// UnknownFilters returns what makes a trigger "filtered by something unknown": the parts the importer
// could not read (Unread), and every filter on a field the rules do not understand for the trigger's
// type. Empty means the rules know exactly what the trigger listens to.
func (t *Trigger) UnknownFilters() []Unread { return unknownFilters(t) }

func unknownFilters(t *Trigger) []Unread {
	out := append([]Unread(nil), t.Unread...)
	for i, f := range t.Filters {
		if !understoodFilter(t.Type, f.Field) {
			out = append(out, Unread{Path: fmt.Sprintf("filters[%d].field", i), Key: f.Field})
		}
	}
	return out
}

func understoodFilter(triggerType, field string) bool {
	if triggerType == TriggerContactChanged {
		// A tag filter narrows which contacts count, not which field is watched.
		rest, ok := strings.CutPrefix(strings.TrimSpace(field), "contact.")
		return field == "tag" || (ok && strings.TrimSpace(rest) != "")
	}
	return slices.Contains(triggerFilterFields[triggerType], field)
}

// unreadText names unread parts for a message: `opportunity.custom (filters[1].field)`.
func unreadText(us []Unread) string {
	parts := make([]string, 0, min(len(us), 3))
	for i, u := range us {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(us)-3))
			break
		}
		if u.Key != "" && u.Key != u.Path {
			parts = append(parts, fmt.Sprintf("%s (%s)", u.Key, u.Path))
		} else {
			parts = append(parts, u.Path)
		}
	}
	return joinLabels(parts)
}

// triggerNotAssessed records that the rule could not judge trigger t of the pass's workflow because
// of what is unknown about its filters.
func (p *pass) triggerNotAssessed(t *Trigger, unknown []Unread) {
	p.notAssessed(fmt.Sprintf("trigger %s is filtered on %s, which the analyzer cannot read, so what it listens to is unknown",
		triggerLabel(t), unreadText(unknown)))
}

// Coverage says how much of the input the analyzer could read: steps and triggers read fully, read in
// part (some configuration or filter was not read, see Unread) and not read at all (a type this
// version does not know, WD039), in total and by type.
type Coverage struct {
	Steps    CoverageCounts `json:"steps"`
	Triggers CoverageCounts `json:"triggers"`
}

// CoverageCounts counts steps or triggers by how much of each was read.
type CoverageCounts struct {
	Full    int `json:"full"`
	Partial int `json:"partial"`
	None    int `json:"none"`
	// ByType breaks the counts down by type as the input spelled it, sorted by type.
	ByType []TypeCoverage `json:"byType"`
}

// TypeCoverage is the coverage of one step or trigger type.
type TypeCoverage struct {
	Type    string `json:"type"`
	Full    int    `json:"full"`
	Partial int    `json:"partial"`
	None    int    `json:"none"`
	// Unread lists, sorted and once each, the keys and filter fields of this type that were not read.
	Unread []string `json:"unread"`
}

// unreadCount is the number of items not read in full.
func (c CoverageCounts) unreadCount() int { return c.Partial + c.None }

// coverageOf computes one workflow's coverage.
func coverageOf(wf *Workflow) Coverage {
	var steps, triggers coverageTally
	for i := range wf.Steps {
		s := &wf.Steps[i]
		var keys []string
		for _, u := range s.Unread {
			keys = append(keys, u.Key)
		}
		steps.add(s.Type, s.Kind == KindUnknown, keys)
	}
	for i := range wf.Triggers {
		t := &wf.Triggers[i]
		var keys []string
		for _, u := range unknownFilters(t) {
			keys = append(keys, u.Key)
		}
		triggers.add(cmp.Or(t.RawType, t.Type), !t.Known, keys)
	}
	return Coverage{Steps: steps.counts(), Triggers: triggers.counts()}
}

// coverageTally accumulates coverage counts by type.
type coverageTally struct {
	total  TypeCoverage
	byType map[string]*TypeCoverage
	unread map[string]map[string]bool
}

func (t *coverageTally) of(typ string) *TypeCoverage {
	if t.byType == nil {
		t.byType, t.unread = map[string]*TypeCoverage{}, map[string]map[string]bool{}
	}
	c := t.byType[typ]
	if c == nil {
		c = &TypeCoverage{Type: typ}
		t.byType[typ] = c
		t.unread[typ] = map[string]bool{}
	}
	return c
}

// add counts one item of type typ: not read at all (none), or read except for the keys unread.
func (t *coverageTally) add(typ string, none bool, unread []string) {
	c := t.of(typ)
	switch {
	case none:
		c.None++
		t.total.None++
	case len(unread) > 0:
		c.Partial++
		t.total.Partial++
	default:
		c.Full++
		t.total.Full++
	}
	for _, k := range unread {
		t.unread[typ][k] = true
	}
}

func (t *coverageTally) merge(c CoverageCounts) {
	for _, tc := range c.ByType {
		own := t.of(tc.Type)
		own.Full += tc.Full
		own.Partial += tc.Partial
		own.None += tc.None
		for _, k := range tc.Unread {
			t.unread[tc.Type][k] = true
		}
	}
	t.total.Full += c.Full
	t.total.Partial += c.Partial
	t.total.None += c.None
}

func (t *coverageTally) counts() CoverageCounts {
	out := CoverageCounts{Full: t.total.Full, Partial: t.total.Partial, None: t.total.None, ByType: []TypeCoverage{}}
	for _, typ := range slices.Sorted(maps.Keys(t.byType)) {
		c := *t.byType[typ]
		c.Unread = slices.Sorted(maps.Keys(t.unread[typ]))
		if c.Unread == nil {
			c.Unread = []string{}
		}
		out.ByType = append(out.ByType, c)
	}
	return out
}

// coverageLine is the sentence that ends the text and markdown reports: how many steps and triggers
// had data the analyzer could not read, and which, by type.
func coverageLine(c Coverage) string {
	steps, triggers := c.Steps.unreadCount(), c.Triggers.unreadCount()
	if steps == 0 && triggers == 0 {
		return "The analyzer read every step and trigger in full."
	}
	var who []string
	if steps > 0 {
		who = append(who, fmt.Sprintf("%d %s", steps, Plural(steps, "step")))
	}
	if triggers > 0 {
		who = append(who, fmt.Sprintf("%d %s", triggers, Plural(triggers, "trigger")))
	}
	var what []string
	describe := func(prefix string, cc CoverageCounts) {
		for _, tc := range cc.ByType {
			switch {
			case tc.None > 0 && len(tc.Unread) == 0:
				what = append(what, fmt.Sprintf("%s%s (type not known)", prefix, tc.Type))
			case tc.None > 0:
				what = append(what, fmt.Sprintf("%s%s (type not known; %s)", prefix, tc.Type, strings.Join(tc.Unread, ", ")))
			case tc.Partial > 0:
				what = append(what, fmt.Sprintf("%s%s (%s)", prefix, tc.Type, strings.Join(tc.Unread, ", ")))
			}
		}
	}
	describe("", c.Steps)
	describe("trigger ", c.Triggers)
	const show = 8
	if len(what) > show {
		what = append(what[:show], fmt.Sprintf("%d more types", len(what)-show))
	}
	return fmt.Sprintf("%s had data the analyzer could not read: %s.", strings.Join(who, " and "), strings.Join(what, "; "))
}
