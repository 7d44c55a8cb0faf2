package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl"
	"github.com/ghl-debugger/ghl-debugger/pkg/ghl/ghltest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// e2eVersionedBundle is an auditor bundle of two workflows with their GHL versions.
const e2eVersionedBundle = `{"workflows":[
{"name":"No Show Recovery","_id":"wf_a","status":"published","version":1,"triggers":[{"type":"contact_tag_added","name":"Tagged","filters":[{"tag":"x"}]}],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["y"]}}]},
{"name":"Welcome","_id":"wf_b","status":"published","version":2,"triggers":[{"type":"contact_tag_added","name":"Tagged","filters":[{"tag":"z"}]}],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["w"]}}]}
]}`

// mustGHLKey makes a key for GHLD_GHL_TOKEN_KEYS.
func mustGHLKey(tb testing.TB, id string) string {
	tb.Helper()
	k, err := ghl.GenerateKey(id)
	require.NoError(tb, err)
	return k
}

// mustSyncDone queues a sync of the location and waits for its job to complete.
func (c client) mustSyncDone(tb testing.TB, locationID string) {
	tb.Helper()
	var j gen.Job
	c.mustDo(tb, http.MethodPost, "/v1/locations/"+locationID+"/ghl/sync", "", http.StatusAccepted, &j)
	require.Equal(tb, gen.JobKindGhlSync, j.Kind)
	done := c.mustPollJob(tb, j.Id, 30*time.Second, func(j gen.Job) bool { return j.FinalizedAt != nil })
	require.Equal(tb, gen.JobStateCompleted, done.State, "%+v", done)
}

// TestGHLEndToEnd runs the real binary with its GHL settings pointed at a fake GHL, on each engine:
// a Private Integration Token connects a location, a sync after GHL moved one workflow marks
// exactly that one stale, the token is nowhere in the logs, and admin rotate-ghl-key moves the
// stored tokens to a new key, after which an instance holding only the new key still syncs.
func TestGHLEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			fake := ghltest.New(t)
			databaseURL, dataDir := storetest.DSN(t, engine)
			oldKey, newKey := mustGHLKey(t, "old"), mustGHLKey(t, "new")
			env := map[string]string{
				"DATABASE_URL":            databaseURL,
				"GHLD_DATA_DIR":           dataDir,
				"GHLD_JOBS_POLL_INTERVAL": "100ms",
				ghl.EnvAPIURL:             fake.URL,
				ghl.EnvAuthURL:            fake.URL,
				ghl.EnvTokenKeys:          oldKey,
			}
			first := mustStart(t, env)
			key := keyPattern.FindString(first.stdout.String())
			require.NotEmpty(t, key, "no admin key on stdout:\n%s", first.stdout)
			admin := client{base: first.baseURL, key: key}

			var loc gen.Location
			admin.mustDo(t, http.MethodPost, "/v1/locations", `{"ghlLocationId":"e2e-ghl","name":"E2E"}`, http.StatusCreated, &loc)
			require.Equal(t, gen.GHLConnectionStateNotConnected, loc.Ghl.State)
			admin.mustDo(t, http.MethodPost, "/v1/locations/"+loc.Id+"/workflows", e2eVersionedBundle, http.StatusCreated, nil)
			fake.SetWorkflows("e2e-ghl", []ghltest.Workflow{
				{ID: "wf_a", Name: "No Show Recovery", Status: "published", Version: 1},
				{ID: "wf_b", Name: "Welcome", Status: "published", Version: 2},
			})
			// Without the Marketplace app's settings the OAuth flow is off; a token still connects.
			admin.mustProblem(t, http.MethodPost, "/v1/locations/"+loc.Id+"/ghl/connect", "", http.StatusNotImplemented, "ghl-not-configured")
			pit := fake.AddPIT("e2e-ghl")
			var conn gen.GHLConnection
			admin.mustDo(t, http.MethodPut, "/v1/locations/"+loc.Id+"/ghl", `{"privateIntegrationToken":"`+pit+`"}`, http.StatusOK, &conn)
			require.Equal(t, gen.GHLConnectionStateConnected, conn.State)

			fake.SetWorkflows("e2e-ghl", []ghltest.Workflow{
				{ID: "wf_a", Name: "No Show Recovery", Status: "published", Version: 4},
				{ID: "wf_b", Name: "Welcome", Status: "published", Version: 2},
			})
			admin.mustSyncDone(t, loc.Id)
			var list gen.WorkflowList
			admin.mustDo(t, http.MethodGet, "/v1/locations/"+loc.Id+"/workflows", "", http.StatusOK, &list)
			require.Len(t, list.Items, 2)
			for _, w := range list.Items {
				require.Equal(t, w.GhlWorkflowId == "wf_a", w.Stale, "%s", w.GhlWorkflowId)
			}
			var got gen.Location
			admin.mustDo(t, http.MethodGet, "/v1/locations/"+loc.Id, "", http.StatusOK, &got)
			require.Equal(t, int32(1), got.Ghl.LastSync.Stale)
			first.mustStop(t)
			require.NotContains(t, first.stderr.String(), pit, "the token is in the logs")

			t.Run("rotate-ghl-key", func(t *testing.T) {
				stdout, stderr, code := runWith(t, map[string]string{"DATABASE_URL": databaseURL, "GHLD_DATA_DIR": dataDir}, "admin", "rotate-ghl-key")
				require.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
				require.Contains(t, stderr, ghl.EnvTokenKeys)

				rotate := map[string]string{"DATABASE_URL": databaseURL, "GHLD_DATA_DIR": dataDir, ghl.EnvTokenKeys: newKey + "," + oldKey}
				var out rotateOutput
				mustRunJSON(t, rotate, &out, "admin", "rotate-ghl-key")
				require.Equal(t, rotateOutput{Reencrypted: 1, KeyID: "new"}, out)
				mustRunJSON(t, rotate, &out, "admin", "rotate-ghl-key")
				require.Equal(t, rotateOutput{Reencrypted: 0, KeyID: "new"}, out)

				// An instance holding only the new key reads the token.
				env[ghl.EnvTokenKeys] = newKey
				second := mustStart(t, env)
				t.Cleanup(func() { second.mustStop(t) })
				admin.base = second.baseURL
				admin.mustSyncDone(t, loc.Id)
				admin.mustDo(t, http.MethodGet, "/v1/locations/"+loc.Id, "", http.StatusOK, &got)
				require.True(t, got.Ghl.LastSync.Ok)
				require.False(t, strings.Contains(second.stderr.String(), pit), "the token is in the logs")
			})
		})
	}
}
