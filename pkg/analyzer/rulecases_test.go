package analyzer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ruleCase is one location analysed for one rule, with the findings (as "severity stepID") and
// not-assessed reasons expected of that rule.
type ruleCase struct {
	name        string
	loc         Location
	findings    []string
	notAssessed []string
}

// mustRunRule analyses loc and returns rule id's findings as "severity stepID: message" and its
// not-assessed reasons as "workflowID: reason".
func mustRunRule(tb testing.TB, loc *Location, id string) (findings, notAssessed []string) {
	tb.Helper()
	_, ok := Rule(id)
	require.True(tb, ok, "rule %s is registered", id)
	rep := Analyze(loc)
	for _, f := range rep.Findings {
		if f.RuleID == id {
			findings = append(findings, f.Severity+" "+f.StepID)
		}
	}
	for _, n := range rep.NotAssessed {
		if n.RuleID == id {
			notAssessed = append(notAssessed, n.WorkflowID+": "+n.Reason)
		}
	}
	return findings, notAssessed
}

func runRuleCases(t *testing.T, id string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			findings, notAssessed := mustRunRule(t, &tc.loc, id)
			require.Equal(t, tc.findings, findings, "findings")
			require.Len(t, notAssessed, len(tc.notAssessed), "not assessed: %q", notAssessed)
			for i, want := range tc.notAssessed {
				require.Contains(t, notAssessed[i], want)
			}
		})
	}
}

// chainWorkflow is a published workflow whose steps run one after the other from a tag trigger.
func chainWorkflow(id string, settings Settings, steps ...Step) Workflow {
	wf := Workflow{ID: id, Name: id, Status: StatusPublished, Settings: settings, Steps: steps,
		Triggers: []Trigger{{ID: id + "-t", Type: TriggerContactTag, Known: true, Active: true, Filters: []Filter{{Field: "tag", Operator: "eq", Values: []string{id}}}}}}
	for i := 1; i < len(steps); i++ {
		wf.Edges = append(wf.Edges, Edge{From: steps[i-1].ID, To: steps[i].ID, Kind: EdgeNext})
	}
	if len(steps) > 0 {
		wf.Root = steps[0].ID
	}
	return wf
}

func smsStep(id, body string) Step {
	return Step{ID: id, Kind: KindMessage, Type: "sms", Name: id, Message: &Message{Channel: ChannelSMS, Body: body}}
}

func messageStep(id, channel string) Step {
	return Step{ID: id, Kind: KindMessage, Type: channel, Name: id, Message: &Message{Channel: channel, Body: "Hi, it's Acme.", Subject: "Hi", HTML: "<p>Hi</p>"}}
}

func dayWait(id string, window *TimeWindow) Step {
	return Step{ID: id, Kind: KindWait, Type: "wait", Name: id, Wait: &Wait{Mode: WaitTime, Duration: &Duration{Value: 1, Unit: "days"}, Window: window}}
}

func TestWD021Cases(t *testing.T) {
	enroll := Step{ID: "s1", Kind: KindEnroll, Name: "Hand over", Enrollment: &Enrollment{WorkflowIDs: []string{"wf-elsewhere"}}}
	runRuleCases(t, "WD021", []ruleCase{
		{
			name:        "an unknown target in an incomplete location is not assessed",
			loc:         Location{Workflows: []Workflow{chainWorkflow("wf-a", Settings{}, enroll)}},
			notAssessed: []string{"wf-a: target workflow wf-elsewhere is not among the analysed workflows"},
		},
		{
			name:     "an unknown target in a complete location is missing",
			loc:      Location{Complete: true, Workflows: []Workflow{chainWorkflow("wf-a", Settings{}, enroll)}},
			findings: []string{"warning s1"},
		},
	})
}

func TestWD023Cases(t *testing.T) {
	outreach := chainWorkflow("wf-out", Settings{}, smsStep("m1", "Hi"), dayWait("w1", nil), smsStep("m2", "Hi"), dayWait("w2", nil), smsStep("m3", "Hi"))
	listener := func(status string, e Enrollment) Workflow {
		wf := chainWorkflow("wf-replies", Settings{}, Step{ID: "r1", Kind: KindUnenroll, Name: "Stop", Enrollment: &e})
		wf.Status = status
		wf.Triggers = []Trigger{{ID: "t", Type: TriggerCustomerReply, Known: true, Active: true}}
		return wf
	}
	withGoal := chainWorkflow("wf-out", Settings{}, smsStep("m1", "Hi"), smsStep("m2", "Hi"), Step{ID: "g", Kind: KindGoal, Goal: &Goal{Type: "tag_added"}}, smsStep("m3", "Hi"))
	twoMessages := chainWorkflow("wf-out", Settings{}, smsStep("m1", "Hi"), smsStep("m2", "Hi"))
	runRuleCases(t, "WD023", []ruleCase{
		{name: "no listener, complete location", loc: Location{Complete: true, Workflows: []Workflow{outreach}}, findings: []string{"warning "}},
		{name: "no listener, incomplete location", loc: Location{Workflows: []Workflow{outreach}}, notAssessed: []string{"wf-out: no workflow among those analysed"}},
		{name: "a listener removing from every workflow", loc: Location{Complete: true, Workflows: []Workflow{outreach, listener(StatusPublished, Enrollment{All: true})}}},
		{name: "a draft listener runs no one", loc: Location{Complete: true, Workflows: []Workflow{outreach, listener(StatusDraft, Enrollment{All: true})}}, findings: []string{"warning "}},
		{name: "stop on response", loc: Location{Complete: true, Workflows: []Workflow{chainWorkflow("wf-out", Settings{StopOnResponse: true}, outreach.Steps...)}}},
		{name: "a goal", loc: Location{Complete: true, Workflows: []Workflow{withGoal}}},
		{name: "two messages", loc: Location{Complete: true, Workflows: []Workflow{twoMessages}}},
	})
}

func TestWD027Severities(t *testing.T) {
	wf := chainWorkflow("wf", Settings{Timezone: "contact"}, dayWait("w", nil),
		messageStep("sms", ChannelSMS), messageStep("call", ChannelCall), messageStep("vm", ChannelVoicemail),
		messageStep("mail", ChannelEmail), messageStep("wa", ChannelWhatsApp))
	runRuleCases(t, "WD027", []ruleCase{
		{name: "texts and calls are errors, email info, other channels not judged", loc: Location{Workflows: []Workflow{wf}},
			findings: []string{"error call", "error sms", "error vm", "info mail"}},
	})
}

func TestWD028Boundaries(t *testing.T) {
	windowed := func(start, end string) Location {
		return Location{Workflows: []Workflow{chainWorkflow("wf", Settings{Timezone: "contact"}, dayWait("w", &TimeWindow{Start: start, End: end}))}}
	}
	runRuleCases(t, "WD028", []ruleCase{
		{name: "08:00-20:00 is safe everywhere", loc: windowed("08:00", "20:00")},
		{name: "20:01 passes the TCPA but not Florida", loc: windowed("08:00", "20:01"), findings: []string{"warning w"}},
		{name: "21:00 is the TCPA's limit", loc: windowed("9:00", "21:00"), findings: []string{"warning w"}},
		{name: "07:59 is too early", loc: windowed("07:59", "12:00"), findings: []string{"error w"}},
		{name: "midnight end", loc: windowed("09:00", "24:00"), findings: []string{"error w"}},
		{name: "across midnight", loc: windowed("22:00", "06:00"), findings: []string{"error w"}},
		{name: "unreadable", loc: windowed("9am", "5pm"), notAssessed: []string{"wf: the time window of wait \"w\""}},
	})
}

func TestWD031Context(t *testing.T) {
	wf := chainWorkflow("wf", Settings{}, smsStep("first", "Thanks for your interest!"), smsStep("second", "Still there?"))
	with := func(ctx *Context) Location { return Location{Context: ctx, Workflows: []Workflow{wf}} }
	runRuleCases(t, "WD031", []ruleCase{
		{name: "no context", loc: with(nil), notAssessed: []string{"wf: no location context"}},
		{name: "no compliance settings", loc: with(&Context{}), notAssessed: []string{"wf: the location context has no SMS compliance settings"}},
		{name: "GHL appends both", loc: with(&Context{SMSCompliance: &SMSCompliance{Enabled: true, AutoAppendOptOut: true, AppendSenderIdentification: true}})},
		{name: "appending is switched off", loc: with(&Context{SMSCompliance: &SMSCompliance{AutoAppendOptOut: true, AppendSenderIdentification: true}}), findings: []string{"warning first"}},
		{name: "GHL appends the opt-out only", loc: with(&Context{SMSCompliance: &SMSCompliance{Enabled: true, AutoAppendOptOut: true}}), findings: []string{"warning first"}},
	})
}

func TestWD035Context(t *testing.T) {
	wf := chainWorkflow("wf", Settings{}, Step{ID: "s1", Kind: KindAction, Name: "Book", Refs: []Ref{
		{Kind: RefCalendar, ID: "cal-1"}, {Kind: RefUser, ID: "u-9"}, {Kind: RefLocation, ID: "loc-x"}, {Kind: RefWorkflow, ID: "wf-z"},
	}})
	runRuleCases(t, "WD035", []ruleCase{
		{name: "no context and no location id", loc: Location{Workflows: []Workflow{wf}}, notAssessed: []string{
			"wf: no location context", "wf: the location's id is unknown", "wf: workflows wf-z are not among the analysed workflows",
		}},
		{name: "a context without users", loc: Location{ID: "loc-x", Context: &Context{Calendars: []Object{{ID: "cal-1"}}}, Workflows: []Workflow{wf}},
			notAssessed: []string{"wf: the location context has no list of users", "wf: workflows wf-z"}},
		{name: "an empty user list is known", loc: Location{ID: "loc-main", Complete: true, Context: &Context{Calendars: []Object{{ID: "cal-1"}}, Users: []Object{}}, Workflows: []Workflow{wf}},
			findings: []string{"error s1", "error s1", "error s1"}},
	})
}

func TestWD036WithoutContext(t *testing.T) {
	wf := chainWorkflow("wf", Settings{}, smsStep("s1", "Hi {{contact.nickname}}, {{custom_values.link}} {{contact.custom.size}} {{appointment.start_time}}"))
	runRuleCases(t, "WD036", []ruleCase{
		{name: "the workflow-only checks still run", loc: Location{Workflows: []Workflow{wf}},
			findings:    []string{"warning s1", "warning s1"},
			notAssessed: []string{"wf: the location's custom fields are unknown", "wf: the location's custom values are unknown"}},
	})
}

func TestWD040Incomplete(t *testing.T) {
	route := chainWorkflow("wf-route", Settings{}, Step{ID: "c1", Kind: KindCondition, Name: "Check", Condition: &Condition{Branches: []Branch{{Name: "x", Clauses: []Clause{
		{Subject: "tag", Operator: "contains", Value: "qualified"}, {Subject: "contact.lead_status", Operator: "eq", Value: "Hot"},
	}}}}})
	writer := chainWorkflow("wf-write", Settings{}, Step{ID: "f1", Kind: KindFieldUpdate, Fields: []FieldWrite{{Field: "lead_status", Value: "Warm"}}},
		Step{ID: "t1", Kind: KindTagAdd, Tags: []string{"Disqualified"}})
	runRuleCases(t, "WD040", []ruleCase{
		{name: "complete: both halves", loc: Location{Complete: true, Workflows: []Workflow{route, writer}}, findings: []string{"warning c1", "warning c1"}},
		{name: "incomplete: the exact half is not assessed", loc: Location{Workflows: []Workflow{route, writer}}, findings: []string{"warning c1"},
			notAssessed: []string{"wf-route: the location is not complete"}},
	})
}

func TestEventTriggerOverlap(t *testing.T) {
	lg := &locGraph{fieldIDs: map[string]string{"cf-1": "contact.status"}}
	mk := func(typ string, filters ...Filter) eventTrigger {
		return newEventTrigger(lg, &Workflow{Triggers: []Trigger{{Type: typ, Filters: filters}}}, 0, 0)
	}
	form := func(ids ...string) Filter { return Filter{Field: "form.id", Operator: "in", Values: ids} }
	changed := func(field string) Filter { return Filter{Field: field, Operator: "has_changed"} }
	tests := []struct {
		name string
		a, b eventTrigger
		want bool
	}{
		{name: "same form", a: mk(TriggerFormSubmitted, form("f1")), b: mk(TriggerFormSubmitted, form("f2", "f1")), want: true},
		{name: "different forms", a: mk(TriggerFormSubmitted, form("f1")), b: mk(TriggerFormSubmitted, form("f2"))},
		{name: "any form and one form", a: mk(TriggerFormSubmitted), b: mk(TriggerFormSubmitted, form("f2")), want: true},
		{name: "different types", a: mk(TriggerFormSubmitted), b: mk(TriggerSurveySubmitted)},
		{name: "both appointment triggers", a: mk(TriggerAppointment), b: mk(TriggerCustomerAppointment), want: true},
		{name: "the same field by id and key", a: mk(TriggerContactChanged, changed("contact.cf-1")), b: mk(TriggerContactChanged, changed("contact.status")), want: true},
		{name: "different watched fields", a: mk(TriggerContactChanged, changed("contact.email")), b: mk(TriggerContactChanged, changed("contact.phone"))},
		{name: "a negated filter does not narrow", a: mk(TriggerContactTag, Filter{Field: "tag", Operator: "neq", Values: []string{"x"}}), b: mk(TriggerContactTag, Filter{Field: "tag", Operator: "eq", Values: []string{"y"}}), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.a.overlaps(tt.b))
			require.Equal(t, tt.want, tt.b.overlaps(tt.a))
		})
	}
}

// TestUnknownFilterCases: a trigger filtered on something the analyzer cannot read is filtered by
// something unknown, never unfiltered, in every rule that asks what a trigger listens to.
func TestUnknownFilterCases(t *testing.T) {
	unknown := Filter{Field: "contact.lead_score_band", Operator: "eq", Values: []string{"high"}}
	tagTrigger := func(tag string, extra ...Filter) Trigger {
		return Trigger{ID: "t-" + tag, Type: TriggerContactTag, Known: true, Active: true, Filters: append([]Filter{{Field: "tag", Operator: "eq", Values: []string{tag}}}, extra...)}
	}
	tagging := func(id, listen, add string, extra ...Filter) Workflow {
		wf := chainWorkflow(id, Settings{AllowReEntry: true}, Step{ID: id + "-s", Kind: KindTagAdd, Name: "Tag", Tags: []string{add}})
		wf.Triggers = []Trigger{tagTrigger(listen, extra...)}
		return wf
	}
	form := func(id string, extra ...Filter) Workflow {
		wf := chainWorkflow(id, Settings{}, Step{ID: id + "-s", Kind: KindTagAdd, Name: "Tag", Tags: []string{"lead"}})
		wf.Triggers = []Trigger{{Type: TriggerFormSubmitted, Known: true, Active: true, Filters: append([]Filter{{Field: "form.id", Operator: "eq", Values: []string{"f1"}}}, extra...)}}
		return wf
	}
	unreadTrigger := func(id string) Workflow {
		wf := form(id)
		wf.Triggers[0].Unread = []Unread{{Path: "conditions[1]", Key: "conditions"}}
		return wf
	}
	replyDND := func(extra ...Filter) Workflow {
		wf := chainWorkflow("wf-dnd", Settings{}, Step{ID: "d", Kind: KindDND, Name: "Clear DND", DND: &DND{Channels: []string{"sms"}}})
		wf.Triggers = []Trigger{{Type: TriggerCustomerReply, Known: true, Active: true, Filters: extra}}
		return wf
	}
	t.Run("WD019", func(t *testing.T) {
		runRuleCases(t, "WD019", []ruleCase{
			{name: "a certain cycle", loc: Location{Complete: true, Workflows: []Workflow{tagging("wf-a", "a", "b"), tagging("wf-b", "b", "a")}}, findings: []string{"error wf-a-s"}},
			{name: "a cycle through a trigger filtered on something unknown", loc: Location{Complete: true, Workflows: []Workflow{tagging("wf-a", "a", "b"), tagging("wf-b", "b", "a", unknown)}},
				notAssessed: []string{`wf-a: workflows "wf-a" and "wf-b" would start each other in a circle through trigger "contact_tag" of "wf-b", which is filtered on contact.lead_score_band (filters[1].field)`}},
		})
	})
	t.Run("WD020", func(t *testing.T) {
		runRuleCases(t, "WD020", []ruleCase{
			{name: "the same trigger", loc: Location{Complete: true, Workflows: []Workflow{form("wf-a"), form("wf-b")}}, findings: []string{"warning "}},
			{name: "a filter on an unknown field is compared as written", loc: Location{Complete: true, Workflows: []Workflow{form("wf-a", unknown), form("wf-b")}}},
			{name: "filters that were not read", loc: Location{Complete: true, Workflows: []Workflow{unreadTrigger("wf-a"), unreadTrigger("wf-b")}},
				notAssessed: []string{"wf-a: trigger \"form_submitted\" is filtered on conditions (conditions[1])", "wf-b: trigger"}},
		})
	})
	t.Run("WD022", func(t *testing.T) {
		runRuleCases(t, "WD022", []ruleCase{
			{name: "both write on the same form", loc: Location{Complete: true, Workflows: []Workflow{form("wf-a"), form("wf-b")}}, findings: []string{"info wf-a-s", "info wf-b-s"}},
			{name: "one is filtered on something unknown", loc: Location{Complete: true, Workflows: []Workflow{form("wf-a", unknown), form("wf-b")}},
				notAssessed: []string{"wf-a: trigger \"form_submitted\" is filtered on contact.lead_score_band"}},
		})
	})
	t.Run("WD032", func(t *testing.T) {
		runRuleCases(t, "WD032", []ruleCase{
			{name: "an unfiltered reply is no opt-in", loc: Location{Workflows: []Workflow{replyDND()}}, findings: []string{"error d"}},
			{name: "a reply filtered on something unknown may be the opt-in", loc: Location{Workflows: []Workflow{replyDND(unknown)}},
				notAssessed: []string{"wf-dnd: trigger \"customer_reply\" is filtered on contact.lead_score_band"}},
		})
	})
}
