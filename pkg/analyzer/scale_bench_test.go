package analyzer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// scale sizes a generated location along the dimensions an analysis grows with.
type scale struct {
	// workflows is the number of workflows; steps the steps of each (in blocks of ten).
	workflows, steps int
	// objects is the number of context objects of each kind: tags, custom fields, custom values,
	// calendars, users, stages (in pipelines of ten), forms, surveys, templates and phone numbers.
	objects int
	// branches is the number of branches of every if/else, so the step graph's edges grow without
	// its steps.
	branches int
	// links is the number of tags each workflow adds that the next workflows' triggers listen to, so
	// the location graph's enrollment edges grow without the workflows.
	links int
}

func (s scale) String() string {
	return fmt.Sprintf("workflows=%d/steps=%d/objects=%d/branches=%d/links=%d", s.workflows, s.steps, s.objects, s.branches, s.links)
}

// scaleContext builds a context with n objects of every kind, every list known.
func scaleContext(n int) *analyzer.Context {
	c := &analyzer.Context{
		Tags: make([]string, n), CustomFields: make([]analyzer.CustomField, n), CustomValues: make([]analyzer.CustomValue, n),
		Calendars: make([]analyzer.Object, n), Users: make([]analyzer.Object, n), Forms: make([]analyzer.Object, n),
		Surveys: make([]analyzer.Object, n), Templates: make([]analyzer.Object, n), PhoneNumbers: make([]analyzer.PhoneNumber, n),
		SMSCompliance: &analyzer.SMSCompliance{Enabled: true, AutoAppendOptOut: true, AppendSenderIdentification: true},
	}
	for i := range n {
		c.Tags[i] = fmt.Sprintf("tag-%d", i)
		c.CustomFields[i] = analyzer.CustomField{ID: fmt.Sprintf("cf-id-%d", i), Name: fmt.Sprintf("Field %d", i), Key: fmt.Sprintf("contact.cf_%d", i)}
		c.CustomValues[i] = analyzer.CustomValue{ID: fmt.Sprintf("cv-id-%d", i), Name: fmt.Sprintf("Value %d", i), Key: fmt.Sprintf("custom_values.cv_%d", i), Value: "x"}
		c.Calendars[i] = analyzer.Object{ID: fmt.Sprintf("cal-%d", i), Name: fmt.Sprintf("Calendar %d", i)}
		c.Users[i] = analyzer.Object{ID: fmt.Sprintf("user-%d", i), Name: fmt.Sprintf("User %d", i)}
		c.Forms[i] = analyzer.Object{ID: fmt.Sprintf("form-%d", i)}
		c.Surveys[i] = analyzer.Object{ID: fmt.Sprintf("survey-%d", i)}
		c.Templates[i] = analyzer.Object{ID: fmt.Sprintf("tpl-%d", i)}
		c.PhoneNumbers[i] = analyzer.PhoneNumber{Number: fmt.Sprintf("+1555%07d", i), SMS: true}
	}
	for p := 0; p < max(n/10, 1); p++ {
		pl := analyzer.Pipeline{ID: fmt.Sprintf("pl-%d", p), Name: fmt.Sprintf("Pipeline %d", p)}
		for s := range 10 {
			pl.Stages = append(pl.Stages, analyzer.Object{ID: fmt.Sprintf("stg-%d-%d", p, s), Name: fmt.Sprintf("Stage %d", s)})
		}
		c.Pipelines = append(c.Pipelines, pl)
	}
	return c
}

// scaleLocation generates a complete location of the given scale. Every workflow refers to context
// objects of every kind from its triggers and steps (some of them missing, so rules report), tests
// tags with contains (WD040's substring search), writes merge fields, and adds tags that the
// following workflows' triggers listen to.
func scaleLocation(s scale) *analyzer.Location {
	n := max(s.objects, 1)
	loc := &analyzer.Location{ID: "loc-scale", Complete: true, Context: scaleContext(s.objects)}
	obj := func(i int) int { return (i * 7919) % n }
	for w := range s.workflows {
		id := fmt.Sprintf("wf%d", w)
		k := obj(w)
		wf := analyzer.Workflow{
			ID: id, Name: "Scale " + id, Status: analyzer.StatusPublished, LocationID: "loc-scale",
			Settings: analyzer.Settings{Timezone: "contact"},
			Triggers: []analyzer.Trigger{
				{ID: id + "-tag", Type: analyzer.TriggerContactTag, Known: true, Active: true,
					Filters: []analyzer.Filter{{Field: "tag", Operator: "eq", Values: []string{fmt.Sprintf("link-%d", w), fmt.Sprintf("tag-%d", k), fmt.Sprintf("no-such-tag-%d", w)}}}},
				{ID: id + "-form", Type: analyzer.TriggerFormSubmitted, Known: true, Active: true,
					Filters: []analyzer.Filter{{Field: "form.id", Operator: "eq", Values: []string{fmt.Sprintf("form-%d", k), fmt.Sprintf("form-missing-%d", w)}}}},
				{ID: id + "-survey", Type: analyzer.TriggerSurveySubmitted, Known: true, Active: true,
					Filters: []analyzer.Filter{{Field: "survey.id", Operator: "eq", Values: []string{fmt.Sprintf("survey-%d", k)}}}},
				{ID: id + "-appt", Type: analyzer.TriggerAppointment, Known: true, Active: true,
					Filters: []analyzer.Filter{{Field: "calendar.id", Operator: "eq", Values: []string{fmt.Sprintf("cal-%d", k)}}, {Field: "appointment.status", Operator: "eq", Values: []string{"booked"}}}},
				{ID: id + "-stage", Type: analyzer.TriggerPipelineStage, Known: true, Active: true,
					Filters: []analyzer.Filter{{Field: "pipeline.id", Operator: "eq", Values: []string{fmt.Sprintf("pl-%d", k/10)}}, {Field: "pipeline.stage.id", Operator: "eq", Values: []string{fmt.Sprintf("stg-%d-%d", k/10, w%10)}}}},
			},
		}
		if w%3 == 0 {
			wf.Triggers = append(wf.Triggers, analyzer.Trigger{ID: id + "-booked", Type: analyzer.TriggerCustomerAppointment, Known: true, Active: true,
				Filters: []analyzer.Filter{{Field: "calendar.id", Operator: "eq", Values: []string{fmt.Sprintf("cal-%d", obj(w+1))}}}})
		}
		add := func(st analyzer.Step) string {
			st.ID = fmt.Sprintf("%s-s%d", id, len(wf.Steps))
			wf.Steps = append(wf.Steps, st)
			return st.ID
		}
		link := func(from, to, kind, label string) {
			wf.Edges = append(wf.Edges, analyzer.Edge{From: from, To: to, Kind: kind, Label: label})
		}
		window := &analyzer.TimeWindow{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}
		prev := ""
		for b := 0; len(wf.Steps)+10 <= max(s.steps, 10); b++ {
			j := obj(w*31 + b)
			sms := add(analyzer.Step{Kind: analyzer.KindMessage, Type: "sms", Name: fmt.Sprintf("Text %d", b),
				Message: &analyzer.Message{Channel: analyzer.ChannelSMS, FromNumber: fmt.Sprintf("+1555%07d", j),
					Body: fmt.Sprintf("Hi {{contact.first_name}} {{contact.cf_%d}} {{custom_values.cv_%d}} {{contact.nope_%d}}, it's Acme. Reply STOP to opt out.", j, j, b)},
				Refs: []analyzer.Ref{{Kind: analyzer.RefPhoneNumber, ID: fmt.Sprintf("+1555%07d", j)}}})
			wait := add(analyzer.Step{Kind: analyzer.KindWait, Type: "wait", Name: fmt.Sprintf("Wait %d", b),
				Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"}, Window: window}})
			email := add(analyzer.Step{Kind: analyzer.KindMessage, Type: "email", Name: fmt.Sprintf("Email %d", b),
				Message: &analyzer.Message{Channel: analyzer.ChannelEmail, Subject: "Checking in", TemplateID: fmt.Sprintf("tpl-%d", j)},
				Refs:    []analyzer.Ref{{Kind: analyzer.RefTemplate, ID: fmt.Sprintf("tpl-%d", j)}}})
			branches := make([]analyzer.Branch, max(s.branches, 1))
			for x := range branches {
				branches[x] = analyzer.Branch{ID: fmt.Sprintf("%s-b%d-%d", id, b, x), Name: fmt.Sprintf("Branch %d", x),
					Clauses: []analyzer.Clause{{Subject: "tag", Operator: "contains", Value: fmt.Sprintf("tag-%d", (j+x)%n)},
						{Subject: "contact.cf_1", Operator: "eq", Value: fmt.Sprintf("v%d", x)}}}
			}
			cond := add(analyzer.Step{Kind: analyzer.KindCondition, Type: "if_else", Name: fmt.Sprintf("Check %d", b),
				Condition: &analyzer.Condition{Branches: branches}})
			tags := []string{"engaged"}
			for l := range s.links {
				tags = append(tags, fmt.Sprintf("link-%d", (w+1+l)%s.workflows))
			}
			tag := add(analyzer.Step{Kind: analyzer.KindTagAdd, Type: "add_contact_tag", Name: fmt.Sprintf("Tag %d", b), Tags: tags})
			field := add(analyzer.Step{Kind: analyzer.KindFieldUpdate, Type: "update_contact_field", Name: fmt.Sprintf("Field %d", b),
				Fields: []analyzer.FieldWrite{{Field: "contact.cf_1", Value: fmt.Sprintf("v%d", b%3)}, {Field: fmt.Sprintf("cf-id-%d", j), Value: "{{contact.email}}"}},
				Refs:   []analyzer.Ref{{Kind: analyzer.RefCustomField, ID: fmt.Sprintf("cf-id-%d", j)}}})
			opp := add(analyzer.Step{Kind: analyzer.KindOpportunity, Type: "update_opportunity", Name: fmt.Sprintf("Stage %d", b),
				Opportunity: &analyzer.Opportunity{Op: "update", PipelineID: fmt.Sprintf("pl-%d", j/10), StageID: fmt.Sprintf("stg-%d-%d", j/10, b%10)},
				Refs: []analyzer.Ref{{Kind: analyzer.RefPipeline, ID: fmt.Sprintf("pl-%d", j/10)},
					{Kind: analyzer.RefStage, ID: fmt.Sprintf("stg-%d-%d", j/10, (b+1)%10), Parent: fmt.Sprintf("pl-%d", j/10)}}})
			assign := add(analyzer.Step{Kind: analyzer.KindAssignUser, Type: "assign_user", Name: fmt.Sprintf("Assign %d", b),
				Assign: &analyzer.Assign{UserIDs: []string{fmt.Sprintf("user-%d", j)}},
				Refs:   []analyzer.Ref{{Kind: analyzer.RefUser, ID: fmt.Sprintf("user-%d", j)}, {Kind: analyzer.RefCalendar, ID: fmt.Sprintf("cal-%d", j)}, {Kind: analyzer.RefForm, ID: "form-missing"}}})
			wait2 := add(analyzer.Step{Kind: analyzer.KindWait, Type: "wait", Name: fmt.Sprintf("Pause %d", b),
				Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 2, Unit: "hours"}, Window: window}})
			note := add(analyzer.Step{Kind: analyzer.KindNotification, Type: "internal_notification", Name: fmt.Sprintf("Notify %d", b)})
			if prev != "" {
				link(prev, sms, analyzer.EdgeNext, "")
			}
			link(sms, wait, analyzer.EdgeNext, "")
			link(wait, email, analyzer.EdgeNext, "")
			link(email, cond, analyzer.EdgeNext, "")
			for x := range branches {
				link(cond, tag, analyzer.EdgeBranch, branches[x].Name)
			}
			link(cond, field, analyzer.EdgeElse, "None")
			link(tag, opp, analyzer.EdgeNext, "")
			link(field, opp, analyzer.EdgeNext, "")
			link(opp, assign, analyzer.EdgeNext, "")
			link(assign, wait2, analyzer.EdgeNext, "")
			link(wait2, note, analyzer.EdgeNext, "")
			prev = note
		}
		wf.Root = wf.Steps[0].ID
		loc.Workflows = append(loc.Workflows, wf)
	}
	return loc
}

// scaleBase is the reference size each dimension of BenchmarkScaling grows from.
var scaleBase = scale{workflows: 50, steps: 30, objects: 1000, branches: 2, links: 1}

// BenchmarkScaling grows one dimension of the input tenfold at a time (workflows, steps per
// workflow, context objects of every kind, if/else branches, enrollment links per workflow) and
// times the analysis of both sizes side by side in the same run. The metric ratio is the time at 10x
// over the time at 1x: a linear analysis shows about 10, and anything quadratic about 100.
func BenchmarkScaling(b *testing.B) {
	grow := map[string]func(s scale) scale{
		"workflows": func(s scale) scale { s.workflows *= 10; return s },
		"steps":     func(s scale) scale { s.steps *= 10; return s },
		"objects":   func(s scale) scale { s.objects *= 10; return s },
		"edges":     func(s scale) scale { s.branches *= 10; return s },
		"links":     func(s scale) scale { s.links *= 10; return s },
	}
	for _, dim := range []string{"workflows", "steps", "objects", "edges", "links"} {
		small, large := scaleLocation(scaleBase), scaleLocation(grow[dim](scaleBase))
		b.Run(dim, func(b *testing.B) {
			var tSmall, tLarge time.Duration
			for b.Loop() {
				start := time.Now()
				analyzer.Analyze(small)
				mid := time.Now()
				analyzer.Analyze(large)
				tSmall += mid.Sub(start)
				tLarge += time.Since(mid)
			}
			b.ReportMetric(float64(tSmall.Nanoseconds())/float64(b.N), "x1-ns/op")
			b.ReportMetric(float64(tLarge.Nanoseconds())/float64(b.N), "x10-ns/op")
			b.ReportMetric(float64(tLarge)/float64(tSmall), "ratio")
		})
	}
}

// BenchmarkLargeContext analyses 1,000 workflows against a context of 1,000,000 objects (100,000 of
// each of ten kinds), the size issue 9 asks to analyse in under a second, and 100,000 tags alone.
func BenchmarkLargeContext(b *testing.B) {
	for _, tc := range []struct {
		name string
		loc  func() *analyzer.Location
	}{
		{"workflows=1000/tags=100000", func() *analyzer.Location {
			loc := scaleLocation(scale{workflows: 1000, steps: 30, objects: 1000, branches: 2, links: 1})
			loc.Context.Tags = scaleContext(100000).Tags
			return loc
		}},
		{"workflows=1000/objects=1000000", func() *analyzer.Location {
			return scaleLocation(scale{workflows: 1000, steps: 30, objects: 100000, branches: 2, links: 1})
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// Built here, so that only the location measured is in memory while it is analysed.
			loc := tc.loc()
			b.ReportAllocs()
			for b.Loop() {
				analyzer.Analyze(loc)
			}
		})
	}
}
