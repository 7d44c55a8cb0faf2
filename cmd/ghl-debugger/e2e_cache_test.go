package main

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// analysesComputed matches the count of analyses an instance computed, from its /metrics.
var analysesComputed = regexp.MustCompile(`(?m)^analysis_duration_seconds_count (\d+)$`)

// TestTwoInstancesShareTheCache runs two server processes on one PostgreSQL database and one
// Redis: N concurrent identical analysis requests, spread over both, compute the analysis once
// (one 201, the others 200 reused; the instances' metrics count one computation), and a key revoked
// on one instance is refused by the other within a second.
func TestTwoInstancesShareTheCache(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		if engine != store.EnginePostgres {
			continue // several instances need a database they can share
		}
		t.Run(engine, func(t *testing.T) {
			databaseURL, _ := storetest.DSN(t, engine)
			env := map[string]string{"DATABASE_URL": databaseURL, "REDIS_URL": "redis://" + miniredis.RunT(t).Addr(),
				"GHLD_MAX_BODY_BYTES": "1048576"}
			one := mustStart(t, env)
			two := mustStart(t, env)
			adminKey := keyPattern.FindString(one.stdout.String() + two.stdout.String())
			require.NotEmpty(t, adminKey)
			var acc accountOutput
			mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Shared Agency", "--tier", "pro")
			var k keyOutput
			mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "ci")
			onOne, onTwo := client{base: one.baseURL, key: k.Key}, client{base: two.baseURL, key: k.Key}

			var loc gen.Location
			onOne.mustDo(t, http.MethodPost, "/v1/locations", `{"ghlLocationId":"shared1","name":"Shared","timezone":"UTC"}`, http.StatusCreated, &loc)
			sample, err := os.ReadFile("../../pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json")
			require.NoError(t, err)
			onOne.mustDo(t, http.MethodPost, "/v1/locations/"+loc.Id+"/workflows", string(sample), http.StatusCreated, nil)

			computedBefore := mustComputed(t, one) + mustComputed(t, two)
			const n = 8
			var wg sync.WaitGroup
			statuses := make([]int, n)
			for i := range n {
				c := onOne
				if i%2 == 1 {
					c = onTwo
				}
				wg.Go(func() {
					resp, _ := c.do(t, http.MethodPost, "/v1/locations/"+loc.Id+"/analyses", `{"scope":"location"}`)
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			created := 0
			for _, s := range statuses {
				require.Contains(t, []int{http.StatusCreated, http.StatusOK}, s)
				if s == http.StatusCreated {
					created++
				}
			}
			require.Equal(t, 1, created, "one request computed it, the others reused it: %v", statuses)
			require.Equal(t, computedBefore+1, mustComputed(t, one)+mustComputed(t, two), "the analysis was computed once across both instances")

			var spare keyOutput
			mustRunJSON(t, env, &spare, "admin", "create-key", "--account", acc.ID, "--name", "spare")
			client{base: two.baseURL, key: spare.Key}.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, nil)
			onOne.mustDo(t, http.MethodDelete, "/v1/api-keys/"+spare.ID, "", http.StatusOK, nil)
			refusedBy := time.Now().Add(time.Second)
			for {
				resp, _ := client{base: two.baseURL, key: spare.Key}.do(t, http.MethodGet, "/v1/me", "")
				if resp.StatusCode == http.StatusUnauthorized {
					break
				}
				require.True(t, time.Now().Before(refusedBy), "the revoked key still works on the other instance after a second")
				time.Sleep(10 * time.Millisecond)
			}
			one.mustStop(t)
			two.mustStop(t)
		})
	}
}

// mustComputed reads how many analyses an instance computed since it started.
func mustComputed(tb testing.TB, p *process) int {
	tb.Helper()
	_, body := client{base: p.baseURL}.do(tb, http.MethodGet, "/metrics", "")
	m := analysesComputed.FindSubmatch(body)
	require.NotNil(tb, m, "no analysis_duration_seconds_count in /metrics")
	n, err := strconv.Atoi(string(m[1]))
	require.NoError(tb, err)
	return n
}
