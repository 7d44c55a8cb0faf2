package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// mustBundleWorkflow imports a bundle holding one workflow with the given steps, triggers and settings.
func mustBundleWorkflow(tb testing.TB, steps, triggers, settings string) *analyzer.Workflow {
	tb.Helper()
	if settings == "" {
		settings = "{}"
	}
	res := mustParse(tb, []byte(`{"workflows":[{"_id":"wf","name":"Test","status":"published","triggers":[`+triggers+
		`],"steps":[`+steps+`],"settings":`+settings+`}]}`))
	require.Equal(tb, importer.DialectBundle, res.Dialect)
	return &res.Location.Workflows[0]
}

func TestBundleEdges(t *testing.T) {
	tests := []struct {
		name  string
		steps string
		ids   []string
		edges []string
		root  string
	}{
		{
			name:  "steps without next run in array order with generated ids",
			steps: `{"type":"sms"},{"type":"wait","meta":{"delay":"1 day"}},{"type":"email"}`,
			ids:   []string{"step-1", "step-2", "step-3"},
			edges: []string{`step-1 -next-> "step-2"`, `step-2 -next-> "step-3"`},
			root:  "step-1",
		},
		{
			name:  "explicit ids and generated ids mix without collision",
			steps: `{"type":"sms","id":"step-2"},{"type":"sms"},{"type":"sms"}`,
			ids:   []string{"step-2", "step-2-2", "step-3"},
			edges: []string{`step-2 -next-> "step-2-2"`, `step-2-2 -next-> "step-3"`},
			root:  "step-2",
		},
		{
			name:  "explicit next, a missing target and a detached step",
			steps: `{"id":"s1","type":"sms","next":"s2"},{"id":"s2","type":"email","next":"gone"},{"id":"s7","type":"sms","parentKey":"s6-deleted"}`,
			ids:   []string{"s1", "s2", "s7"},
			edges: []string{`s1 -next-> "s2"`, `s2 -next-> "gone"`},
			root:  "s1",
		},
		{
			name:  "explicit null and empty next end the path",
			steps: `{"id":"a","type":"sms","next":null},{"id":"b","type":"sms","next":[]},{"id":"c","type":"sms"}`,
			ids:   []string{"a", "b", "c"},
			edges: []string{},
			root:  "a",
		},
		{
			name:  "flat if/else: both paths continue with the following steps",
			steps: `{"id":"c","type":"if_else","meta":{"conditions":[{"tag":"complaint"}]}},{"id":"w","type":"wait","meta":{"delay":"7 days"}}`,
			ids:   []string{"c", "w"},
			edges: []string{`c -branch[Yes|]-> "w"`, `c -else[None|]-> "w"`},
			root:  "c",
		},
		{
			name:  "flat if/else as the last step has empty branches",
			steps: `{"id":"h","type":"webhook"},{"id":"c","type":"if_else","meta":{"conditions":[{"field":"response.status","value":"200"}]}}`,
			ids:   []string{"h", "c"},
			edges: []string{`h -next-> "c"`, `c -branch[Yes|]-> ""`, `c -else[None|]-> ""`},
			root:  "h",
		},
		{
			name: "inline branch actions, with the None branch declared empty",
			steps: `{"id":"q","type":"if_else","meta":{"conditions":[{"field":"contact.x","operator":"exists"}],"branches":[` +
				`{"name":"Qualified","actions":[{"type":"add_contact_tag","meta":{"tags":["qualified"]}},{"type":"sms"}]},{"name":"None","actions":[]}]}},` +
				`{"id":"r","type":"assign_round_robin","meta":{"users":[]}}`,
			ids:   []string{"q", "q.1.1", "q.1.2", "r"},
			edges: []string{`q -branch[Qualified|]-> "q.1.1"`, `q -else[None|]-> ""`, `q.1.1 -next-> "q.1.2"`, `q.1.2 -next-> "r"`},
			root:  "q",
		},
		{
			name: "inline None branch with actions",
			steps: `{"id":"q","type":"if_else","meta":{"noneBranchName":"Otherwise","branches":[{"name":"A","conditions":[{"tag":"a"}],"actions":[]},` +
				`{"name":"Otherwise","actions":[{"type":"sms"}]}]}}`,
			ids:   []string{"q", "q.e.1"},
			edges: []string{`q -branch[A|]-> ""`, `q -else[Otherwise|]-> "q.e.1"`},
			root:  "q",
		},
		{
			name: "branch ids in next and children by parentKey",
			steps: `{"id":"G","type":"if_else","next":["B1","B2"],"meta":{"noneBranchName":"Live lead","branches":[{"id":"B1","name":"Engaged",` +
				`"segments":[{"conditions":[{"conditionType":"contact_detail","conditionSubType":"tags","conditionOperator":"index-of-true","conditionValue":["engaged"]}]}]}]}},` +
				`{"id":"n","type":"add_notes","parentKey":"B1","next":null},{"id":"a","type":"add_contact_tag","parentKey":"B2"},{"id":"b","type":"remove_from_workflow","parentKey":"B2"}`,
			ids:   []string{"G", "n", "a", "b"},
			edges: []string{`G -branch[Engaged|B1]-> "n"`, `G -else[Live lead|B2]-> "a"`, `a -next-> "b"`},
			root:  "G",
		},
		{
			name:  "branch id in next with no steps behind it is an empty branch",
			steps: `{"id":"G","type":"if_else","next":["B1","B2"],"meta":{"branches":[{"id":"B1","name":"A"}]}},{"id":"a","type":"sms","parentKey":"B2"}`,
			ids:   []string{"G", "a"},
			edges: []string{`G -branch[A|B1]-> ""`, `G -else[None|B2]-> "a"`},
			root:  "G",
		},
		{
			name: "parentKey with a branch-name suffix",
			steps: `{"id":"t1","type":"if_else","meta":{"conditions":[{"field":"contact.a","value":"1"}]}},` +
				`{"id":"t2","type":"if_else","parentKey":"t1-yes","meta":{"conditions":[{"field":"contact.b","value":"2"}]}},` +
				`{"id":"t3","type":"sms","parentKey":"t2-yes"},{"id":"t4","type":"email","parentKey":"t2-no"},{"id":"t5","type":"sms","parentKey":"t2-no"}`,
			ids:   []string{"t1", "t2", "t3", "t4", "t5"},
			edges: []string{`t1 -branch[Yes|]-> "t2"`, `t1 -else[None|]-> ""`, `t2 -branch[Yes|]-> "t3"`, `t2 -else[None|]-> "t4"`, `t4 -next-> "t5"`},
			root:  "t1",
		},
		{
			name:  "parentKey naming a plain step runs in that step's lane",
			steps: `{"id":"a","type":"sms"},{"id":"b","type":"sms","parentKey":"a"},{"id":"c","type":"sms"}`,
			ids:   []string{"a", "b", "c"},
			edges: []string{`a -next-> "b"`, `b -next-> "c"`},
			root:  "a",
		},
		{
			name:  "parentKey cycle ends detached",
			steps: `{"id":"a","type":"sms","parentKey":"b"},{"id":"b","type":"sms","parentKey":"a"},{"id":"c","type":"sms"}`,
			ids:   []string{"a", "b", "c"},
			edges: []string{`a -next-> "b"`},
			root:  "c",
		},
		{
			name:  "a step hanging off a detached step follows it",
			steps: `{"id":"a","type":"sms"},{"id":"x","type":"sms","parentKey":"deleted"},{"id":"y","type":"sms","parentKey":"x"}`,
			ids:   []string{"a", "x", "y"},
			edges: []string{`x -next-> "y"`},
			root:  "a",
		},
		{
			name:  "scalar next on an if/else is where every path continues",
			steps: `{"id":"q2","type":"if_else","next":"q3","meta":{"conditions":[{"field":"response.price","operator":"exists"}]}},{"id":"x","type":"sms"},{"id":"q3","type":"sms"}`,
			ids:   []string{"q2", "x", "q3"},
			edges: []string{`q2 -branch[Yes|]-> "q3"`, `q2 -else[None|]-> "q3"`, `x -next-> "q3"`},
			root:  "q2",
		},
		{
			name:  "go-to by step id does not fall through",
			steps: `{"id":"push","type":"webhook"},{"type":"wait","meta":{"delay":"10 minutes"}},{"type":"goto","meta":{"targetStepId":"push"}},{"type":"sms"}`,
			ids:   []string{"push", "step-2", "step-3", "step-4"},
			edges: []string{`push -next-> "step-2"`, `step-2 -next-> "step-3"`, `step-3 -goto-> "push"`},
			root:  "push",
		},
		{
			name:  "go-to by step name",
			steps: `{"type":"webhook","name":"Push to fulfillment"},{"type":"goto","meta":{"targetStepName":"push to fulfillment "}}`,
			ids:   []string{"step-1", "step-2"},
			edges: []string{`step-1 -next-> "step-2"`, `step-2 -goto-> "step-1"`},
			root:  "step-1",
		},
		{
			name:  "go-to to an unknown name keeps the name",
			steps: `{"type":"sms"},{"type":"goto","meta":{"targetStepName":"Nowhere"}}`,
			ids:   []string{"step-1", "step-2"},
			edges: []string{`step-1 -next-> "step-2"`, `step-2 -goto-> "Nowhere"`},
			root:  "step-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBundleWorkflow(t, tt.steps, "", "")
			require.Equal(t, tt.ids, stepIDs(wf))
			require.Equal(t, tt.edges, edgeStrings(wf))
			require.Equal(t, tt.root, wf.Root)
			for _, s := range wf.Steps {
				require.Nil(t, s.Shape, "the bundle does not write builder edges")
				require.NotEmpty(t, s.Raw)
			}
		})
	}
}

func TestBundleWaits(t *testing.T) {
	tests := []struct {
		name string
		meta string
		typ  string
		want analyzer.Wait
	}{
		{name: "delay string", meta: `{"delay":"2 days"}`, want: analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 2, Unit: "days"}}},
		{name: "delay object", meta: `{"delay":{"value":1,"unit":"days"}}`, want: analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"}}},
		{name: "value and unit", meta: `{"value":3,"unit":"hours"}`, want: analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 3, Unit: "hours"}}},
		{name: "window on the wait", meta: `{"delay":"1 day","window":{"start":"09:00","end":"17:00"}}`, want: analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 1, Unit: "days"}, Window: &analyzer.TimeWindow{Start: "09:00", End: "17:00"}}},
		{name: "reply wait with unlimited delay has no timeout", meta: `{"waitType":"contact_reply","delay":"unlimited"}`, want: analyzer.Wait{Mode: analyzer.WaitReply}},
		{name: "reply wait with a delay times out", meta: `{"waitType":"contact_reply","delay":"3 days"}`, want: analyzer.Wait{Mode: analyzer.WaitReply, Timeout: &analyzer.Duration{Value: 3, Unit: "days"}}},
		{name: "condition wait with a timeout key", meta: `{"waitType":"condition","conditions":[{"tag":"paid"}],"timeout":"2 days"}`, want: analyzer.Wait{Mode: analyzer.WaitCondition, Timeout: &analyzer.Duration{Value: 2, Unit: "days"}, Conditions: []analyzer.Clause{{Subject: "tag", Operator: "eq", Value: "paid"}}}},
		{name: "appointment offset", typ: "event_start_wait", meta: `{"waitType":"appointment_time","offset":{"value":24,"unit":"hours","direction":"before"}}`, want: analyzer.Wait{Mode: analyzer.WaitAppointment, Offset: &analyzer.Offset{When: "before", Minutes: 1440}}},
		{name: "event start wait without a wait type", typ: "event_start_wait", meta: `{"offset":{"value":15,"unit":"minutes","direction":"after"}}`, want: analyzer.Wait{Mode: analyzer.WaitAppointment, Offset: &analyzer.Offset{When: "after", Minutes: 15}}},
		{name: "a wait that says nothing is unknown", meta: `{"stopOnResponse":true}`, want: analyzer.Wait{Mode: analyzer.WaitUnknown}},
		{name: "no meta at all", meta: `null`, want: analyzer.Wait{Mode: analyzer.WaitUnknown}},
		{name: "event start wait without meta", typ: "event_start_wait", meta: `null`, want: analyzer.Wait{Mode: analyzer.WaitAppointment}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.typ
			if typ == "" {
				typ = "wait"
			}
			wf := mustBundleWorkflow(t, `{"type":"`+typ+`","meta":`+tt.meta+`}`, "", "")
			s := &wf.Steps[0]
			require.Equal(t, analyzer.KindWait, s.Kind)
			require.Equal(t, tt.want, *s.Wait)
		})
	}
}

func TestBundleSteps(t *testing.T) {
	tests := []struct {
		name  string
		step  string
		check func(t *testing.T, s *analyzer.Step)
	}{
		{
			name: "email body is its content",
			step: `{"type":"email","meta":{"subject":"Hi","body":"Hello there","fromName":"Dana","fromEmail":"d@example.com"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Message{Channel: analyzer.ChannelEmail, Subject: "Hi", HTML: "Hello there", FromName: "Dana"}, s.Message)
			},
		},
		{
			name: "email with html keeps both",
			step: `{"type":"email","meta":{"subject":"Hi","body":"text","html":"<p>Hi</p>"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, "<p>Hi</p>", s.Message.HTML)
				require.Equal(t, "text", s.Message.Body)
			},
		},
		{
			name: "sms from number is a reference",
			step: `{"type":"sms","meta":{"fromNumber":"+1 (555) 010-8845","body":"hi"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, "+1 (555) 010-8845", s.Message.FromNumber)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefPhoneNumber, ID: "+1 (555) 010-8845"}}, s.Refs)
			},
		},
		{
			name: "field and value",
			step: `{"type":"update_contact_field","meta":{"field":"lead_state","value":"booked"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.FieldWrite{{Field: "contact.lead_state", Value: "booked"}}, s.Fields)
			},
		},
		{
			name: "fields object read in key order",
			step: `{"type":"update_contact_field","meta":{"fields":{"timeline":"{{ai.timeline}}","budget":"{{ai.budget}}"}}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.FieldWrite{{Field: "contact.budget", Value: "{{ai.budget}}"}, {Field: "contact.timeline", Value: "{{ai.timeline}}"}}, s.Fields)
			},
		},
		{
			name: "writing dnd false clears do-not-disturb",
			step: `{"type":"update_contact_field","meta":{"field":"dnd","value":false}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindDND, s.Kind)
				require.Equal(t, &analyzer.DND{Enable: false}, s.DND)
				require.Equal(t, []analyzer.FieldWrite{{Field: "contact.dnd", Value: "false"}}, s.Fields)
			},
		},
		{
			name: "tag scalar",
			step: `{"type":"add_contact_tag","meta":{"tag":"cancelled-customer"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []string{"cancelled-customer"}, s.Tags)
			},
		},
		{
			name: "target workflow",
			step: `{"type":"add_to_workflow","meta":{"targetWorkflowId":"wf_closer"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Enrollment{WorkflowIDs: []string{"wf_closer"}}, s.Enrollment)
			},
		},
		{
			name: "remove from workflow with nothing named",
			step: `{"type":"remove_from_workflow","meta":{}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Enrollment{WorkflowIDs: []string{}}, s.Enrollment)
			},
		},
		{
			name: "legacy opportunity by names is not a reference",
			step: `{"type":"create_update_opportunity","meta":{"pipeline":"Sales","stage":"New"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Opportunity{Op: "create_or_update", PipelineID: "Sales", StageID: "New", Legacy: true}, s.Opportunity)
				require.Nil(t, s.Refs)
			},
		},
		{
			name: "round robin with nobody",
			step: `{"type":"assign_round_robin","meta":{"users":[]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Assign{UserIDs: []string{}}, s.Assign)
			},
		},
		{
			name: "notification recipient and channel",
			step: `{"type":"internal_notification","meta":{"channel":"email","recipientUserId":"usr_obs","message":"Import stalled"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindNotification, s.Kind)
				require.Equal(t, &analyzer.Message{Channel: analyzer.ChannelEmail, Body: "Import stalled"}, s.Message)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefUser, ID: "usr_obs"}}, s.Refs)
			},
		},
		{
			name: "book appointment calendar reference",
			step: `{"type":"book_appointment","meta":{"calendarId":"cal_deleted_2024"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindAction, s.Kind)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefCalendar, ID: "cal_deleted_2024"}}, s.Refs)
			},
		},
		{
			name: "webhook with a JSON body and header map",
			step: `{"type":"webhook","meta":{"method":"post","url":"https://api.example.com/x","headers":{"X-B":"2","X-A":"1"},"body":{"b":"<1>","a":[1,2]}}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Webhook{Method: "POST", URL: "https://api.example.com/x",
					Headers: []analyzer.Header{{Key: "X-A", Value: "1"}, {Key: "X-B", Value: "2"}}, Body: `{"a":[1,2],"b":"<1>"}`}, s.Webhook)
			},
		},
		{
			name: "n8n node is an unknown type",
			step: `{"id":"push","type":"n8n-nodes-base.httpRequest","typeVersion":4,"parameters":{"url":"https://x.example"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindUnknown, s.Kind)
				require.Equal(t, "n8n-nodes-base.httpRequest", s.Type)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBundleWorkflow(t, tt.step, "", "")
			tt.check(t, &wf.Steps[0])
		})
	}
}

func TestBundleTriggersAndSettings(t *testing.T) {
	wf := mustBundleWorkflow(t, `{"type":"wait","meta":{"delay":"1 day","stopOnResponse":true}}`,
		`{"type":"contact_tag_added","name":"Tag","filters":[{"tag":"reactivate"}]},`+
			`{"type":"appointment_status","filters":[{"field":"appointment_status","value":"confirmed"},{"field":"status","value":"showed"}]},`+
			`{"type":"opportunity_stage_changed","filters":[{"field":"stage","value":"stg_booked"},{"field":"pipeline","value":"pipe"}]},`+
			`{"type":"form_submitted","filters":[{"field":"formId","value":"form_intake"},{"field":"form","value":"Intake"},{"field":"form_name","value":"Promo"}]},`+
			`{"type":"appointment","conditions":[{"operator":"==","field":"calendar.id","value":"cal"}]},`+
			`{"type":"customer_replied"},{"type":"inbound_message"},{"type":"schedule"},{"type":"order_form_submitted"},`+
			`{"type":"tag_added","filters":[{"field":"tag","value":"sms-opt-in"}]},{"type":"contact_changed","filters":[{"field":"email","operator":"has-changed"}]}`,
		`{"allowReentry":true,"sendingWindow":{"start":"09:00","end":"19:00","timezone":"contact"}}`)
	require.Equal(t, analyzer.Settings{AllowReEntry: true, StopOnResponse: true, Timezone: "contact",
		TimeWindow: &analyzer.TimeWindow{Start: "09:00", End: "19:00"}}, wf.Settings)
	type trig struct {
		Type    string
		Known   bool
		Filters []analyzer.Filter
	}
	var got []trig
	for _, tr := range wf.Triggers {
		got = append(got, trig{tr.Type, tr.Known, tr.Filters})
	}
	eq := func(field string, v ...string) analyzer.Filter {
		return analyzer.Filter{Field: field, Operator: "eq", Values: v}
	}
	require.Equal(t, []trig{
		{analyzer.TriggerContactTag, true, []analyzer.Filter{eq("tag", "reactivate")}},
		{analyzer.TriggerAppointment, true, []analyzer.Filter{eq("appointment.status", "confirmed"), eq("appointment.status", "showed")}},
		{analyzer.TriggerPipelineStage, true, []analyzer.Filter{eq("pipeline.stage.id", "stg_booked"), eq("pipeline.id", "pipe")}},
		{analyzer.TriggerFormSubmitted, true, []analyzer.Filter{eq("form.id", "form_intake"), eq("form", "Intake"), eq("form", "Promo")}},
		{analyzer.TriggerAppointment, true, []analyzer.Filter{eq("calendar.id", "cal")}},
		{analyzer.TriggerCustomerReply, true, []analyzer.Filter{}},
		{analyzer.TriggerCustomerReply, true, []analyzer.Filter{}},
		{"scheduler_trigger", true, []analyzer.Filter{}},
		{"order_form_submission", true, []analyzer.Filter{}},
		{analyzer.TriggerContactTag, true, []analyzer.Filter{eq("tag", "sms-opt-in")}},
		{analyzer.TriggerContactChanged, true, []analyzer.Filter{{Field: "contact.email", Operator: "has_changed", Values: []string{}}}},
	}, got)

	wf = mustBundleWorkflow(t, "", "", `{"timezone":"America/New_York","window":{"start":"08:00","end":"20:00","days":["Mon","tue",5]}}`)
	require.Equal(t, analyzer.Settings{Timezone: "America/New_York", TimeWindow: &analyzer.TimeWindow{Days: []int{1, 2, 5}, Start: "08:00", End: "20:00"}}, wf.Settings)
}

func TestBundleContext(t *testing.T) {
	res := mustParse(t, []byte(`{"workflows":[],
		"customValues":{"RL Booking Link":"https://x.example","office_phone":"(555) 010"},
		"customFields":[{"fieldKey":"contact.service_interest","name":"Service Interest"}],
		"users":[{"id":"u1","name":"Dana","active":false},{"id":"u2","firstName":"Sam","lastName":"W"}],
		"pipelines":[{"id":"p","name":"Sales","stages":[{"id":"s1","name":"New"}]}],
		"emailTemplates":[{"id":"tpl","name":"Welcome"}],
		"phoneNumbers":[{"number":"+1555","sms":false},"+1666"],
		"forms":[],
		"tags":["hot-lead",{"name":"vip"}],
		"emailDomains":[{"domain":"mail.example.com","verified":false}],
		"stats":{"wf":{"enrollments":3}}}`))
	ctx := res.Location.Context
	require.NotNil(t, ctx)
	require.Equal(t, []analyzer.CustomValue{
		{Name: "RL Booking Link", Key: "custom_values.rl_booking_link", Value: "https://x.example"},
		{Name: "office_phone", Key: "custom_values.office_phone", Value: "(555) 010"},
	}, ctx.CustomValues)
	require.Equal(t, []analyzer.CustomField{{Name: "Service Interest", Key: "contact.service_interest"}}, ctx.CustomFields)
	require.Equal(t, []analyzer.Object{{ID: "u1", Name: "Dana"}, {ID: "u2", Name: "Sam W"}}, ctx.Users)
	require.Equal(t, []analyzer.Pipeline{{ID: "p", Name: "Sales", Stages: []analyzer.Object{{ID: "s1", Name: "New"}}}}, ctx.Pipelines)
	require.Equal(t, []analyzer.Object{{ID: "tpl", Name: "Welcome"}}, ctx.Templates)
	require.Equal(t, []analyzer.PhoneNumber{{Number: "+1555", SMS: false}, {Number: "+1666", SMS: true}}, ctx.PhoneNumbers)
	require.Equal(t, []analyzer.Object{}, ctx.Forms, "an empty list: the location has none")
	require.Equal(t, []string{"hot-lead", "vip"}, ctx.Tags)
	require.Nil(t, ctx.Calendars, "absent: unknown")
	require.Nil(t, ctx.Surveys)
	require.Nil(t, ctx.SMSCompliance)

	res = mustParse(t, []byte(`{"workflows":[{"_id":"w","steps":[]}],"emailDomains":[]}`))
	require.Nil(t, res.Location.Context, "no context key at all: no context")
}

func TestBundleSingleWorkflow(t *testing.T) {
	res := mustParse(t, []byte(`{"name":"Alone","status":"live","steps":[{"type":"sms"}]}`))
	require.Equal(t, importer.DialectBundle, res.Dialect)
	require.False(t, res.Location.Complete, "one workflow is not the whole account")
	wf := &res.Location.Workflows[0]
	require.Equal(t, "workflow-1", wf.ID)
	require.Equal(t, analyzer.StatusPublished, wf.Status)
}

func TestBundleInlineDepthBound(t *testing.T) {
	nested := func(levels int) string {
		return strings.Repeat(`{"type":"if_else","meta":{"branches":[{"name":"A","actions":[`, levels) + `{"type":"sms"}` +
			strings.Repeat(`]}]}}`, levels)
	}
	res, err := importer.Parse([]byte(`{"workflows":[{"_id":"w","steps":[`+nested(16)+`]}]}`), importer.Options{MaxDepth: 200})
	require.NoError(t, err)
	require.Len(t, res.Location.Workflows[0].Steps, 17)

	_, err = importer.Parse([]byte(`{"workflows":[{"_id":"w","steps":[`+nested(17)+`]}]}`), importer.Options{MaxDepth: 200})
	var perr *importer.Error
	require.True(t, errors.As(err, &perr), "got %v", err)
	require.Contains(t, perr.Message, "nested deeper than 16 levels")

	_, err = importer.Parse([]byte(`{"workflows":[{"_id":"w","steps":[`+nested(17)+`]}]}`), importer.Options{})
	var lerr *importer.LimitError
	require.True(t, errors.As(err, &lerr), "the default depth limit stops it first")
}
