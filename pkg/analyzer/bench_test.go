package analyzer_test

import (
	"fmt"
	"testing"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// synthWorkflow builds a realistic workflow of about n steps: blocks of ten steps (messages, waits
// with windows, an if/else whose arms rejoin, tag and field writes, a webhook, an enrollment) chained
// together, so every rule has work to do.
func synthWorkflow(id string, n int, next string) analyzer.Workflow {
	wf := analyzer.Workflow{
		ID: id, Name: "Synthetic " + id, Status: analyzer.StatusPublished,
		Settings: analyzer.Settings{StopOnResponse: true, Timezone: "contact"},
		Triggers: []analyzer.Trigger{{
			ID: id + "-t", Type: analyzer.TriggerContactTag, Known: true, Active: true,
			Filters: []analyzer.Filter{{Field: "tag", Operator: "eq", Values: []string{"start-" + id}}},
		}},
	}
	window := &analyzer.TimeWindow{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:00"}
	add := func(s analyzer.Step) string {
		s.ID = fmt.Sprintf("%s-s%d", id, len(wf.Steps))
		wf.Steps = append(wf.Steps, s)
		return s.ID
	}
	link := func(from, to, kind, label string) {
		wf.Edges = append(wf.Edges, analyzer.Edge{From: from, To: to, Kind: kind, Label: label})
	}
	prev := ""
	for len(wf.Steps)+10 <= max(n, 10) {
		b := len(wf.Steps) / 10
		sms := add(analyzer.Step{Kind: analyzer.KindMessage, Type: "sms", Name: fmt.Sprintf("Text %d", b),
			Message: &analyzer.Message{Channel: analyzer.ChannelSMS, Body: "Hi {{contact.first_name}}, it's Acme. Reply STOP to opt out."}})
		wait := add(analyzer.Step{Kind: analyzer.KindWait, Type: "wait", Name: fmt.Sprintf("Wait %d", b),
			Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"}, Window: window}})
		email := add(analyzer.Step{Kind: analyzer.KindMessage, Type: "email", Name: fmt.Sprintf("Email %d", b),
			Message: &analyzer.Message{Channel: analyzer.ChannelEmail, Subject: "Checking in", HTML: "<p>Hello {{contact.first_name}}</p><p>Acme, 1 Main St. <a href=\"{{unsubscribe_link}}\">Unsubscribe</a></p>"}})
		cond := add(analyzer.Step{Kind: analyzer.KindCondition, Type: "if_else", Name: fmt.Sprintf("Hot? %d", b),
			Condition: &analyzer.Condition{Branches: []analyzer.Branch{{ID: fmt.Sprintf("%s-b%d", id, b), Name: "Hot",
				Clauses: []analyzer.Clause{{Subject: "tag", Operator: "eq", Value: "hot"}}}}}})
		tag := add(analyzer.Step{Kind: analyzer.KindTagAdd, Type: "add_contact_tag", Name: fmt.Sprintf("Tag %d", b), Tags: []string{"engaged"}})
		field := add(analyzer.Step{Kind: analyzer.KindFieldUpdate, Type: "update_contact_field", Name: fmt.Sprintf("Field %d", b),
			Fields: []analyzer.FieldWrite{{Field: "contact.stage_note", Value: "block"}}})
		hook := add(analyzer.Step{Kind: analyzer.KindWebhook, Type: "custom_webhook", Name: fmt.Sprintf("Hook %d", b),
			Webhook: &analyzer.Webhook{Method: "POST", URL: "https://hooks.example.com/ghl", Body: "{\"id\":\"{{contact.id}}\"}"}})
		note := add(analyzer.Step{Kind: analyzer.KindAction, Type: "add_notes", Name: fmt.Sprintf("Note %d", b)})
		wait2 := add(analyzer.Step{Kind: analyzer.KindWait, Type: "wait", Name: fmt.Sprintf("Pause %d", b),
			Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 2, Unit: "hours"}, Window: window}})
		call := add(analyzer.Step{Kind: analyzer.KindNotification, Type: "internal_notification", Name: fmt.Sprintf("Notify %d", b)})
		if prev != "" {
			link(prev, sms, analyzer.EdgeNext, "")
		}
		link(sms, wait, analyzer.EdgeNext, "")
		link(wait, email, analyzer.EdgeNext, "")
		link(email, cond, analyzer.EdgeNext, "")
		link(cond, tag, analyzer.EdgeBranch, "Hot")
		link(cond, field, analyzer.EdgeElse, "None")
		link(tag, hook, analyzer.EdgeNext, "")
		link(field, hook, analyzer.EdgeNext, "")
		link(hook, note, analyzer.EdgeNext, "")
		link(note, wait2, analyzer.EdgeNext, "")
		link(wait2, call, analyzer.EdgeNext, "")
		prev = call
	}
	if next != "" {
		enroll := add(analyzer.Step{Kind: analyzer.KindEnroll, Type: "add_to_workflow", Name: "Hand over",
			Enrollment: &analyzer.Enrollment{WorkflowIDs: []string{next}}})
		link(prev, enroll, analyzer.EdgeNext, "")
	}
	wf.Root = wf.Steps[0].ID
	return wf
}

func synthLocation(workflows, steps int) *analyzer.Location {
	loc := &analyzer.Location{ID: "loc-bench", Complete: true}
	for i := 0; i < workflows; i++ {
		next := ""
		if i+1 < workflows {
			next = fmt.Sprintf("wf%d", i+1)
		}
		loc.Workflows = append(loc.Workflows, synthWorkflow(fmt.Sprintf("wf%d", i), steps, next))
	}
	return loc
}

// BenchmarkAnalyzeWorkflow measures one workflow of growing size; ns/op divided by steps should stay
// flat (linear cost).
func BenchmarkAnalyzeWorkflow(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		loc := synthLocation(1, n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				analyzer.Analyze(loc)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(loc.Workflows[0].Steps)), "ns/step")
		})
	}
}

// BenchmarkAnalyzeLocation measures whole locations of 30-step workflows.
func BenchmarkAnalyzeLocation(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		loc := synthLocation(n, 30)
		b.Run(fmt.Sprintf("workflows=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				analyzer.Analyze(loc)
			}
		})
	}
}
