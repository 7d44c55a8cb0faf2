package analyzer_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// loopWorkflow wraps steps and edges in a one-workflow location triggered by a tag.
func loopWorkflow(steps, edges string) string {
	return `{"complete": false, "workflows": [{"id": "w", "name": "W", "status": "published", "settings": {},
  "triggers": [{"type": "contact_tag", "known": true, "active": true, "filters": [{"field": "tag", "operator": "eq", "values": ["go"]}]}],
  "steps": [` + steps + `], "edges": [` + edges + `], "root": "s1"}]}`
}

func TestLoopRulesOnNestedLoops(t *testing.T) {
	// s1 waits a day, then if/else s2 either laps the inner loop s2 -> s3 -> s2 at once or goes back to
	// s1 through s4. The inner loop is tight (WD002 at its go-to); the outer one waits but nothing leaves
	// either loop (WD003 at the wait).
	steps := `
  {"id": "s1", "kind": "wait", "type": "wait", "name": "Wait a day", "wait": {"mode": "time", "duration": {"value": 1, "unit": "days"}}},
  {"id": "s2", "kind": "condition", "type": "if_else", "name": "Ready?", "condition": {"branches": [{"name": "Not yet", "clauses": []}]}},
  {"id": "s3", "kind": "goto", "type": "goto", "name": "Check again", "gotoTarget": "s2"},
  {"id": "s4", "kind": "goto", "type": "goto", "name": "Tomorrow", "gotoTarget": "s1"}`
	edges := `
  {"from": "s1", "to": "s2", "kind": "next"},
  {"from": "s2", "to": "s3", "kind": "branch", "label": "Not yet"},
  {"from": "s2", "to": "s4", "kind": "else"},
  {"from": "s3", "to": "s2", "kind": "goto"},
  {"from": "s4", "to": "s1", "kind": "goto"}`
	rep := mustAnalyzeJSON(t, loopWorkflow(steps, edges))

	tight := ruleResult(rep, "WD002").Findings
	require.Len(t, tight, 1)
	require.Equal(t, "s3", tight[0].StepID)
	require.Contains(t, tight[0].Message, `"Ready?", "Check again"`)
	require.NotContains(t, tight[0].Message, "Wait a day")

	stuck := ruleResult(rep, "WD003").Findings
	require.Len(t, stuck, 1)
	require.Equal(t, "s1", stuck[0].StepID)

	// With a "Later" branch taking the way back and an empty None branch leaving, the loops can be
	// left, but the inner one is still tight.
	rep = mustAnalyzeJSON(t, loopWorkflow(steps, `
  {"from": "s1", "to": "s2", "kind": "next"},
  {"from": "s2", "to": "s3", "kind": "branch", "label": "Not yet"},
  {"from": "s2", "to": "s4", "kind": "branch", "label": "Later"},
  {"from": "s2", "to": "", "kind": "else"},
  {"from": "s3", "to": "s2", "kind": "goto"},
  {"from": "s4", "to": "s1", "kind": "goto"}`))
	require.Len(t, ruleResult(rep, "WD002").Findings, 1)
	require.Empty(t, ruleResult(rep, "WD003").Findings)
}

func TestLoopExitByGoalOrRemoval(t *testing.T) {
	loop := `
  {"id": "s1", "kind": "wait", "type": "wait", "name": "Wait a day", "wait": {"mode": "time", "duration": {"value": 1, "unit": "days"}}},
  {"id": "s2", "kind": "goto", "type": "goto", "name": "Again", "gotoTarget": "s1"}`
	edges := `{"from": "s1", "to": "s2", "kind": "next"}, {"from": "s2", "to": "s1", "kind": "goto"}`
	tests := []struct {
		name  string
		extra string
		fires bool
	}{
		{name: "no exit", fires: true},
		{name: "a goal anywhere", extra: `, {"id": "g", "kind": "goal", "type": "workflow_goal", "goal": {"type": "tag_added", "value": "won"}}`},
		{name: "removal from this workflow is not on the loop", extra: `, {"id": "r", "kind": "unenroll", "type": "remove_from_workflow", "enrollment": {"workflowIds": ["w"]}}`,
			fires: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := mustAnalyzeJSON(t, loopWorkflow(loop+tt.extra, edges))
			require.Equal(t, tt.fires, len(ruleResult(rep, "WD003").Findings) > 0)
		})
	}
	t.Run("removal from this workflow on the loop", func(t *testing.T) {
		rep := mustAnalyzeJSON(t, loopWorkflow(`
  {"id": "s1", "kind": "wait", "type": "wait", "name": "Wait a day", "wait": {"mode": "time", "duration": {"value": 1, "unit": "days"}}},
  {"id": "s2", "kind": "unenroll", "type": "remove_from_workflow", "enrollment": {"workflowIds": ["w"]}},
  {"id": "s3", "kind": "goto", "type": "goto", "name": "Again", "gotoTarget": "s1"}`,
			`{"from": "s1", "to": "s2", "kind": "next"}, {"from": "s2", "to": "s3", "kind": "next"}, {"from": "s3", "to": "s1", "kind": "goto"}`))
		require.Empty(t, ruleResult(rep, "WD003").Findings)
	})
}

func TestWaitOrderIgnoresLoopBack(t *testing.T) {
	// A weekly reminder ladder: 1 day before, then 1 hour before, then back to the top for the next
	// appointment. The go-to closing the loop is not a path from "1 hour before" to "1 day before".
	steps := `
  {"id": "s1", "kind": "wait", "type": "wait", "name": "1 day before", "wait": {"mode": "appointment", "offset": {"when": "before", "minutes": 1440}}},
  {"id": "s2", "kind": "wait", "type": "wait", "name": "1 hour before", "wait": {"mode": "appointment", "offset": {"when": "before", "minutes": 60}}},
  {"id": "s3", "kind": "goto", "type": "goto", "name": "Next appointment", "gotoTarget": "s1"}`
	edges := `{"from": "s1", "to": "s2", "kind": "next"}, {"from": "s2", "to": "s3", "kind": "next"}, {"from": "s3", "to": "s1", "kind": "goto"}`
	require.Empty(t, ruleResult(mustAnalyzeJSON(t, loopWorkflow(steps, edges)), "WD011").Findings)
}
