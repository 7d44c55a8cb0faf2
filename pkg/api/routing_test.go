package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// sampleParams fills every path parameter of the spec with a value of the right shape.
var sampleParams = map[string]string{
	"locationId": "loc_abc", "workflowId": "wfl_abc", "keyId": "key_abc", "analysisId": "ana_abc", "ruleId": "WD001",
	"accountId": "acc_abc", "jobId": "job_1", "simulationId": "sim_abc",
}

// pathParam matches a parameter of a spec path template.
var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// mangled returns the ways a client (or an attacker) can bend a path that the spec serves: a
// trailing slash, an extra or a missing segment, an encoded slash, dot segments and doubled
// slashes.
func mangled(path string) []string {
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	last := segments[len(segments)-1]
	out := []string{
		path + "/",
		path + "/x",
		path + "//",
		"/" + path,
		path + "/.",
		path + "/..",
		path + "/./",
		path + "/../" + last,
		path + "/%2e%2e/" + last,
		strings.Replace(path, "/", "/./", 2),
		path + "/../../v1/me",
		path + "%2Fx",
		path + "%2F",
		path + "%00",
		path + "/%2e",
	}
	if len(segments) > 1 {
		out = append(out, "/"+strings.Join(segments[:len(segments)-1], "/")+"/", "/"+strings.Join(segments[:len(segments)-1], "%2F")+"/"+last)
	}
	for i := range segments {
		doubled := slices.Clone(segments)
		doubled[i] = "/" + doubled[i]
		out = append(out, "/"+strings.Join(doubled, "/"))
	}
	return out
}

// TestRoutingAgreesWithSpec walks every route template of the spec, bent every way mangled knows,
// with every method, with and without a key, and checks that nothing answers a server error, that
// no handler runs for a request that was not authenticated, and that a path the API does not serve
// is never repeated back to the caller.
func TestRoutingAgreesWithSpec(t *testing.T) {
	spec, err := gen.GetSpec()
	require.NoError(t, err)
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierEnterprise)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

	requests := 0
	for template := range spec.Paths.Map() {
		path := pathParam.ReplaceAllStringFunc(template, func(m string) string {
			v, ok := sampleParams[strings.Trim(m, "{}")]
			require.True(t, ok, "no sample value for %s in %s", m, template)
			return v
		})
		for _, bent := range mangled(path) {
			if bent == path {
				continue
			}
			for _, method := range methods {
				for _, withKey := range []bool{false, true} {
					r := request{method: method, path: bent}
					if withKey {
						r.key = key
					}
					if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
						r.body = `{}`
					}
					rec := env.do(t, r)
					requests++
					name := method + " " + bent
					require.Less(t, rec.Code, 500, "%s (key %v) answered %d: %s", name, withKey, rec.Code, rec.Body.String())
					if !withKey {
						require.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed}, rec.Code,
							"%s without a key answered %d: %s", name, rec.Code, rec.Body.String())
					}
					if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
						p := mustProblem(t, rec, rec.Code, map[int]string{404: "not-found", 405: "method-not-allowed"}[rec.Code])
						if p.Instance != nil {
							// Only a path of the API (an existing-shaped id that is not found) is shown back.
							require.Regexp(t, `^/v1/[a-z-]+(/[A-Za-z0-9_]+)*$`, *p.Instance, name)
						}
					}
				}
			}
		}
	}
	require.NotContains(t, env.logs.String(), "no authenticated principal")
	t.Logf("%d requests over %d route templates", requests, len(spec.Paths.Map()))
}

// TestUnmatchedPaths pins the answers to the paths found reaching handlers before: a trailing
// slash, an extra segment and dot segments are 404s that repeat nothing of the path.
func TestUnmatchedPaths(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	_, key := env.mustAccount(t, "Acme", store.TierEnterprise)
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{name: "trailing slash", method: http.MethodGet, path: "/v1/locations/loc_abc/workflows/wfl_abc/", status: http.StatusNotFound},
		{name: "extra segment", method: http.MethodDelete, path: "/v1/api-keys/key_abc/x", status: http.StatusNotFound},
		{name: "dot segments", method: http.MethodGet, path: "/v1/rules/WD001/../../v1/me", status: http.StatusNotFound},
		{name: "wrong method", method: http.MethodDelete, path: "/v1/me", status: http.StatusMethodNotAllowed},
	} {
		for _, k := range []string{"", key} {
			t.Run(tc.name, func(t *testing.T) {
				rec := env.do(t, request{method: tc.method, path: tc.path, key: k})
				p := mustProblem(t, rec, tc.status, map[int]string{404: "not-found", 405: "method-not-allowed"}[tc.status])
				require.Nil(t, p.Instance)
				require.NotContains(t, rec.Body.String(), "wfl_abc")
				require.NotContains(t, rec.Body.String(), "..")
				if tc.status == http.StatusMethodNotAllowed {
					require.Equal(t, "GET", rec.Header().Get("Allow"))
				}
			})
		}
	}
}
