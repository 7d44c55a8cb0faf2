package importer_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer/importer"
)

// seedFiles are every input file the tests know: the builder fixtures, the samples (the policy file
// included, which must be refused cleanly) and the packs.
func seedFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	return append(append(files, mustSampleFiles(tb)...), filepath.Join(samplesDir, "audit-config.json"))
}

// checkFuzzed asserts what Parse guarantees for any input: a typed error naming a path, or a result
// that satisfies every invariant and is the same on a second parse.
func checkFuzzed(t *testing.T, data []byte) {
	res, err := importer.Parse(data, importer.Options{})
	if err != nil {
		var perr *importer.Error
		var lerr *importer.LimitError
		switch {
		case errors.As(err, &perr):
			require.True(t, strings.HasPrefix(perr.Path, "$"), "path %q", perr.Path)
			require.NotEmpty(t, perr.Message)
		case errors.As(err, &lerr):
			require.Greater(t, lerr.Got, lerr.Max)
		default:
			require.Failf(t, "untyped error", "%T: %v", err, err)
		}
		return
	}
	checkInvariants(t, res)
	again, err := importer.Parse(data, importer.Options{})
	require.NoError(t, err)
	require.Equal(t, res, again, "parsing is deterministic")
}

func FuzzParse(f *testing.F) {
	for _, path := range seedFiles(f) {
		f.Add(mustReadFile(f, path))
	}
	for _, s := range []string{
		`[]`, `{}`, `null`, `{"workflows":[]}`, `[{"workflowData":{"templates":[{"id":"a","next":["a"]}]}}]`,
		`{"id":"w","steps":[{"id":"a","kind":"goto","gotoTarget":"a"}],"edges":[{"from":"a","to":"a","kind":"goto"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkFuzzed)
}

// FuzzBuilderTemplates fuzzes a builder workflow's template list inside a valid envelope, so
// mutations exercise the graph reader rather than the JSON syntax.
func FuzzBuilderTemplates(f *testing.F) {
	for _, path := range []string{"testdata/builder-single.json", "testdata/builder-bulk.json", "testdata/builder-bare.json"} {
		for _, tpl := range templateLists(f, mustReadFile(f, path)) {
			f.Add(tpl)
		}
	}
	f.Add([]byte(`[{"id":"D","type":"if_else","next":["Y","N"],"attributes":{"branches":[{"id":"Y"}]}},{"id":"Y","type":"if_else","nodeType":"branch-yes","next":["N"]},{"id":"N","type":"if_else","nodeType":"branch-no","next":["Y"]}]`))
	f.Add([]byte(`[{"id":"W","type":"wait","next":["T"]},{"id":"T","type":"transition","next":"T"}]`))
	f.Fuzz(func(t *testing.T, templates []byte) {
		checkFuzzed(t, []byte(`{"$schema":"ghl-workflow-export/v1","source":{"locationId":"L"},"workflow":{"_id":"w","workflowData":{"templates":`+
			string(templates)+`}},"triggers":[{"type":"contact_tag","targetActionId":"a"}]}`))
	})
}

// FuzzBundleSteps fuzzes a bundle workflow's step list inside a valid bundle.
func FuzzBundleSteps(f *testing.F) {
	for _, path := range mustSampleFiles(f) {
		var doc struct {
			Workflows []struct {
				Steps json.RawMessage `json:"steps"`
			} `json:"workflows"`
		}
		require.NoError(f, json.Unmarshal(mustReadFile(f, path), &doc))
		for _, wf := range doc.Workflows {
			f.Add([]byte(wf.Steps))
		}
	}
	f.Add([]byte(`[{"id":"a","type":"sms","parentKey":"b"},{"id":"b","type":"if_else","parentKey":"a-yes","next":["x","a"]}]`))
	f.Fuzz(func(t *testing.T, steps []byte) {
		checkFuzzed(t, []byte(`{"workflows":[{"_id":"w","status":"published","steps":`+string(steps)+`}],"tags":[]}`))
	})
}

// templateLists extracts every workflowData.templates array of a builder fixture.
func templateLists(tb testing.TB, data []byte) [][]byte {
	tb.Helper()
	type wfDoc struct {
		WorkflowData struct {
			Templates json.RawMessage `json:"templates"`
		} `json:"workflowData"`
	}
	var doc struct {
		wfDoc
		Workflow  wfDoc `json:"workflow"`
		Workflows []struct {
			Workflow wfDoc `json:"workflow"`
		} `json:"workflows"`
	}
	require.NoError(tb, json.Unmarshal(data, &doc))
	var out [][]byte
	for _, d := range append([]wfDoc{doc.wfDoc, doc.Workflow}, func() []wfDoc {
		var ws []wfDoc
		for _, w := range doc.Workflows {
			ws = append(ws, w.Workflow)
		}
		return ws
	}()...) {
		if len(d.WorkflowData.Templates) > 0 {
			out = append(out, d.WorkflowData.Templates)
		}
	}
	require.NotEmpty(tb, out)
	return out
}
