package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/analyzer"
)

// TestSpec holds openapi.yaml (as embedded in gen) to the project's rules: a valid document whose
// examples match their schemas, and operations that are fully documented, list every error they
// can give and refuse unknown body fields.
func TestSpec(t *testing.T) {
	spec, err := gen.GetSpec()
	require.NoError(t, err)
	require.NoError(t, spec.Validate(context.Background(), openapi3.EnableExamplesValidation()))
	require.NotEmpty(t, spec.Info.Version)

	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			t.Run(method+" "+path, func(t *testing.T) {
				require.NotEmpty(t, op.OperationID)
				require.NotEmpty(t, op.Summary)
				require.NotEmpty(t, op.Description)

				var success bool
				for code, resp := range op.Responses.Map() {
					if strings.HasPrefix(code, "2") && resp.Value.Content != nil {
						success = true
						for mt, media := range resp.Value.Content {
							require.NotEmpty(t, media.Examples, "%s response %s has no examples", code, mt)
						}
					}
					// The readiness probe's 503 is its health report, so probes can read why.
					if code >= "400" && (op.OperationID != "getHealthDetailed" || code != "503") {
						require.NotNil(t, resp.Value.Content.Get("application/problem+json"), "error %s of %s is not a problem document", code, op.OperationID)
					}
				}
				require.True(t, success || op.Responses.Value("204") != nil, "no success response")

				need := []int{http.StatusInternalServerError}
				secured := op.Security == nil || len(*op.Security) > 0
				if secured {
					need = append(need, http.StatusUnauthorized)
				}
				hasParams := len(op.Parameters)+len(item.Parameters) > 0
				if hasParams || op.RequestBody != nil {
					need = append(need, http.StatusBadRequest)
				}
				if strings.Contains(path, "{") {
					need = append(need, http.StatusNotFound)
				}
				if op.RequestBody != nil {
					need = append(need, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
					for mt, media := range op.RequestBody.Value.Content {
						require.NotEmpty(t, media.Examples, "request body %s has no examples", mt)
						schema := media.Schema.Value
						if schema.Extensions["x-document"] == true {
							// A workflow document is read by the importer, which keeps unknown
							// keys on purpose; the schema says so with x-document.
							continue
						}
						require.NotNil(t, schema.AdditionalProperties.Has, "request body %s allows unknown fields", mt)
						require.False(t, *schema.AdditionalProperties.Has, "request body %s allows unknown fields", mt)
					}
				}
				for _, code := range need {
					require.NotNil(t, op.Responses.Status(code), "missing the %d response", code)
				}
			})
		}
	}
}

// TestSpecModelEnums keeps the normalized model's enumerations in openapi.yaml equal to the
// analyzer's: a kind added to the model must be documented, and the spec must not promise one the
// analyzer does not have.
func TestSpecModelEnums(t *testing.T) {
	spec, err := gen.GetSpec()
	require.NoError(t, err)
	for _, tt := range []struct {
		name, schema, property string
		want                   []string
	}{
		{"step kinds", "Step", "kind", analyzer.StepKinds},
		{"edge kinds", "Edge", "kind", analyzer.EdgeKinds},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ref, ok := spec.Components.Schemas[tt.schema]
			require.True(t, ok, "no schema %s", tt.schema)
			var got []string
			for _, v := range ref.Value.Properties[tt.property].Value.Enum {
				got = append(got, v.(string))
			}
			require.ElementsMatch(t, tt.want, got)
		})
	}
}
