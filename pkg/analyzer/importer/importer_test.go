package importer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// mustReadFile reads a test input.
func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	require.NoError(tb, err, "read %s", path)
	return b
}

// mustParse parses with the default limits, checks the result's invariants and returns it.
func mustParse(tb testing.TB, data []byte) *importer.Result {
	tb.Helper()
	res, err := importer.Parse(data, importer.Options{})
	require.NoError(tb, err)
	checkInvariants(tb, res)
	return res
}

// mustParseError parses and returns the *Error the input must produce.
func mustParseError(tb testing.TB, data []byte) *importer.Error {
	tb.Helper()
	_, err := importer.Parse(data, importer.Options{})
	require.Error(tb, err)
	var perr *importer.Error
	require.True(tb, errors.As(err, &perr), "want *importer.Error, got %T: %v", err, err)
	return perr
}

// mustWorkflow returns the workflow with id.
func mustWorkflow(tb testing.TB, loc *analyzer.Location, id string) *analyzer.Workflow {
	tb.Helper()
	for i := range loc.Workflows {
		if loc.Workflows[i].ID == id {
			return &loc.Workflows[i]
		}
	}
	require.FailNow(tb, "no workflow", "workflow %q not found", id)
	return nil
}

// mustStep returns the step with id.
func mustStep(tb testing.TB, wf *analyzer.Workflow, id string) *analyzer.Step {
	tb.Helper()
	for i := range wf.Steps {
		if wf.Steps[i].ID == id {
			return &wf.Steps[i]
		}
	}
	require.FailNow(tb, "no step", "step %q not found in %s", id, wf.ID)
	return nil
}

// edgeStrings renders edges as `from -kind[label|branchId]-> "to"`, in order.
func edgeStrings(wf *analyzer.Workflow) []string {
	out := make([]string, 0, len(wf.Edges))
	for _, e := range wf.Edges {
		s := e.From + " -" + e.Kind
		if e.Label != "" || e.BranchID != "" {
			s += "[" + e.Label + "|" + e.BranchID + "]"
		}
		out = append(out, s+"-> "+strconv.Quote(e.To))
	}
	return out
}

// stepIDs lists a workflow's step ids in order.
func stepIDs(wf *analyzer.Workflow) []string {
	out := make([]string, 0, len(wf.Steps))
	for _, s := range wf.Steps {
		out = append(out, s.ID)
	}
	return out
}

// checkInvariants asserts what every import guarantees: one raw document per workflow, unique
// non-empty ids, known kinds, edges that leave existing steps, a root that names a step, compact raw
// bytes, filter values that are lists, and a model that reads back through the normalized dialect to
// the same value.
func checkInvariants(tb testing.TB, res *importer.Result) {
	tb.Helper()
	require.NotNil(tb, res.Location)
	loc := res.Location
	require.NotNil(tb, loc.Workflows)
	require.Len(tb, res.Raw, len(loc.Workflows))
	for _, raw := range res.Raw {
		requireCompact(tb, raw)
	}
	wfIDs := map[string]bool{}
	for _, wf := range loc.Workflows {
		require.NotEmpty(tb, wf.ID)
		require.False(tb, wfIDs[wf.ID], "duplicate workflow id %q", wf.ID)
		wfIDs[wf.ID] = true
		require.NotNil(tb, wf.Triggers)
		require.NotNil(tb, wf.Steps)
		require.NotNil(tb, wf.Edges)
		steps := map[string]bool{}
		for _, s := range wf.Steps {
			require.NotEmpty(tb, s.ID)
			require.False(tb, steps[s.ID], "duplicate step id %q in %s", s.ID, wf.ID)
			steps[s.ID] = true
			require.Contains(tb, analyzer.StepKinds, s.Kind, "step %s", s.ID)
			if len(s.Raw) > 0 {
				requireCompact(tb, s.Raw)
			}
		}
		for _, e := range wf.Edges {
			require.Contains(tb, analyzer.EdgeKinds, e.Kind, "edge kind")
			require.True(tb, steps[e.From], "edge from unknown step %q", e.From)
		}
		if len(wf.Steps) == 0 {
			require.Empty(tb, wf.Root)
		} else {
			require.True(tb, steps[wf.Root], "root %q is not a step of %s", wf.Root, wf.ID)
		}
		for _, t := range wf.Triggers {
			require.NotNil(tb, t.Filters)
			for _, f := range t.Filters {
				require.NotNil(tb, f.Values)
			}
		}
	}
	if len(loc.Workflows) == 0 {
		return
	}
	// The normalized model is an input dialect too: what the importer produces must read back
	// unchanged. It nests each step's raw document up to four levels deeper than a bare builder
	// document or a single bundle workflow did, so the depth limit is raised by that much.
	b, err := json.Marshal(loc)
	require.NoError(tb, err)
	again, err := importer.Parse(b, importer.Options{MaxDepth: importer.DefaultMaxDepth + 4})
	require.NoError(tb, err, "the normalized output does not read back")
	require.Equal(tb, importer.DialectNormalized, again.Dialect)
	require.Equal(tb, loc, again.Location)
}

func requireCompact(tb testing.TB, raw json.RawMessage) {
	tb.Helper()
	var buf bytes.Buffer
	require.NoError(tb, json.Compact(&buf, raw))
	require.Equal(tb, buf.String(), string(raw), "raw bytes are not compact")
}

func TestParseErrors(t *testing.T) {
	single := func(templates string) string {
		return `{"$schema":"ghl-workflow-export/v1","source":{"locationId":"L1","workflowId":"w1"},` +
			`"workflow":{"_id":"w1","workflowData":{"templates":[` + templates + `]}},"triggers":[]}`
	}
	tests := []struct {
		name     string
		input    string
		path     string
		contains string
	}{
		{name: "empty input", input: "  \n", path: "$", contains: "empty input"},
		{name: "malformed JSON names line and column", input: "{\n  \"workflows\": [\n    {\"a\": }\n  ]\n}", path: "$", contains: "line 3, column 11"},
		{name: "truncated JSON", input: `{"workflows": [`, path: "$", contains: "line 1"},
		{name: "trailing data", input: `{} {}`, path: "$", contains: "invalid JSON"},
		{name: "top-level scalar", input: `"hello"`, path: "$", contains: "expected a JSON object or array, got a string"},
		{name: "unknown dialect", input: `{"owned_domains": ["example.com"]}`, path: "$", contains: "unknown input dialect"},
		{name: "unsupported schema", input: `{"$schema":"something-else/v2","workflow":{}}`, path: "$.$schema", contains: "unsupported schema"},
		{name: "envelope without workflow", input: `{"$schema":"ghl-workflow-export/v1"}`, path: "$", contains: "needs \"workflow\""},
		{name: "workflow not an object", input: `{"$schema":"ghl-workflow-export/v1","workflow":[1]}`, path: "$.workflow", contains: "expected a workflow object, got an array"},
		{name: "workflowData not an object", input: `{"workflowData":"x"}`, path: "$.workflowData", contains: "expected an object, got a string"},
		{name: "templates not an array", input: `{"workflowData":{"templates":{}}}`, path: "$.workflowData.templates", contains: "expected an array, got an object"},
		{name: "step not an object", input: single(`"sms"`), path: "$.workflow.workflowData.templates[0]", contains: "expected a step object, got a string"},
		{name: "step without id", input: single(`{"id":"a","type":"sms"},{"type":"sms","name":"no id"}`), path: "$.workflow.workflowData.templates[1].id", contains: "step has no id"},
		{name: "step id not a string", input: single(`{"id":7,"type":"sms"}`), path: "$.workflow.workflowData.templates[0].id", contains: "expected a string step id, got a number"},
		{name: "step id empty", input: single(`{"id":" ","type":"sms"}`), path: "$.workflow.workflowData.templates[0].id", contains: "step id is empty"},
		{name: "duplicate step ids", input: single(`{"id":"a","type":"sms"},{"id":"b","type":"sms"},{"id":"a","type":"email"}`), path: "$.workflow.workflowData.templates[2].id", contains: `duplicate step id "a" (first at $.workflow.workflowData.templates[0])`},
		{name: "next of a wrong type", input: single(`{"id":"a","type":"sms","next":42}`), path: "$.workflow.workflowData.templates[0].next", contains: "expected a step id or an array of step ids, got a number"},
		{name: "next array holding an object", input: single(`{"id":"a","type":"if_else","next":["b",{"id":"c"}]}`), path: "$.workflow.workflowData.templates[0].next[1]", contains: "expected a step id string, got an object"},
		{name: "triggers not an array", input: `{"$schema":"ghl-workflow-export/v1","workflow":{"_id":"w"},"triggers":{"type":"x"}}`, path: "$.triggers", contains: "expected an array, got an object"},
		{name: "trigger not an object", input: `{"$schema":"ghl-workflow-export/v1","workflow":{"_id":"w"},"triggers":["contact_tag"]}`, path: "$.triggers[0]", contains: "expected a trigger object, got a string"},
		{name: "context not an object", input: `{"$schema":"ghl-workflow-export/v1","workflows":[],"context":[]}`, path: "$.context", contains: "expected an object, got an array"},
		{name: "context key of the wrong type", input: `{"$schema":"ghl-workflow-export/v1","workflows":[],"context":{"users":"dana"}}`, path: "$.context.users", contains: "expected an array, got a string"},
		{name: "bulk entry not an object", input: `{"$schema":"ghl-workflow-export/v1","workflows":[7]}`, path: "$.workflows[0]", contains: "expected an object, got a number"},
		{name: "bulk entry without workflow", input: `{"$schema":"ghl-workflow-export/v1","workflows":[{"source":{}}]}`, path: "$.workflows[0]", contains: "expected {\"source\", \"workflow\", \"triggers\"}"},
		{name: "duplicate builder workflow ids", input: `{"$schema":"ghl-workflow-export/v1","workflows":[{"workflow":{"_id":"w"}},{"workflow":{"_id":"w"}}]}`, path: "$.workflows[1].workflow._id", contains: `duplicate workflow id "w" (first at $.workflows[0].workflow)`},
		{name: "array element not an export", input: `[{"workflowData":{}}, {"steps":[]}]`, path: "$[1]", contains: "expected a GHL workflow export"},
		{name: "array element not an object", input: `[{"workflowData":{}}, 3]`, path: "$[1]", contains: "got a number"},
		{name: "bundle workflows not an array", input: `{"workflows":{"a":1}}`, path: "$.workflows", contains: "expected an array, got an object"},
		{name: "bundle workflow not an object", input: `{"workflows":[null]}`, path: "$.workflows[0]", contains: "expected a workflow object, got null"},
		{name: "bundle step not an object", input: `{"workflows":[{"_id":"w","steps":[{"type":"sms"},[]]}]}`, path: "$.workflows[0].steps[1]", contains: "expected a step object, got an array"},
		{name: "bundle duplicate step ids", input: `{"workflows":[{"_id":"w","steps":[{"id":"s","type":"sms"},{"id":"s","type":"email"}]}]}`, path: "$.workflows[0].steps[1].id", contains: `duplicate step id "s" (first at $.workflows[0].steps[0])`},
		{name: "bundle step id not a string", input: `{"workflows":[{"_id":"w","steps":[{"id":true,"type":"sms"}]}]}`, path: "$.workflows[0].steps[0].id", contains: "expected a non-empty string step id, got a boolean"},
		{name: "bundle next of a wrong type", input: `{"workflows":[{"_id":"w","steps":[{"id":"s","type":"sms","next":{"id":"t"}}]}]}`, path: "$.workflows[0].steps[0].next", contains: "got an object"},
		{name: "bundle inline action not an object", input: `{"workflows":[{"_id":"w","steps":[{"type":"if_else","meta":{"branches":[{"name":"A","actions":["sms"]}]}}]}]}`, path: "$.workflows[0].steps[0].meta.branches[0].actions[0]", contains: "expected a step object, got a string"},
		{name: "bundle duplicate workflow ids", input: `{"workflows":[{"_id":"w","steps":[]},{"_id":"w","steps":[]}]}`, path: "$.workflows[1]._id", contains: `duplicate workflow id "w" (first at $.workflows[0])`},
		{name: "bundle context key of the wrong type", input: `{"workflows":[],"customValues":"x"}`, path: "$.customValues", contains: "expected an array or an object, got a string"},
		{name: "bundle sms compliance of the wrong type", input: `{"workflows":[],"smsCompliance":[true]}`, path: "$.smsCompliance", contains: "expected an object, got an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perr := mustParseError(t, []byte(tt.input))
			require.Equal(t, tt.path, perr.Path)
			require.Contains(t, perr.Message, tt.contains)
			require.Equal(t, perr.Path+": "+perr.Message, perr.Error())
		})
	}
}

func TestParseByteOrderMark(t *testing.T) {
	res := mustParse(t, append([]byte{0xEF, 0xBB, 0xBF}, `{"workflows":[{"_id":"w","steps":[]}]}`...))
	require.Equal(t, importer.DialectBundle, res.Dialect)
	perr := mustParseError(t, append([]byte{0xEF, 0xBB, 0xBF}, `{"a" 1}`...))
	require.Contains(t, perr.Message, "line 1, column 6", "the mark is not a column")
}

func TestLimits(t *testing.T) {
	nested := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	bundle := func(workflows, steps int) string {
		var wfs []string
		for i := 0; i < workflows; i++ {
			var st []string
			for j := 0; j < steps; j++ {
				st = append(st, `{"type":"sms"}`)
			}
			wfs = append(wfs, fmt.Sprintf(`{"_id":"w%d","steps":[%s]}`, i, strings.Join(st, ",")))
		}
		return `{"workflows":[` + strings.Join(wfs, ",") + `]}`
	}
	inline := `{"workflows":[{"_id":"w","steps":[{"type":"if_else","meta":{"branches":[{"name":"A","actions":[{"type":"sms"},{"type":"sms"}]}]}}]}]}`
	templates := `{"$schema":"ghl-workflow-export/v1","workflow":{"_id":"w","workflowData":{"templates":[{"id":"a"},{"id":"b"},{"id":"c"}]}}}`
	tests := []struct {
		name  string
		input string
		opts  importer.Options
		want  importer.LimitError
	}{
		{name: "depth over the default", input: nested, want: importer.LimitError{Limit: importer.LimitDepth, Max: 64, Got: 65}},
		{name: "depth over a custom limit", input: `{"workflows":[{"steps":[]}]}`, opts: importer.Options{MaxDepth: 3}, want: importer.LimitError{Limit: importer.LimitDepth, Max: 3, Got: 4}},
		{name: "workflows in a bundle", input: bundle(3, 0), opts: importer.Options{MaxWorkflows: 2}, want: importer.LimitError{Limit: importer.LimitWorkflows, Max: 2, Got: 3}},
		{name: "workflows across an array", input: `[{"workflowData":{}},{"workflowData":{}},{"workflowData":{}}]`, opts: importer.Options{MaxWorkflows: 2}, want: importer.LimitError{Limit: importer.LimitWorkflows, Max: 2, Got: 3}},
		{name: "steps in a bundle workflow", input: bundle(1, 4), opts: importer.Options{MaxStepsPerWorkflow: 3}, want: importer.LimitError{Limit: importer.LimitSteps, Max: 3, Got: 4}},
		{name: "inline actions count as steps", input: inline, opts: importer.Options{MaxStepsPerWorkflow: 2}, want: importer.LimitError{Limit: importer.LimitSteps, Max: 2, Got: 3}},
		{name: "builder templates", input: templates, opts: importer.Options{MaxStepsPerWorkflow: 2}, want: importer.LimitError{Limit: importer.LimitSteps, Max: 2, Got: 3}},
		{name: "normalized steps", input: `{"id":"w","steps":[{"id":"a","kind":"action"},{"id":"b","kind":"action"}],"edges":[]}`, opts: importer.Options{MaxStepsPerWorkflow: 1}, want: importer.LimitError{Limit: importer.LimitSteps, Max: 1, Got: 2}},
		{name: "context of a bundle", input: `{"tags":["a","b"],"calendars":[{"id":"c1"},{"id":"c2"}],"workflows":[]}`, opts: importer.Options{MaxContextObjects: 3},
			want: importer.LimitError{Limit: importer.LimitContext, Max: 3, Got: 4, Path: "$.calendars"}},
		{name: "custom values by name in a bundle", input: `{"tags":["a"],"customValues":{"Link":"x","Phone":"y"},"workflows":[]}`, opts: importer.Options{MaxContextObjects: 2},
			want: importer.LimitError{Limit: importer.LimitContext, Max: 2, Got: 3, Path: "$.customValues"}},
		{name: "stages count", input: `{"pipelines":[{"id":"p","stages":[{"id":"s1"},{"id":"s2"}]}],"workflows":[]}`, opts: importer.Options{MaxContextObjects: 2},
			want: importer.LimitError{Limit: importer.LimitContext, Max: 2, Got: 3, Path: "$.pipelines[0].stages"}},
		{name: "context of a builder envelope", input: `{"$schema":"ghl-workflow-export/v1","context":{"forms":{"f1":"A","f2":"B"}},"workflow":{"_id":"w","workflowData":{"templates":[]}}}`,
			opts: importer.Options{MaxContextObjects: 1}, want: importer.LimitError{Limit: importer.LimitContext, Max: 1, Got: 2, Path: "$.context.forms"}},
		{name: "contexts across an array add up", input: `[{"context":{"tags":["a","b"]},"workflowData":{}},{"context":{"tags":["c","d"]},"workflowData":{}}]`,
			opts: importer.Options{MaxContextObjects: 3}, want: importer.LimitError{Limit: importer.LimitContext, Max: 3, Got: 4, Path: "$[1].context.tags"}},
		{name: "context of a normalized location", input: `{"context":{"tags":[],"users":[{"id":"u1"},{"id":"u2"}]},"workflows":[{"id":"w","steps":[],"edges":[]}]}`,
			opts: importer.Options{MaxContextObjects: 1}, want: importer.LimitError{Limit: importer.LimitContext, Max: 1, Got: 2, Path: "$.context.users"}},
		{name: "context over the default", input: `{"tags":[` + strings.Repeat(`"t",`, importer.DefaultMaxContextObjects) + `"t"],"workflows":[]}`,
			want: importer.LimitError{Limit: importer.LimitContext, Max: importer.DefaultMaxContextObjects, Got: importer.DefaultMaxContextObjects + 1, Path: "$.tags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Parse([]byte(tt.input), tt.opts)
			var lerr *importer.LimitError
			require.True(t, errors.As(err, &lerr), "want *LimitError, got %T: %v", err, err)
			require.Equal(t, tt.want, *lerr)
			require.Contains(t, lerr.Error(), tt.want.Limit)
		})
	}
	// At the limit is accepted.
	_, err := importer.Parse([]byte(bundle(2, 3)), importer.Options{MaxWorkflows: 2, MaxStepsPerWorkflow: 3})
	require.NoError(t, err)
	_, err = importer.Parse([]byte(`{"tags":["a","b"],"pipelines":[{"id":"p","stages":[{"id":"s"}]}],"workflows":[]}`), importer.Options{MaxContextObjects: 4})
	require.NoError(t, err, "a context of exactly the limit is accepted")
	_, err = importer.Parse([]byte(strings.Repeat("[", 64)+strings.Repeat("]", 64)), importer.Options{})
	require.Error(t, err, "an array of arrays is not an export")
	var lerr *importer.LimitError
	require.False(t, errors.As(err, &lerr), "64 levels are within the default depth")
}

func TestDefaultOptions(t *testing.T) {
	require.Equal(t, importer.Options{MaxWorkflows: 1000, MaxStepsPerWorkflow: 10000, MaxDepth: 64, MaxContextObjects: 100000}, importer.DefaultOptions())
}

func TestDetection(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		dialect  string
		complete bool
	}{
		{name: "single envelope", input: `{"$schema":"ghl-workflow-export/v1","workflow":{"_id":"w"}}`, dialect: importer.DialectBuilder},
		{name: "envelope without schema", input: `{"workflow":{"_id":"w"},"triggers":[]}`, dialect: importer.DialectBuilder},
		{name: "bulk envelope", input: `{"$schema":"ghl-workflow-export/v1","workflows":[{"workflow":{"_id":"w"}}]}`, dialect: importer.DialectBuilder, complete: true},
		{name: "bulk without schema", input: `{"workflows":[{"source":{},"workflow":{"_id":"w"}}]}`, dialect: importer.DialectBuilder, complete: true},
		{name: "bare document", input: `{"_id":"w","workflowData":{"templates":[]}}`, dialect: importer.DialectBuilder},
		{name: "array", input: `[{"_id":"w","workflowData":{}}]`, dialect: importer.DialectBuilder},
		{name: "array with a bulk export", input: `[{"_id":"w","workflowData":{}},{"workflows":[{"workflow":{"_id":"v"}}]}]`, dialect: importer.DialectBuilder, complete: true},
		{name: "bundle", input: `{"workflows":[{"_id":"w","steps":[{"type":"sms"}]}]}`, dialect: importer.DialectBundle, complete: true},
		{name: "bundle with no steps", input: `{"workflows":[{"_id":"w"}]}`, dialect: importer.DialectBundle, complete: true},
		{name: "single bundle workflow", input: `{"_id":"w","steps":[{"type":"sms"}]}`, dialect: importer.DialectBundle},
		{name: "normalized location by edges", input: `{"workflows":[{"id":"w","steps":[],"edges":[]}],"complete":true}`, dialect: importer.DialectNormalized, complete: true},
		{name: "normalized location by kind", input: `{"workflows":[{"id":"w","steps":[{"id":"a","kind":"action","type":"x"}]}]}`, dialect: importer.DialectNormalized},
		{name: "normalized workflow", input: `{"id":"w","steps":[{"id":"a","kind":"message","type":"sms"}],"edges":[]}`, dialect: importer.DialectNormalized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustParse(t, []byte(tt.input))
			require.Equal(t, tt.dialect, res.Dialect)
			require.Equal(t, tt.complete, res.Location.Complete)
			for _, wf := range res.Location.Workflows {
				require.Equal(t, tt.dialect, wf.Dialect)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	a := mustParse(t, []byte(`{"$schema":"ghl-workflow-export/v1","source":{"locationId":"L1"},"workflow":{"_id":"a"}}`))
	b := mustParse(t, []byte(`{"workflows":[{"_id":"b","steps":[]}],"tags":["x"],"users":[]}`))
	c := mustParse(t, []byte(`{"$schema":"ghl-workflow-export/v1","workflows":[{"workflow":{"_id":"c"}}],"context":{"locationId":"L2","tags":["y"],"calendars":[{"id":"cal"}]}}`))

	m := importer.Merge(a, nil, b, c)
	require.Equal(t, importer.DialectMixed, m.Dialect)
	require.Equal(t, "L1", m.Location.ID, "the first location id wins")
	require.True(t, m.Location.Complete, "complete when any input is")
	require.Equal(t, []string{"a", "b", "c"}, []string{m.Location.Workflows[0].ID, m.Location.Workflows[1].ID, m.Location.Workflows[2].ID})
	require.Len(t, m.Raw, 3)
	require.Equal(t, []string{"x"}, m.Location.Context.Tags, "the first known value of a key wins")
	require.Equal(t, []analyzer.Object{}, m.Location.Context.Users, "an empty list is known: the location has none")
	require.Equal(t, []analyzer.Object{{ID: "cal"}}, m.Location.Context.Calendars)
	require.Nil(t, m.Location.Context.Forms, "a key no input knows stays unknown")
	require.Equal(t, []string{"x"}, b.Location.Context.Tags, "Merge does not modify its inputs")
	require.Nil(t, b.Location.Context.Calendars, "Merge does not modify its inputs")

	same := importer.Merge(b, b)
	require.Equal(t, importer.DialectBundle, same.Dialect)

	empty := importer.Merge()
	require.NotNil(t, empty.Location)
	require.Equal(t, []analyzer.Workflow{}, empty.Location.Workflows)
	require.Nil(t, empty.Location.Context)
	require.False(t, empty.Location.Complete)
}

func TestDeterministic(t *testing.T) {
	for _, path := range []string{"testdata/builder-bulk.json", samplesDir + "/broken-account.json"} {
		t.Run(path, func(t *testing.T) {
			data := mustReadFile(t, path)
			first, err := json.Marshal(mustParse(t, data).Location)
			require.NoError(t, err)
			for range 3 {
				again, err := json.Marshal(mustParse(t, data).Location)
				require.NoError(t, err)
				require.Equal(t, string(first), string(again))
			}
			require.Equal(t, analyzer.ContentHash(mustParse(t, data).Location), analyzer.ContentHash(mustParse(t, data).Location))
		})
	}
}
