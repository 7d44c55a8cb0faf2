package ghldebugger_test

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	ghldebugger "github.com/ghl-debugger/ghl-debugger"
	"github.com/ghl-debugger/ghl-debugger/gen"
)

// TestOpenAPIYAMLMatchesGen requires the embedded openapi.yaml to be the document gen/ was
// generated from, so /openapi.yaml and /openapi.json never describe different APIs. It fails when
// openapi.yaml changed and gen/ was not regenerated.
func TestOpenAPIYAMLMatchesGen(t *testing.T) {
	fromYAML, err := openapi3.NewLoader().LoadFromData(ghldebugger.OpenAPIYAML)
	require.NoError(t, err)
	fromGen, err := gen.GetSpec()
	require.NoError(t, err)
	want, got := mustJSON(t, fromGen), mustJSON(t, fromYAML)
	if want != got {
		// The documents are large: show where they part rather than both of them.
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		t.Fatalf("openapi.yaml and gen/ differ (gen/ is stale: run `go generate ./...`) from byte %d:\n gen/:         %s\n openapi.yaml: %s",
			i, excerpt(want, i), excerpt(got, i))
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	data, err := json.Marshal(v)
	require.NoError(tb, err)
	return string(data)
}

// excerpt returns s around offset i.
func excerpt(s string, i int) string {
	from, to := max(i-60, 0), min(i+60, len(s))
	return s[from:to]
}
