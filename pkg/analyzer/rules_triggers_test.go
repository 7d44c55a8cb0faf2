package analyzer_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

func TestNeverStartsVariants(t *testing.T) {
	// Workflow "idle" has steps and no active trigger; "other" may add contacts to it.
	loc := `{"complete": %s, "workflows": [
  {"id": "idle", "name": "Idle", "status": "%s", "settings": {}, "triggers": [],
   "steps": [{"id": "i1", "kind": "message", "type": "sms", "message": {"channel": "sms", "body": "Hi"}}], "edges": [], "root": "i1"},
  {"id": "other", "name": "Other", "status": "%s", "settings": {}, "triggers": [],
   "steps": [{"id": "o1", "kind": "enroll", "type": "add_to_workflow", "enrollment": {"workflowIds": [%s]}}], "edges": [], "root": "o1"}
]}`
	tests := []struct {
		name, complete, status, otherStatus, target string
		want                                        outcome
	}{
		{name: "complete location, published", complete: "true", status: "published", otherStatus: "published", target: `"nobody"`,
			want: outcome{Severities: []string{analyzer.SeverityError}}},
		{name: "complete location, draft", complete: "true", status: "draft", otherStatus: "published", target: `"nobody"`,
			want: outcome{Severities: []string{analyzer.SeverityInfo}}},
		{name: "partial location is not assessed", complete: "false", status: "published", otherStatus: "published", target: `"nobody"`,
			want: outcome{NotAssessed: true}},
		{name: "partial location, but a visible workflow enrolls it", complete: "false", status: "published", otherStatus: "published",
			target: `"idle"`, want: outcome{}},
		{name: "enrolled only by a draft", complete: "true", status: "published", otherStatus: "draft", target: `"idle"`,
			want: outcome{Severities: []string{analyzer.SeverityError}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// "other" has no trigger either, so only idle's outcome is compared.
			got := mustOutcome(t, fmt.Sprintf(loc, tt.complete, tt.status, tt.otherStatus, tt.target), "WD012", "idle")
			require.Equal(t, tt.want, got)
		})
	}
}

func TestTriggerContextVariants(t *testing.T) {
	// One tag trigger; the location context and its tag list vary.
	loc := `{"complete": %s, %s "workflows": [
  {"id": "w", "name": "W", "status": "published", "settings": {},
   "triggers": [{"type": "contact_tag", "known": true, "active": true, "filters": [{"field": "tag", "operator": "eq", "values": ["vip"]}]}],
   "steps": [{"id": "s1", "kind": "message", "type": "sms", "message": {"channel": "sms", "body": "Hi"}}], "edges": [], "root": "s1"}
]}`
	tests := []struct {
		name, rule, complete, context string
		want                          outcome
	}{
		{name: "WD017 without context", rule: "WD017", complete: "true", context: ``, want: outcome{NotAssessed: true}},
		{name: "WD017 without a tag list", rule: "WD017", complete: "true", context: `"context": {"forms": []},`,
			want: outcome{NotAssessed: true}},
		{name: "WD017 with an empty tag list", rule: "WD017", complete: "true", context: `"context": {"tags": []},`,
			want: outcome{Severities: []string{analyzer.SeverityWarning}}},
		{name: "WD017 with the tag", rule: "WD017", complete: "true", context: `"context": {"tags": ["VIP"]},`, want: outcome{}},
		{name: "WD018 in a complete location", rule: "WD018", complete: "true", want: outcome{Severities: []string{analyzer.SeverityInfo}}},
		{name: "WD018 in a partial location", rule: "WD018", complete: "false", want: outcome{NotAssessed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, mustOutcome(t, fmt.Sprintf(loc, tt.complete, tt.context), tt.rule, ""))
		})
	}
}

func TestTriggerRulesWithoutReferences(t *testing.T) {
	// A workflow whose trigger names no location object has nothing for WD017 to check, context or not.
	loc := `{"complete": false, "workflows": [
  {"id": "w", "name": "W", "status": "published", "settings": {},
   "triggers": [{"type": "contact_created", "known": true, "active": true, "filters": []}],
   "steps": [{"id": "s1", "kind": "message", "type": "sms", "message": {"channel": "sms", "body": "Hi"}}], "edges": [], "root": "s1"}
]}`
	require.Equal(t, outcome{}, mustOutcome(t, loc, "WD017", ""))
	require.Equal(t, outcome{}, mustOutcome(t, loc, "WD018", ""))
}
