package analyzer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// mustAnalyzeJSON decodes a normalized-model location (rejecting unknown fields) and analyses it.
func mustAnalyzeJSON(tb testing.TB, location string) *analyzer.Report {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(location)))
	dec.DisallowUnknownFields()
	var loc analyzer.Location
	require.NoError(tb, dec.Decode(&loc))
	return analyzer.Analyze(&loc)
}

// outcome is what one rule concluded: the severity of each finding, in report order, and whether the
// rule was not assessed (for any workflow or the location).
type outcome struct {
	Severities  []string
	NotAssessed bool
}

// mustOutcome analyses location and returns what rule ruleID concluded about the workflow with id
// wfID, or about every workflow and the location when wfID is empty.
func mustOutcome(tb testing.TB, location, ruleID, wfID string) outcome {
	tb.Helper()
	res := ruleResult(mustAnalyzeJSON(tb, location), ruleID)
	var out outcome
	for _, f := range res.Findings {
		if wfID == "" || f.WorkflowID == wfID {
			out.Severities = append(out.Severities, f.Severity)
		}
	}
	for _, n := range res.NotAssessed {
		out.NotAssessed = out.NotAssessed || wfID == "" || n.WorkflowID == wfID
	}
	return out
}

// Two workflows that enroll each other through tags, with re-entry switched by the test.
const tagPingPong = `{"complete": %s, "workflows": [
  {"id": "a", "name": "A", "status": "published", "settings": {"allowReEntry": %s},
   "triggers": [{"type": "contact_tag", "known": true, "active": true, "filters": [{"field": "tag", "operator": "eq", "values": ["ping"]}]}],
   "steps": [{"id": "a1", "kind": "tag_add", "type": "add_contact_tag", "tags": ["pong"]}], "edges": [], "root": "a1"},
  {"id": "b", "name": "B", "status": "%s", "settings": {},
   "triggers": [{"type": "contact_tag", "known": true, "active": true, "filters": [{"field": "tag", "operator": "eq", "values": ["pong"]}]}],
   "steps": [{"id": "b1", "kind": "tag_add", "type": "add_contact_tag", "tags": ["ping"]}], "edges": [], "root": "b1"}
]}`

func TestEnrollmentCycleVariants(t *testing.T) {
	tests := []struct {
		name     string
		complete string
		reentry  string
		statusB  string
		want     outcome
	}{
		{name: "re-entry on is an error", complete: "true", reentry: "true", statusB: "published",
			want: outcome{Severities: []string{analyzer.SeverityError}}},
		{name: "no re-entry anywhere is a warning", complete: "true", reentry: "false", statusB: "published",
			want: outcome{Severities: []string{analyzer.SeverityWarning}}},
		{name: "a cycle seen in a partial location is still reported", complete: "false", reentry: "false", statusB: "published",
			want: outcome{Severities: []string{analyzer.SeverityWarning}}},
		{name: "a draft breaks the cycle", complete: "true", reentry: "true", statusB: "draft", want: outcome{}},
		{name: "no cycle in a partial location is not assessed", complete: "false", reentry: "true", statusB: "draft",
			want: outcome{NotAssessed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := fmt.Sprintf(tagPingPong, tt.complete, tt.reentry, tt.statusB)
			require.Equal(t, tt.want, mustOutcome(t, loc, "WD019", ""))
		})
	}
}

func TestOverlappingTriggerVariants(t *testing.T) {
	// Both workflows start on tag "ping" (A's trigger) only when B is changed to listen to it too.
	same := `{"complete": %s, "workflows": [
  {"id": "a", "name": "A", "status": "published", "settings": {},
   "triggers": [{"type": "contact_tag", "known": true, "active": true, "filters": [{"field": "tag", "operator": "eq", "values": ["ping"]}]}],
   "steps": [{"id": "a1", "kind": "message", "type": "sms", "message": {"channel": "sms", "body": "Hi"}}], "edges": [], "root": "a1"},
  {"id": "b", "name": "B", "status": "published", "settings": {},
   "triggers": [{"type": "contact_tag", "known": true, "active": %s, "filters": [{"field": "tag", "operator": "in", "values": ["PING"]}]}],
   "steps": [{"id": "b1", "kind": "tag_add", "type": "add_contact_tag", "tags": ["x"]}], "edges": [], "root": "b1"}
]}`
	tests := []struct {
		name     string
		complete string
		active   string
		want     outcome
	}{
		{name: "one sender is a warning", complete: "true", active: "true", want: outcome{Severities: []string{analyzer.SeverityWarning}}},
		{name: "an inactive trigger does not overlap", complete: "true", active: "false", want: outcome{}},
		{name: "no overlap in a partial location is not assessed", complete: "false", active: "false", want: outcome{NotAssessed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, mustOutcome(t, fmt.Sprintf(same, tt.complete, tt.active), "WD020", ""))
		})
	}
}
