package simulate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// The helpers below build normalized workflows in a few lines, so each scenario reads as the
// workflow an agency would draw.

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("parse time %q: %v", s, err)
	}
	return t
}

// at parses an RFC 3339 time in a table literal, where there is no testing.TB yet.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func location(wfs ...analyzer.Workflow) *analyzer.Location {
	return &analyzer.Location{ID: "loc-test", Workflows: wfs, Complete: true}
}

// flow builds a published workflow whose steps run in the order given: each step that is not a
// go-to, if/else or the last gets a next edge to the following one. Extra edges (branches) are
// added with withEdges.
func flow(id string, set analyzer.Settings, trig []analyzer.Trigger, steps ...analyzer.Step) analyzer.Workflow {
	wf := analyzer.Workflow{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Status: analyzer.StatusPublished, Settings: set, Triggers: trig, Steps: steps}
	for i := range steps {
		s := steps[i]
		switch {
		case s.Kind == analyzer.KindGoto:
			wf.Edges = append(wf.Edges, analyzer.Edge{From: s.ID, To: s.GotoTarget, Kind: analyzer.EdgeGoto})
		case s.Kind == analyzer.KindCondition:
		case i+1 < len(steps):
			wf.Edges = append(wf.Edges, analyzer.Edge{From: s.ID, To: steps[i+1].ID, Kind: analyzer.EdgeNext})
		}
	}
	if len(steps) > 0 {
		wf.Root = steps[0].ID
	}
	return wf
}

func withEdges(wf analyzer.Workflow, edges ...analyzer.Edge) analyzer.Workflow {
	wf.Edges = append(wf.Edges, edges...)
	return wf
}

func draft(wf analyzer.Workflow) analyzer.Workflow {
	wf.Status = analyzer.StatusDraft
	return wf
}

func branchEdge(from, to, label string) analyzer.Edge {
	return analyzer.Edge{From: from, To: to, Kind: analyzer.EdgeBranch, Label: label}
}

func elseEdge(from, to string) analyzer.Edge {
	return analyzer.Edge{From: from, To: to, Kind: analyzer.EdgeElse, Label: "None"}
}

func next(from, to string) analyzer.Edge {
	return analyzer.Edge{From: from, To: to, Kind: analyzer.EdgeNext}
}

func timeoutEdge(from, to string) analyzer.Edge {
	return analyzer.Edge{From: from, To: to, Kind: analyzer.EdgeTimeout}
}

func trig(typ string, filters ...analyzer.Filter) []analyzer.Trigger {
	return []analyzer.Trigger{{Type: typ, RawType: typ, Known: true, Active: true, Filters: filters}}
}

func filter(field, op string, values ...string) analyzer.Filter {
	return analyzer.Filter{Field: field, Operator: op, Values: values}
}

func sms(id, body string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindMessage, Type: "sms", Message: &analyzer.Message{Channel: analyzer.ChannelSMS, Body: body}}
}

func email(id, subject, html string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindMessage, Type: "email", Message: &analyzer.Message{Channel: analyzer.ChannelEmail, Subject: subject, HTML: html}}
}

func delay(id string, value float64, unit string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: value, Unit: unit}}}
}

func delayWindow(id string, value float64, unit string, w *analyzer.TimeWindow) analyzer.Step {
	s := delay(id, value, unit)
	s.Wait.Window = w
	return s
}

func apptWait(id, when string, minutes int) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitAppointment, Offset: &analyzer.Offset{When: when, Minutes: minutes}}}
}

func replyWait(id string, timeout *analyzer.Duration) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitReply, Timeout: timeout}}
}

func condWait(id string, timeout *analyzer.Duration, clauses ...analyzer.Clause) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitCondition, Timeout: timeout, Conditions: clauses}}
}

func unknownWait(id string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWait, Type: "wait", Wait: &analyzer.Wait{Mode: analyzer.WaitUnknown}}
}

func dur(v float64, unit string) *analyzer.Duration { return &analyzer.Duration{Value: v, Unit: unit} }

func ifElse(id, name string, branches ...analyzer.Branch) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindCondition, Type: "if_else", Name: name, Condition: &analyzer.Condition{Branches: branches}}
}

func branch(name string, clauses ...analyzer.Clause) analyzer.Branch {
	return analyzer.Branch{Name: name, Clauses: clauses}
}

func clause(subject, op, value string) analyzer.Clause {
	return analyzer.Clause{Subject: subject, Operator: op, Value: value}
}

func tagAdd(id string, tags ...string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindTagAdd, Type: "add_contact_tag", Tags: tags}
}

func tagRemove(id string, tags ...string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindTagRemove, Type: "remove_contact_tag", Tags: tags}
}

func setField(id, field, value string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindFieldUpdate, Type: "update_contact_field", Fields: []analyzer.FieldWrite{{Field: field, Value: value}}}
}

func goTo(id, target string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindGoto, Type: "goto", GotoTarget: target}
}

func addTo(id string, wfs ...string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindEnroll, Type: "add_to_workflow", Enrollment: &analyzer.Enrollment{WorkflowIDs: wfs}}
}

func removeFrom(id string, wfs ...string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindUnenroll, Type: "remove_from_workflow", Enrollment: &analyzer.Enrollment{WorkflowIDs: wfs}}
}

func dndStep(id string, enable bool, channels ...string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindDND, Type: "dnd_contact", DND: &analyzer.DND{Enable: enable, Channels: channels}}
}

func oppUpdate(id, pipeline, stage, status string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindOpportunity, Type: "internal_update_opportunity", Opportunity: &analyzer.Opportunity{Op: "update", PipelineID: pipeline, StageID: stage, Status: status}}
}

func webhook(id, url string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindWebhook, Type: "webhook", Webhook: &analyzer.Webhook{URL: url}}
}

func action(id, typ string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindAction, Type: typ}
}

func unknownStep(id, typ string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindUnknown, Type: typ}
}

func goal(id, typ, value string) analyzer.Step {
	return analyzer.Step{ID: id, Kind: analyzer.KindGoal, Type: "workflow_goal", Goal: &analyzer.Goal{Type: typ, Value: value}}
}

func window(start, end string, days ...int) *analyzer.TimeWindow {
	return &analyzer.TimeWindow{Start: start, End: end, Days: days}
}

// graph builds a published workflow with exactly the edges given.
func graph(id string, set analyzer.Settings, trig []analyzer.Trigger, steps []analyzer.Step, edges ...analyzer.Edge) analyzer.Workflow {
	wf := analyzer.Workflow{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Status: analyzer.StatusPublished, Settings: set, Triggers: trig, Steps: steps, Edges: edges}
	if len(steps) > 0 {
		wf.Root = steps[0].ID
	}
	return wf
}
