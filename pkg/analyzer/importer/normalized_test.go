package importer_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

func TestNormalizedRoundTrip(t *testing.T) {
	src := mustParse(t, mustReadFile(t, "testdata/builder-bulk.json"))
	b, err := json.Marshal(src.Location)
	require.NoError(t, err)
	res := mustParse(t, b)
	require.Equal(t, importer.DialectNormalized, res.Dialect)
	require.Equal(t, src.Location, res.Location, "the normalized model reads back unchanged")
	require.Equal(t, importer.DialectBuilder, res.Location.Workflows[0].Dialect, "a workflow keeps the dialect it was first read from")
	require.Equal(t, analyzer.ContentHash(src.Location), analyzer.ContentHash(res.Location))

	one, err := json.Marshal(src.Location.Workflows[1])
	require.NoError(t, err)
	single := mustParse(t, one)
	require.Equal(t, importer.DialectNormalized, single.Dialect)
	require.False(t, single.Location.Complete)
	require.Equal(t, src.Location.Workflows[1], single.Location.Workflows[0])
	require.JSONEq(t, string(one), string(single.Raw[0]))
}

func TestNormalizedDefaults(t *testing.T) {
	res := mustParse(t, []byte(`{"id":"L9","complete":true,"context":{"tags":[],"users":null},"workflows":[
		{"id":"w","status":"published","steps":[{"id":"b","kind":"message","type":"sms","raw":{ "a" : 1 }},{"id":"a","kind":"wait","type":"wait"}],
		 "edges":[{"from":"a","to":"b","kind":"next"}],"triggers":[{"type":"contact_tag","filters":[{"field":"tag"}]}]}]}`))
	loc := res.Location
	require.Equal(t, "L9", loc.ID)
	require.True(t, loc.Complete)
	require.Equal(t, []string{}, loc.Context.Tags)
	require.Nil(t, loc.Context.Users, "null is unknown")
	wf := &loc.Workflows[0]
	require.Equal(t, importer.DialectNormalized, wf.Dialect)
	require.Equal(t, "a", wf.Root, "an absent root is computed from the edges")
	require.Equal(t, `{"a":1}`, string(wf.Steps[0].Raw))
	require.Equal(t, []analyzer.Filter{{Field: "tag", Values: []string{}}}, wf.Triggers[0].Filters)
}

func TestNormalizedValidation(t *testing.T) {
	wf := func(body string) string { return `{"workflows":[{"id":"w",` + body + `}]}` }
	tests := []struct {
		name     string
		input    string
		path     string
		contains string
	}{
		{name: "empty workflow id", input: `{"workflows":[{"id":"","steps":[],"edges":[]}]}`, path: "$.workflows[0].id", contains: "workflow id is empty"},
		{name: "duplicate workflow id", input: `{"workflows":[{"id":"w","edges":[]},{"id":"w","edges":[]}]}`, path: "$.workflows[1].id", contains: `duplicate workflow id "w"`},
		{name: "workflow not an object", input: `{"workflows":[{"id":"w","edges":[]},7]}`, path: "$.workflows[1]", contains: "expected a workflow object, got a number"},
		{name: "empty step id", input: wf(`"steps":[{"id":"","kind":"action"}],"edges":[]`), path: "$.workflows[0].steps[0].id", contains: "step id is empty"},
		{name: "duplicate step id", input: wf(`"steps":[{"id":"a","kind":"action"},{"id":"a","kind":"wait"}],"edges":[]`), path: "$.workflows[0].steps[1].id", contains: `duplicate step id "a" (first at $.workflows[0].steps[0])`},
		{name: "unknown step kind", input: wf(`"steps":[{"id":"a","kind":"teleport"}],"edges":[]`), path: "$.workflows[0].steps[0].kind", contains: `unknown step kind "teleport"`},
		{name: "missing step kind", input: wf(`"steps":[{"id":"a","kind":""}],"edges":[]`), path: "$.workflows[0].steps[0].kind", contains: `unknown step kind ""`},
		{name: "unknown edge kind", input: wf(`"steps":[{"id":"a","kind":"action"}],"edges":[{"from":"a","to":"a","kind":"jump"}]`), path: "$.workflows[0].edges[0].kind", contains: `unknown edge kind "jump"`},
		{name: "edge from a missing step", input: wf(`"steps":[{"id":"a","kind":"action"}],"edges":[{"from":"z","to":"a","kind":"next"}]`), path: "$.workflows[0].edges[0].from", contains: `no step "z"`},
		{name: "root naming no step", input: wf(`"steps":[{"id":"a","kind":"action"}],"edges":[],"root":"z"`), path: "$.workflows[0].root", contains: `no step "z"`},
		{name: "field of the wrong type", input: wf(`"steps":[{"id":"a","kind":"wait","wait":{"mode":"time","duration":{"value":"ten"}}}],"edges":[]`), path: "$.workflows[0].steps[0].wait.duration.value", contains: "expected float64, got string"},
		{name: "steps not an array", input: wf(`"steps":{},"edges":[]`), path: "$.workflows[0].steps", contains: "got object"},
		{name: "trigger of the wrong type", input: wf(`"steps":[],"edges":[],"triggers":[{"known":"yes"}]`), path: "$.workflows[0].triggers[0].known", contains: "expected bool"},
		{name: "context of the wrong type", input: `{"workflows":[{"id":"w","edges":[]}],"context":{"tags":"x"}}`, path: "$.context.tags", contains: "got string"},
		{name: "location id not a string", input: `{"id":5,"workflows":[{"id":"w","edges":[]}]}`, path: "$.id", contains: "expected a string, got a number"},
		{name: "complete not a boolean", input: `{"complete":"yes","workflows":[{"id":"w","edges":[]}]}`, path: "$.complete", contains: "expected bool"},
		{name: "single workflow with a bad edge", input: `{"id":"w","steps":[],"edges":[{"from":"a","kind":"next"}]}`, path: "$.edges[0].from", contains: `no step "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perr := mustParseError(t, []byte(tt.input))
			require.Equal(t, tt.path, perr.Path)
			require.Contains(t, perr.Message, tt.contains)
		})
	}
}
