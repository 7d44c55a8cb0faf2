package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
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
