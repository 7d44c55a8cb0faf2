package importer_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// builderExport wraps templates and triggers in a single-workflow export envelope.
func builderExport(templates, triggers string) []byte {
	return []byte(`{"$schema":"ghl-workflow-export/v1","exportedAt":"2026-11-20T10:00:00Z",` +
		`"exporter":{"name":"test","version":"1"},"source":{"locationId":"L1","workflowId":"wf1"},` +
		`"workflow":{"_id":"wf1","locationId":"L1","name":"Test","status":"published",` +
		`"workflowData":{"templates":[` + templates + `]}},"triggers":[` + triggers + `]}`)
}

// mustBuilderWorkflow imports one builder workflow made of templates and triggers.
func mustBuilderWorkflow(tb testing.TB, templates, triggers string) *analyzer.Workflow {
	tb.Helper()
	res := mustParse(tb, builderExport(templates, triggers))
	require.Equal(tb, importer.DialectBuilder, res.Dialect)
	require.Len(tb, res.Location.Workflows, 1)
	return &res.Location.Workflows[0]
}

func TestBuilderEdges(t *testing.T) {
	const ifElse = `{"id":"D","type":"if_else","cat":"conditions","nodeType":"condition-node","next":%s,` +
		`"attributes":{"if":true,"noneBranchName":"Else","branches":[{"id":"Y","name":"Promoter","segments":[{"conditions":[` +
		`{"conditionType":"contact_detail","conditionSubType":"nps","conditionOperator":">=","conditionValue":"9"}]}]}]}}`
	tests := []struct {
		name      string
		templates string
		steps     []string
		edges     []string
		root      string
	}{
		{
			name:      "linear next, scalar and absent",
			templates: `{"id":"a","type":"sms","next":"b"},{"id":"b","type":"email"}`,
			steps:     []string{"a", "b"},
			edges:     []string{`a -next-> "b"`},
			root:      "a",
		},
		{
			name:      "array next on a plain step is kept as written",
			templates: `{"id":"a","type":"sms","next":["b","c"]},{"id":"b","type":"email"},{"id":"c","type":"email"}`,
			steps:     []string{"a", "b", "c"},
			edges:     []string{`a -next-> "b"`, `a -next-> "c"`},
			root:      "a",
		},
		{
			name: "three-node if/else with else",
			templates: fmt.Sprintf(ifElse, `["Y","N"]`) + `,` +
				`{"id":"Y","type":"if_else","nodeType":"branch-yes","parent":"D","next":["A"],"attributes":{"if":false,"conditionName":"Promoter"}},` +
				`{"id":"N","type":"if_else","nodeType":"branch-no","parent":"D","next":["B"],"attributes":{"else":true}},` +
				`{"id":"A","type":"add_contact_tag","parentKey":"Y","attributes":{"tags":["promoter"]}},` +
				`{"id":"B","type":"sms","parentKey":"N"}`,
			steps: []string{"D", "A", "B"},
			edges: []string{`D -branch[Promoter|Y]-> "A"`, `D -else[Else|N]-> "B"`},
			root:  "D",
		},
		{
			name: "three-node if/else without else",
			templates: fmt.Sprintf(ifElse, `["Y"]`) + `,` +
				`{"id":"Y","type":"if_else","nodeType":"branch-yes","parent":"D","next":["A"],"attributes":{"if":false}},` +
				`{"id":"A","type":"sms"}`,
			steps: []string{"D", "A"},
			edges: []string{`D -branch[Promoter|Y]-> "A"`},
			root:  "D",
		},
		{
			name: "empty branch is an edge to nothing",
			templates: fmt.Sprintf(ifElse, `["Y","N"]`) + `,` +
				`{"id":"Y","type":"if_else","nodeType":"branch-yes","parent":"D","attributes":{"if":false}},` +
				`{"id":"N","type":"if_else","nodeType":"branch-no","parent":"D","next":["B"],"attributes":{"else":true}},` +
				`{"id":"B","type":"sms"}`,
			steps: []string{"D", "B"},
			edges: []string{`D -branch[Promoter|Y]-> ""`, `D -else[Else|N]-> "B"`},
			root:  "D",
		},
		{
			name:      "if/else with no next has every branch empty",
			templates: fmt.Sprintf(ifElse, `null`),
			steps:     []string{"D"},
			edges:     []string{`D -branch[Promoter|Y]-> ""`, `D -else[Else|]-> ""`},
			root:      "D",
		},
		{
			name: "if/else whose next names steps directly is read by position",
			templates: fmt.Sprintf(ifElse, `["A","B"]`) + `,` +
				`{"id":"A","type":"sms"},{"id":"B","type":"email"}`,
			steps: []string{"D", "A", "B"},
			edges: []string{`D -branch[Promoter|Y]-> "A"`, `D -else[Else|]-> "B"`},
			root:  "D",
		},
		{
			name: "older flat conditions form one branch",
			templates: `{"id":"D","type":"if_else","attributes":{"conditions":[{"operator":"==","field":"contact.budget","value":">20k"}]},"next":["A","B"]},` +
				`{"id":"A","type":"sms"},{"id":"B","type":"sms"}`,
			steps: []string{"D", "A", "B"},
			edges: []string{`D -branch[Yes|]-> "A"`, `D -else[None|]-> "B"`},
			root:  "D",
		},
		{
			name: "transition markers collapse into labelled edges",
			templates: `{"id":"F","type":"find_opportunity","cat":"multi-path","attributes":{"convertToMultipath":true,` +
				`"transitions":[{"id":"T1","name":"Opportunity Found"},{"id":"T2","name":"Opportunity Not Found"}]},"next":["T1","T2"]},` +
				`{"id":"T1","type":"transition","cat":"transition","parentKey":"F","attributes":{},"next":"U"},` +
				`{"id":"T2","type":"transition","cat":"transition","parentKey":"F","attributes":{}},` +
				`{"id":"U","type":"internal_update_opportunity","parentKey":"T1"}`,
			steps: []string{"F", "U"},
			edges: []string{`F -transition[Opportunity Found|T1]-> "U"`, `F -transition[Opportunity Not Found|T2]-> ""`},
			root:  "F",
		},
		{
			name: "workflow split paths",
			templates: `{"id":"S","type":"workflow_split","attributes":{"transitions":[{"id":"P1","name":"Path A"},{"id":"P2","name":"Path B"}]},"next":["P1","P2"]},` +
				`{"id":"P1","type":"transition","next":"A"},{"id":"P2","type":"transition","next":"B"},{"id":"A","type":"sms"},{"id":"B","type":"email"}`,
			steps: []string{"S", "A", "B"},
			edges: []string{`S -transition[Path A|P1]-> "A"`, `S -transition[Path B|P2]-> "B"`},
			root:  "S",
		},
		{
			name:      "a plain next to a marker follows it",
			templates: `{"id":"a","type":"sms","next":"T"},{"id":"T","type":"transition","next":"b"},{"id":"b","type":"sms"}`,
			steps:     []string{"a", "b"},
			edges:     []string{`a -next-> "b"`},
			root:      "a",
		},
		{
			name: "a marker pointed at from two steps is kept as a step",
			templates: `{"id":"a","type":"sms","next":"T"},{"id":"W","type":"wait","cat":"multi-path","attributes":{"type":"reply","transitions":[{"id":"T","name":"wait"}]},"next":["T"]},` +
				`{"id":"T","type":"transition","next":"b"},{"id":"b","type":"sms"}`,
			steps: []string{"a", "W", "T", "b"},
			edges: []string{`a -next-> "T"`, `W -next[wait|T]-> "T"`, `T -next-> "b"`},
			root:  "a",
		},
		{
			name:      "go-to by targetNodeId",
			templates: `{"id":"a","type":"sms","next":"w"},{"id":"w","type":"wait","attributes":{"type":"time","startAfter":{"type":"days","value":1}},"next":"g"},{"id":"g","type":"goto","attributes":{"targetNodeId":"a"}}`,
			steps:     []string{"a", "w", "g"},
			edges:     []string{`a -next-> "w"`, `w -next-> "g"`, `g -goto-> "a"`},
			root:      "a",
		},
		{
			name:      "go-to by targetId to a missing step",
			templates: `{"id":"a","type":"sms","next":"g"},{"id":"g","type":"goto","attributes":{"targetId":"gone"}}`,
			steps:     []string{"a", "g"},
			edges:     []string{`a -next-> "g"`, `g -goto-> "gone"`},
			root:      "a",
		},
		{
			name:      "out-of-order steps: edges decide the root",
			templates: `{"id":"c","type":"email","order":0},{"id":"b","type":"wait","order":1,"next":"c"},{"id":"a","type":"sms","order":2,"next":"b"}`,
			steps:     []string{"c", "b", "a"},
			edges:     []string{`b -next-> "c"`, `a -next-> "b"`},
			root:      "a",
		},
		{
			name: "a detached child is not taken as the root",
			templates: `{"id":"orphan","type":"sms","parentKey":"D-Promoter"},` + fmt.Sprintf(ifElse, `["Y"]`) + `,` +
				`{"id":"Y","type":"if_else","nodeType":"branch-yes","parent":"D","next":["A"],"attributes":{"if":false}},{"id":"A","type":"sms","parentKey":"D-Promoter"}`,
			steps: []string{"orphan", "D", "A"},
			edges: []string{`D -branch[Promoter|Y]-> "A"`},
			root:  "D",
		},
		{
			name:      "a parentKey naming nothing does not count as a parent",
			templates: `{"id":"a","type":"sms","parentKey":"deleted-step"},{"id":"b","type":"sms"}`,
			steps:     []string{"a", "b"},
			edges:     nil,
			root:      "a",
		},
		{
			name:      "a cycle with no entry starts at the first step",
			templates: `{"id":"a","type":"sms","next":"b"},{"id":"b","type":"sms","next":"a"}`,
			steps:     []string{"a", "b"},
			edges:     []string{`a -next-> "b"`, `b -next-> "a"`},
			root:      "a",
		},
		{
			name:      "an unreferenced branch node is kept as a step",
			templates: `{"id":"a","type":"sms"},{"id":"Y","type":"if_else","nodeType":"branch-yes","attributes":{"if":false},"next":["a"]}`,
			steps:     []string{"a", "Y"},
			edges:     []string{`Y -next-> "a"`},
			root:      "Y",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBuilderWorkflow(t, tt.templates, "")
			require.Equal(t, tt.steps, stepIDs(wf))
			want := tt.edges
			if want == nil {
				want = []string{}
			}
			require.Equal(t, want, edgeStrings(wf))
			require.Equal(t, tt.root, wf.Root)
		})
	}
}

func TestBuilderShape(t *testing.T) {
	wf := mustBuilderWorkflow(t,
		`{"id":"a","type":"sms","next":"b"},`+
			`{"id":"b","type":"sms","next":["c"]},`+
			`{"id":"c","type":"sms","next":[]},`+
			`{"id":"d","type":"if_else","nodeType":"condition-node","attributes":{"branches":[{"id":"y1","name":"A"},{"id":"y2","name":"B"}]},"next":"e"},`+
			`{"id":"e","type":"find_opportunity","cat":"multi-path","attributes":{"transitions":[{"id":"t1"},{"id":"t2"}]},"next":["t1"]},`+
			`{"id":"t1","type":"transition"},`+
			`{"id":"f","type":"email"}`, "")
	tests := []struct {
		step string
		want analyzer.EdgeShape
	}{
		{step: "a", want: analyzer.EdgeShape{Next: "scalar", Targets: 1, Router: false, Branches: -1}},
		{step: "b", want: analyzer.EdgeShape{Next: "array", Targets: 1, Router: false, Branches: -1}},
		{step: "c", want: analyzer.EdgeShape{Next: "empty", Targets: 0, Router: false, Branches: -1}},
		{step: "d", want: analyzer.EdgeShape{Next: "scalar", Targets: 1, Router: true, Branches: 2}},
		{step: "e", want: analyzer.EdgeShape{Next: "array", Targets: 1, Router: true, Branches: 2}},
		{step: "f", want: analyzer.EdgeShape{Next: "absent", Targets: 0, Router: false, Branches: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			s := mustStep(t, wf, tt.step)
			require.NotNil(t, s.Shape)
			require.Equal(t, tt.want, *s.Shape)
		})
	}
	// A scalar next on an if/else with two branches: the first branch gets it, the second is empty
	// and there is no None arm (the target count does not exceed the branches).
	require.Contains(t, edgeStrings(wf), `d -branch[A|y1]-> "e"`)
	require.Contains(t, edgeStrings(wf), `d -branch[B|y2]-> ""`)
	require.Contains(t, edgeStrings(wf), `e -transition[|t2]-> ""`, "a declared path missing from next is empty")
}

func TestBuilderWaits(t *testing.T) {
	multiWait := func(startAfter string, transitions, next, markers string) string {
		return `{"id":"a","type":"sms","next":"W"},{"id":"W","type":"wait","cat":"multi-path","attributes":{"type":"reply",` +
			`"startAfter":` + startAfter + `,"convertToMultipath":true,"isHybridAction":true,"hybridActionType":"wait",` +
			`"transitions":` + transitions + `},"next":` + next + `}` + markers +
			`,{"id":"r","type":"sms"},{"id":"t","type":"email"}`
	}
	twoExits := `[{"id":"T1","name":"wait","condition":"primary"},{"id":"T2","name":"timeout"}]`
	markers := `,{"id":"T1","type":"transition","cat":"transition","parentKey":"W","attributes":{"type":"wait_reply"},"next":"r"}` +
		`,{"id":"T2","type":"transition","cat":"transition","parentKey":"W","attributes":{"type":"wait_timeout"},"next":"t"}`
	tests := []struct {
		name      string
		templates string
		step      string
		want      analyzer.Wait
		edges     []string
	}{
		{
			name:      "reply wait with a timeout exit",
			templates: multiWait(`{"type":"hours","value":4,"when":"after"}`, twoExits, `["T1","T2"]`, markers),
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitReply, Timeout: &analyzer.Duration{Value: 4, Unit: "hours"}},
			edges:     []string{`a -next-> "W"`, `W -next[wait|T1]-> "r"`, `W -timeout[timeout|T2]-> "t"`},
		},
		{
			name:      "reply wait with an empty startAfter has no timeout",
			templates: multiWait(`{}`, twoExits, `["T1","T2"]`, markers),
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitReply},
			edges:     []string{`a -next-> "W"`, `W -next[wait|T1]-> "r"`, `W -timeout[timeout|T2]-> "t"`},
		},
		{
			name: "reply wait without a timeout exit has no timeout",
			templates: multiWait(`{"type":"days","value":2}`, `[{"id":"T1","name":"wait","condition":"primary"}]`, `["T1"]`,
				`,{"id":"T1","type":"transition","attributes":{"type":"wait_reply"},"next":"r"}`),
			step:  "W",
			want:  analyzer.Wait{Mode: analyzer.WaitReply},
			edges: []string{`a -next-> "W"`, `W -next[wait|T1]-> "r"`},
		},
		{
			name: "condition wait reads its tests like an if/else",
			templates: `{"id":"W","type":"wait","attributes":{"type":"condition","condition":{"branches":[{"segments":[{"conditions":[` +
				`{"conditionType":"contact_detail","conditionSubType":"tags","conditionOperator":"index-of-true","conditionValue":"paid"}]}]}]}}}`,
			step: "W",
			want: analyzer.Wait{Mode: analyzer.WaitCondition, Conditions: []analyzer.Clause{{Subject: "tag", Operator: "eq", Value: "paid"}}},
		},
		{
			name:      "time wait with a window",
			templates: `{"id":"W","type":"wait","attributes":{"type":"time","startAfter":{"type":"minute","value":30,"when":"after"},"window":{"condition":"when","days":[1,2,3],"start":"09:00","end":"17:00"}}}`,
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 30, Unit: "minutes"}, Window: &analyzer.TimeWindow{Days: []int{1, 2, 3}, Start: "09:00", End: "17:00"}},
		},
		{
			name:      "time wait with an empty startAfter does not pause",
			templates: `{"id":"W","type":"wait","attributes":{"type":"time","startAfter":{}}}`,
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitTime},
		},
		{
			name:      "time wait of zero is kept as zero",
			templates: `{"id":"W","type":"wait","attributes":{"type":"time","startAfter":{"type":"days","value":0}}}`,
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitTime, Duration: &analyzer.Duration{Value: 0, Unit: "days"}},
		},
		{
			name:      "appointment wait",
			templates: `{"id":"W","type":"wait","attributes":{"type":"appointment","appointmentStartAfter":{"when":"before","type":"hours","value":2},"appointmentCondition":"skip"}}`,
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitAppointment, Offset: &analyzer.Offset{When: "before", Minutes: 120}},
		},
		{
			name: "appointment wait after a set-event-start-date step is event time",
			templates: `{"id":"E","type":"event_start_date","next":"x"},{"id":"x","type":"sms","next":"W"},` +
				`{"id":"W","type":"wait","attributes":{"type":"appointment","appointmentStartAfter":{"when":"after","type":"minutes","value":15}}}`,
			step:  "W",
			want:  analyzer.Wait{Mode: analyzer.WaitEventTime, Offset: &analyzer.Offset{When: "after", Minutes: 15}},
			edges: []string{`E -next-> "x"`, `x -next-> "W"`},
		},
		{
			name: "appointment wait before the set-event-start-date step stays appointment",
			templates: `{"id":"W","type":"wait","attributes":{"type":"appointment","appointmentStartAfter":{"when":"before","type":"minutes","value":60}},"next":"E"},` +
				`{"id":"E","type":"event_start_date"}`,
			step:  "W",
			want:  analyzer.Wait{Mode: analyzer.WaitAppointment, Offset: &analyzer.Offset{When: "before", Minutes: 60}},
			edges: []string{`W -next-> "E"`},
		},
		{
			name:      "unknown wait type",
			templates: `{"id":"W","type":"wait","attributes":{"type":"lunar_phase"}}`,
			step:      "W",
			want:      analyzer.Wait{Mode: analyzer.WaitUnknown},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBuilderWorkflow(t, tt.templates, "")
			s := mustStep(t, wf, tt.step)
			require.Equal(t, analyzer.KindWait, s.Kind)
			require.Equal(t, tt.want, *s.Wait)
			if tt.edges != nil {
				require.Equal(t, tt.edges, edgeStrings(wf))
			}
		})
	}
}

func TestBuilderStepAttributes(t *testing.T) {
	tests := []struct {
		name     string
		template string
		check    func(t *testing.T, s *analyzer.Step)
	}{
		{
			name:     "workflow_id scalar",
			template: `{"id":"s","type":"add_to_workflow","attributes":{"workflow_id":"w2"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Enrollment{WorkflowIDs: []string{"w2"}}, s.Enrollment)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefWorkflow, ID: "w2"}}, s.Refs)
			},
		},
		{
			name:     "workflowId array",
			template: `{"id":"s","type":"add_to_workflow","attributes":{"workflowId":["w2","w3"]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []string{"w2", "w3"}, s.Enrollment.WorkflowIDs)
			},
		},
		{
			name:     "remove from workflow given a bare string",
			template: `{"id":"s","type":"remove_from_workflow","attributes":{"workflow_id":"w2"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindUnenroll, s.Kind)
				require.Equal(t, &analyzer.Enrollment{WorkflowIDs: []string{"w2"}, BareString: true}, s.Enrollment)
			},
		},
		{
			name:     "remove from workflow given an array",
			template: `{"id":"s","type":"remove_from_workflow","attributes":{"workflow_id":["w2"]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.False(t, s.Enrollment.BareString)
			},
		},
		{
			name:     "remove from all workflows",
			template: `{"id":"s","type":"remove_from_all_workflows","attributes":{"includeCurrent":false}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Enrollment{WorkflowIDs: []string{}, All: true}, s.Enrollment)
			},
		},
		{
			name:     "tags scalar",
			template: `{"id":"s","type":"add_contact_tag","attributes":{"tags":"vip"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []string{"vip"}, s.Tags)
			},
		},
		{
			name:     "tags array on remove",
			template: `{"id":"s","type":"remove_contact_tag","attributes":{"tags":["a","b"]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindTagRemove, s.Kind)
				require.Equal(t, []string{"a", "b"}, s.Tags)
			},
		},
		{
			name:     "fields array by id and key",
			template: `{"id":"s","type":"update_contact_field","attributes":{"fields":[{"field":"Yx3pL9qW2eR7tZ5vB1nM","value":9},{"field":"first_name","value":"Test","title":"First Name"}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.FieldWrite{{Field: "Yx3pL9qW2eR7tZ5vB1nM", Value: "9"}, {Field: "contact.first_name", Value: "Test"}}, s.Fields)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefCustomField, ID: "Yx3pL9qW2eR7tZ5vB1nM"}}, s.Refs)
			},
		},
		{
			name:     "fieldKey and fieldValue",
			template: `{"id":"s","type":"update_contact_field","attributes":{"fieldKey":"{{ contact.budget }}","fieldValue":">20k"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.FieldWrite{{Field: "contact.budget", Value: ">20k"}}, s.Fields)
				require.Nil(t, s.Refs, "a field referenced by key is not a reference by id")
			},
		},
		{
			name: "opportunity values from __customInputFields__",
			template: `{"id":"s","type":"internal_create_opportunity","attributes":{"pipelineId":"P1","__customInputFields__":[` +
				`{"filterField":"pipelineStageId","value":"S1"},{"filterField":"monetaryValue","value":2900},{"filterField":"status","value":"open"}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Opportunity{Op: "create", PipelineID: "P1", StageID: "S1", Status: "open"}, s.Opportunity)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefPipeline, ID: "P1"}, {Kind: analyzer.RefStage, ID: "S1", Parent: "P1"}}, s.Refs)
			},
		},
		{
			name:     "opportunity pipeline only inside __customInputFields__",
			template: `{"id":"s","type":"internal_update_opportunity","attributes":{"__customInputFields__":[{"filterField":"pipeline_id","value":"P2"}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Opportunity{Op: "update", PipelineID: "P2"}, s.Opportunity)
			},
		},
		{
			name:     "an operator in value: the id is read from secondValue",
			template: `{"id":"s","type":"find_opportunity","attributes":{"__customInputFields__":[{"filterField":"pipeline_id","value":"eq","secondValue":"P9"}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, "P9", s.Opportunity.PipelineID)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefPipeline, ID: "P9"}}, s.Refs)
				require.Empty(t, s.Unread)
			},
		},
		{
			name:     "a value that cannot be an id and no other key: unread, not a reference",
			template: `{"id":"s","type":"find_opportunity","attributes":{"__customInputFields__":[{"filterField":"pipeline_stage_id","value":"{{contact.stage}}"},{"filterField":"pipeline_id","value":""}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Empty(t, s.Opportunity.PipelineID)
				require.Empty(t, s.Refs)
				require.Equal(t, []analyzer.Unread{
					{Path: "attributes.__customInputFields__[0]", Key: "pipeline_stage_id"},
					{Path: "attributes.__customInputFields__[1]", Key: "pipeline_id"},
				}, s.Unread)
			},
		},
		{
			name:     "goal event in segments",
			template: `{"id":"s","type":"workflow_goal","attributes":{"segments":[{"conditions":[{"conditionType":"contact_tag","conditionSubType":"added","conditionValue":["won"]}]}]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Goal{Type: "contact_tag.added", Value: "won"}, s.Goal)
				require.Empty(t, s.Unread)
			},
		},
		{
			name:     "goal with nothing set",
			template: `{"id":"s","type":"workflow_goal","attributes":{"name":"Won"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Goal{}, s.Goal)
				require.Empty(t, s.Unread)
			},
		},
		{
			name:     "goal in a shape not read",
			template: `{"id":"s","type":"workflow_goal","attributes":{"goalGroups":[{"rules":[]}],"onMiss":"end"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.Unread{{Path: "attributes.goalGroups", Key: "goalGroups"}}, s.Unread)
			},
		},
		{
			name:     "create opportunity is the current action",
			template: `{"id":"s","type":"create_opportunity","attributes":{"pipelineId":"P1"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.False(t, s.Opportunity.Legacy)
				require.Equal(t, "create", s.Opportunity.Op)
			},
		},
		{
			name:     "the combined create-and-update opportunity is legacy",
			template: `{"id":"s","type":"create_update_opportunity","attributes":{"pipelineId":"P1"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.True(t, s.Opportunity.Legacy)
				require.Equal(t, "create_or_update", s.Opportunity.Op)
			},
		},
		{
			name:     "email keeps body apart from html",
			template: `{"id":"s","type":"email","attributes":{"subject":"Hi","body":"ignored by GHL","from_name":"Dana","templateId":"tpl1"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Message{Channel: analyzer.ChannelEmail, Subject: "Hi", Body: "ignored by GHL", FromName: "Dana", TemplateID: "tpl1"}, s.Message)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefTemplate, ID: "tpl1"}}, s.Refs)
			},
		},
		{
			name:     "social and review channels",
			template: `{"id":"s","type":"instagram-dm","attributes":{"body":"hi"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.ChannelSocial, s.Message.Channel)
			},
		},
		{
			name:     "manual sms is a task, not a message",
			template: `{"id":"s","type":"manual-sms","attributes":{"body":"call them"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindAction, s.Kind)
				require.Nil(t, s.Message)
			},
		},
		{
			name:     "assign user",
			template: `{"id":"s","type":"assign_user","attributes":{"user_list":["u1","u2"],"traffic_split":"equally","customUserList":"{{contact.owner}}"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Assign{UserIDs: []string{"u1", "u2"}, MergeField: "{{contact.owner}}"}, s.Assign)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefUser, ID: "u1"}, {Kind: analyzer.RefUser, ID: "u2"}}, s.Refs)
			},
		},
		{
			name:     "dnd action",
			template: `{"id":"s","type":"dnd_contact","attributes":{"dnd_contact":"enable","specific_channels":[]}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.DND{Enable: true}, s.DND)
			},
		},
		{
			name:     "custom webhook",
			template: `{"id":"s","type":"custom_webhook","attributes":{"method":"post","url":"https://x.example/h","headers":[{"key":"X-Key","value":"k"}],"body":{"rawData":"{\"a\":1}"}}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, &analyzer.Webhook{Method: "POST", URL: "https://x.example/h", Headers: []analyzer.Header{{Key: "X-Key", Value: "k"}}, Body: `{"a":1}`}, s.Webhook)
			},
		},
		{
			name:     "notification recipients",
			template: `{"id":"s","type":"internal_notification","attributes":{"type":"notification","notification":{"userType":"user","userIds":["u9"]}}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindNotification, s.Kind)
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefUser, ID: "u9"}}, s.Refs)
			},
		},
		{
			name:     "foreign location id",
			template: `{"id":"s","type":"custom_code","attributes":{"locationId":"OTHERLOC","calendarId":"{{custom_values.calendar}}"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, []analyzer.Ref{{Kind: analyzer.RefLocation, ID: "OTHERLOC"}}, s.Refs, "merge fields are not references")
			},
		},
		{
			name:     "own location id is not a reference",
			template: `{"id":"s","type":"custom_code","attributes":{"locationId":"L1"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Nil(t, s.Refs)
			},
		},
		{
			name:     "unknown step type is kept",
			template: `{"id":"s","type":"lc_linear_create_issue","name":"Linear","attributes":{"teamId":"ENG"}}`,
			check: func(t *testing.T, s *analyzer.Step) {
				require.Equal(t, analyzer.KindUnknown, s.Kind)
				require.Equal(t, "lc_linear_create_issue", s.Type)
				require.Equal(t, `{"id":"s","type":"lc_linear_create_issue","name":"Linear","attributes":{"teamId":"ENG"}}`, string(s.Raw))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBuilderWorkflow(t, tt.template, "")
			tt.check(t, mustStep(t, wf, "s"))
		})
	}
}

func TestBuilderConditionClauses(t *testing.T) {
	wf := mustBuilderWorkflow(t, `{"id":"D","type":"if_else","attributes":{"branches":[`+
		`{"id":"b1","name":"Tagged","segments":[{"conditions":[{"conditionType":"contact_detail","conditionSubType":"tags","conditionOperator":"index-of-true","conditionValue":["a","b"]}]}]},`+
		`{"id":"b2","name":"Field","segments":[{"conditions":[{"conditionType":"contact_detail","conditionSubType":"contact.budget","conditionOperator":"has_value"}]},`+
		`{"conditions":[{"conditionType":"appointment","conditionSubType":"appointmentRescheduled","conditionOperator":"is","conditionValue":"true"}]}]},`+
		`{"id":"b3","name":"Other","segments":[{"conditions":[{"conditionType":"opportunities","conditionSubType":"status","conditionOperator":"==","conditionValue":"won"},`+
		`{"conditionType":"contact_reply","conditionOperator":"is","conditionValue":true},{"conditionType":"in_workflow","conditionOperator":"is","conditionValue":"w9"},`+
		`{"conditionType":"lead_score","conditionOperator":">","conditionValue":10}]}]}]}}`, "")
	got := mustStep(t, wf, "D").Condition.Branches
	require.Equal(t, []analyzer.Branch{
		{ID: "b1", Name: "Tagged", Clauses: []analyzer.Clause{{Subject: "tag", Operator: "in", Value: "a,b"}}},
		{ID: "b2", Name: "Field", Clauses: []analyzer.Clause{
			{Subject: "contact.budget", Operator: "has_value"},
			{Subject: "appointment.appointmentRescheduled", Operator: "eq", Value: "true"},
		}},
		{ID: "b3", Name: "Other", Clauses: []analyzer.Clause{
			{Subject: "opportunity.status", Operator: "eq", Value: "won"},
			{Subject: "reply", Operator: "eq", Value: "true"},
			{Subject: "workflow", Operator: "eq", Value: "w9"},
			{Subject: "lead_score", Operator: "gt", Value: "10"},
		}},
	}, got)
	require.Equal(t, []string{`D -branch[Tagged|b1]-> ""`, `D -branch[Field|b2]-> ""`, `D -branch[Other|b3]-> ""`, `D -else[None|]-> ""`}, edgeStrings(wf))
}

func TestBuilderTriggers(t *testing.T) {
	tests := []struct {
		name    string
		trigger string
		want    analyzer.Trigger
	}{
		{
			name:    "tag added with several tags",
			trigger: `{"id":"t","type":"contact_tag","name":"Tag","active":true,"conditions":[{"operator":"index-of-true","field":"tagsAdded","value":["a","b"]}]}`,
			want:    analyzer.Trigger{ID: "t", Type: analyzer.TriggerContactTag, RawType: "contact_tag", Known: true, Name: "Tag", Active: true, Filters: []analyzer.Filter{{Field: "tag", Operator: "in", Values: []string{"a", "b"}}}},
		},
		{
			name:    "alias contact_tag_added with a scalar value",
			trigger: `{"type":"contact_tag_added","conditions":[{"operator":"index-of-true","field":"contact.tags","value":"vip"}]}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerContactTag, RawType: "contact_tag_added", Known: true, Active: true, Filters: []analyzer.Filter{{Field: "tag", Operator: "eq", Values: []string{"vip"}}}},
		},
		{
			name:    "appointment status and calendar",
			trigger: `{"type":"appointment","active":false,"conditions":[{"operator":"==","field":"appointment.status","value":"noshow"},{"field":"calendar.id","value":"cal1"},{"field":"appointment.eventType","value":"normal"}]}`,
			want: analyzer.Trigger{Type: analyzer.TriggerAppointment, RawType: "appointment", Known: true, Active: false, Filters: []analyzer.Filter{
				{Field: "appointment.status", Operator: "eq", Values: []string{"noshow"}},
				{Field: "calendar.id", Operator: "eq", Values: []string{"cal1"}},
				{Field: "appointment.eventType", Operator: "eq", Values: []string{"normal"}},
			}},
		},
		{
			name:    "contact changed watched field",
			trigger: `{"type":"contact_changed","conditions":[{"operator":"has-changed","field":"contact.email","title":"Email","type":"input"}]}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerContactChanged, RawType: "contact_changed", Known: true, Active: true, Filters: []analyzer.Filter{{Field: "contact.email", Operator: "has_changed", Values: []string{}}}},
		},
		{
			name:    "customer replied keywords",
			trigger: `{"type":"customer_reply","conditions":[{"operator":"string-contains-any-of","field":"message.body","value":["yes","stop"]}]}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerCustomerReply, RawType: "customer_reply", Known: true, Active: true, Filters: []analyzer.Filter{{Field: "message.body", Operator: "contains", Values: []string{"yes", "stop"}}}},
		},
		{
			name:    "entry step and numbers formatted",
			trigger: `{"type":"opportunity_status_changed","targetActionId":"s2","conditions":[{"field":"status","value":"won"},{"field":"monetaryValue","operator":">","value":1500.5}]}`,
			want: analyzer.Trigger{Type: analyzer.TriggerOpportunityStatus, RawType: "opportunity_status_changed", Known: true, Active: true, EntryStepID: "s2", Filters: []analyzer.Filter{
				{Field: "opportunity.status", Operator: "eq", Values: []string{"won"}},
				{Field: "monetaryValue", Operator: "gt", Values: []string{"1500.5"}},
			}},
		},
		{
			name:    "entity-prefixed filter fields",
			trigger: `{"type":"pipeline_stage_changed","conditions":[{"field":"opportunity.pipeline_stage_id","value":"s1"},{"field":"opportunity.pipelineId","value":"p1"},{"field":"opportunity.lead_score","operator":">","value":5}]}`,
			want: analyzer.Trigger{Type: analyzer.TriggerPipelineStage, RawType: "pipeline_stage_changed", Known: true, Active: true, Filters: []analyzer.Filter{
				{Field: "pipeline.stage.id", Operator: "eq", Values: []string{"s1"}},
				{Field: "pipeline.id", Operator: "eq", Values: []string{"p1"}},
				{Field: "opportunity.lead_score", Operator: "gt", Values: []string{"5"}},
			}},
		},
		{
			name:    "prefixed calendar, form and status; a contact field stays a contact field",
			trigger: `{"type":"appointment","conditions":[{"field":"appointment_calendar_id","value":"c1"},{"field":"appointment.status","value":"booked"},{"field":"contact.stage","value":"x"}]}`,
			want: analyzer.Trigger{Type: analyzer.TriggerAppointment, RawType: "appointment", Known: true, Active: true, Filters: []analyzer.Filter{
				{Field: "calendar.id", Operator: "eq", Values: []string{"c1"}},
				{Field: "appointment.status", Operator: "eq", Values: []string{"booked"}},
				{Field: "contact.stage", Operator: "eq", Values: []string{"x"}},
			}},
		},
		{
			name:    "a condition in a shape not read is unread, not absent",
			trigger: `{"type":"contact_tag","conditions":[{"operator":"and","title":"Group"},{"field":"tag","value":"vip"}]}`,
			want: analyzer.Trigger{Type: analyzer.TriggerContactTag, RawType: "contact_tag", Known: true, Active: true,
				Filters: []analyzer.Filter{{Field: "tag", Operator: "eq", Values: []string{"vip"}}},
				Unread:  []analyzer.Unread{{Path: "conditions[0]", Key: "conditions"}}},
		},
		{
			name:    "deprecated customer booked appointment",
			trigger: `{"type":"customer_booked_appointment"}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerCustomerAppointment, RawType: "customer_booked_appointment", Known: true, Active: true, Filters: []analyzer.Filter{}},
		},
		{
			name:    "invoice family",
			trigger: `{"type":"invoice_paid"}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerInvoice, RawType: "invoice_paid", Known: true, Active: true, Filters: []analyzer.Filter{}},
		},
		{
			name:    "known type with no special meaning",
			trigger: `{"type":"birthday_reminder"}`,
			want:    analyzer.Trigger{Type: "birthday_reminder", RawType: "birthday_reminder", Known: true, Active: true, Filters: []analyzer.Filter{}},
		},
		{
			name:    "unknown type kept",
			trigger: `{"type":"facebook_comment_on_post","conditions":[{"field":"post.id","operator":"==","value":"p1"}]}`,
			want:    analyzer.Trigger{Type: "facebook_comment_on_post", RawType: "facebook_comment_on_post", Known: false, Active: true, Filters: []analyzer.Filter{{Field: "post.id", Operator: "eq", Values: []string{"p1"}}}},
		},
		{
			name:    "missing type",
			trigger: `{"name":"???"}`,
			want:    analyzer.Trigger{Type: analyzer.TriggerUnknown, Known: false, Name: "???", Active: true, Filters: []analyzer.Filter{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := mustBuilderWorkflow(t, "", tt.trigger)
			require.Len(t, wf.Triggers, 1)
			require.Equal(t, tt.want, wf.Triggers[0])
		})
	}
}

func TestBuilderSettings(t *testing.T) {
	doc := func(workflow, source, triggers string) []byte {
		return []byte(`{"$schema":"ghl-workflow-export/v1","source":` + source + `,"workflow":` + workflow + `,"triggers":[` + triggers + `]}`)
	}
	tests := []struct {
		name  string
		input []byte
		check func(t *testing.T, wf *analyzer.Workflow)
	}{
		{
			name: "all the builder settings",
			input: doc(`{"_id":"w","locationId":"L1","status":"published","version":12,"allowMultiple":true,"allowMultipleOpportunity":true,`+
				`"stopOnResponse":true,"removeContactFromLastStep":true,"autoMarkAsRead":true,"timezone":"America/Denver"}`, `{"locationId":"L1"}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) {
				require.Equal(t, analyzer.Settings{AllowReEntry: true, AllowMultipleOpportunity: true, StopOnResponse: true,
					RemoveContactFromLastStep: true, AutoMarkAsRead: true, Timezone: "America/Denver"}, wf.Settings)
				require.Equal(t, 12, wf.Version)
				require.Equal(t, analyzer.StatusPublished, wf.Status)
			},
		},
		{
			name:  "re-entry from the trigger when the workflow does not say",
			input: doc(`{"_id":"w"}`, `{}`, `{"type":"contact_tag","allowMultiple":"yes"}`),
			check: func(t *testing.T, wf *analyzer.Workflow) {
				require.True(t, wf.Settings.AllowReEntry)
				require.Equal(t, analyzer.StatusDraft, wf.Status, "a missing status imports as draft")
			},
		},
		{
			name:  "snapshot origin is cloned",
			input: doc(`{"_id":"w","creationSource":"snapshot"}`, `{}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.True(t, wf.Settings.Cloned) },
		},
		{
			name:  "recipe origin is cloned",
			input: doc(`{"_id":"w","originType":"recipe"}`, `{}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.True(t, wf.Settings.Cloned) },
		},
		{
			name:  "a workflow of another location is cloned",
			input: doc(`{"_id":"w","locationId":"OTHER"}`, `{"locationId":"L1"}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) {
				require.True(t, wf.Settings.Cloned)
				require.Equal(t, "OTHER", wf.LocationID)
			},
		},
		{
			name:  "builder origin is not cloned",
			input: doc(`{"_id":"w","locationId":"L1","creationSource":"builder"}`, `{"locationId":"L1"}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.False(t, wf.Settings.Cloned) },
		},
		{
			name:  "workflow id from the source when the document has none",
			input: doc(`{"name":"No id"}`, `{"workflowId":"from-source"}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.Equal(t, "from-source", wf.ID) },
		},
		{
			name:  "generated workflow id",
			input: doc(`{"name":"No id"}`, `{}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.Equal(t, "workflow-1", wf.ID) },
		},
		{
			name:  "other status kept lower-cased",
			input: doc(`{"_id":"w","status":"Archived"}`, `{}`, ""),
			check: func(t *testing.T, wf *analyzer.Workflow) { require.Equal(t, "archived", wf.Status) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustParse(t, tt.input)
			tt.check(t, &res.Location.Workflows[0])
		})
	}
}

func TestBuilderRawIsCompact(t *testing.T) {
	a := mustBuilderWorkflow(t, "{ \"id\" : \"s\",\n \"type\": \"sms\", \"attributes\": {\"body\": \"<b>hi</b> & bye\"} }", "")
	b := mustBuilderWorkflow(t, `{"id":"s","type":"sms","attributes":{"body":"<b>hi</b> & bye"}}`, "")
	require.Equal(t, string(b.Steps[0].Raw), string(a.Steps[0].Raw), "identical content gives identical bytes")
	require.Equal(t, `{"id":"s","type":"sms","attributes":{"body":"\u003cb\u003ehi\u003c/b\u003e \u0026 bye"}}`, string(a.Steps[0].Raw))
	require.Equal(t, "<b>hi</b> & bye", a.Steps[0].Message.Body, "text fields are not escaped")
}
