package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// runWith runs the binary with env to completion and returns what it wrote and its exit code.
func runWith(tb testing.TB, env map[string]string, args ...string) (stdout, stderr string, code int) {
	tb.Helper()
	cmd := command(env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(tb, err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// ownLimit and tierLimit build the expected limits in force.
func ownLimit(n int32) gen.LimitInForce {
	return gen.LimitInForce{Limit: &n, Source: gen.LimitInForceSourceAccount}
}

func tierLimit(n int32) gen.LimitInForce {
	return gen.LimitInForce{Limit: &n, Source: gen.LimitInForceSourceTier}
}

var liftedLimit = gen.LimitInForce{Unlimited: true, Source: gen.LimitInForceSourceAccount}

// TestSetLimitsCommand runs admin set-limits against the real binary on each engine: it changes
// the tier and the own limits with keep, set and clear semantics, prints what PATCH
// /internal/accounts/{accountId} answers, refuses bad command lines, and a running instance
// applies its change to the account's next request.
func TestSetLimitsCommand(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			databaseURL, dataDir := storetest.DSN(t, engine)
			// The running instance caches authentications; the command reaches its cache through
			// Redis, as it reaches every instance of a deployment.
			env := map[string]string{"DATABASE_URL": databaseURL, "GHLD_DATA_DIR": dataDir, "REDIS_URL": "redis://" + miniredis.RunT(t).Addr()}
			var acc accountOutput
			mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Limited Agency", "--tier", "free")

			t.Run("changes", func(t *testing.T) {
				steps := []struct {
					name     string
					args     []string
					tier     gen.Tier
					requests gen.LimitInForce
					analyses gen.LimitInForce
				}{
					{name: "tier", args: []string{"--tier", "pro"}, tier: gen.TierPro,
						requests: tierLimit(100), analyses: tierLimit(100)},
					{name: "own and unlimited", args: []string{"--requests-per-minute", "300", "--analyses-per-hour", "unlimited"}, tier: gen.TierPro,
						requests: ownLimit(300), analyses: liftedLimit},
					{name: "a flag left out keeps its limit", args: []string{"--tier", "enterprise"}, tier: gen.TierEnterprise,
						requests: ownLimit(300), analyses: liftedLimit},
					{name: "back to the tier", args: []string{"--requests-per-minute", "tier"}, tier: gen.TierEnterprise,
						requests: tierLimit(500), analyses: liftedLimit},
					{name: "the bounds", args: []string{"--requests-per-minute", "1000000", "--analyses-per-hour", "1", "--tier", "free"}, tier: gen.TierFree,
						requests: ownLimit(1000000), analyses: ownLimit(1)},
				}
				for _, step := range steps {
					var got gen.AccountLimits
					mustRunJSON(t, env, &got, append([]string{"admin", "set-limits", "--account", acc.ID}, step.args...)...)
					require.Equal(t, acc.ID, got.Account.Id, step.name)
					require.Equal(t, acc.Name, got.Account.Name, step.name)
					require.Equal(t, step.tier, got.Account.Tier, step.name)
					require.Equal(t, gen.LimitsInForce{RequestsPerMinute: step.requests, AnalysesPerHour: step.analyses}, got.Limits, step.name)
				}
			})

			t.Run("refused", func(t *testing.T) {
				tests := []struct {
					name string
					args []string
					code int
					want string
				}{
					{name: "no account", args: []string{"--tier", "pro"}, code: exitUsage, want: "--account is required"},
					{name: "nothing to change", args: []string{"--account", acc.ID}, code: exitUsage, want: "name what to change"},
					{name: "unknown tier", args: []string{"--account", acc.ID, "--tier", "gold"}, code: exitUsage, want: `--tier "gold" is not a plan`},
					{name: "zero", args: []string{"--account", acc.ID, "--requests-per-minute", "0"}, code: exitUsage, want: "want a number from 1 to 1000000, unlimited or tier"},
					{name: "negative", args: []string{"--account", acc.ID, "--analyses-per-hour", "-5"}, code: exitUsage, want: "want a number from 1 to 1000000"},
					{name: "too large", args: []string{"--account", acc.ID, "--requests-per-minute", "2000000"}, code: exitUsage, want: "want a number from 1 to 1000000"},
					{name: "a word", args: []string{"--account", acc.ID, "--requests-per-minute", "lots"}, code: exitUsage, want: "want a number from 1 to 1000000"},
					{name: "unknown account", args: []string{"--account", "acc_aaaaaaaaaaaaaaaaaaaa", "--tier", "pro"}, code: exitFailure, want: `no account "acc_aaaaaaaaaaaaaaaaaaaa"`},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						stdout, stderr, code := runWith(t, env, append([]string{"admin", "set-limits"}, tt.args...)...)
						require.Equal(t, tt.code, code, "stderr: %s", stderr)
						require.Empty(t, stdout)
						require.Contains(t, stderr, tt.want)
					})
				}
				var got gen.AccountLimits
				mustRunJSON(t, env, &got, "admin", "set-limits", "--account", acc.ID, "--tier", "free")
				require.Equal(t, gen.LimitsInForce{RequestsPerMinute: ownLimit(1000000), AnalysesPerHour: ownLimit(1)}, got.Limits, "nothing refused was written")
			})

			t.Run("a running instance applies it to the next request", func(t *testing.T) {
				p := mustStart(t, env)
				defer p.mustStop(t)
				// The database had an account before the first start, so no admin key was printed.
				var ops accountOutput
				mustRunJSON(t, env, &ops, "admin", "create-account", "--name", "Operators", "--admin")
				var opsKey keyOutput
				mustRunJSON(t, env, &opsKey, "admin", "create-key", "--account", ops.ID, "--name", "ops")
				admin := client{base: p.baseURL, key: opsKey.Key}
				var k keyOutput
				mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "cli")
				c := client{base: p.baseURL, key: k.Key}

				mustRun(t, env, "admin", "set-limits", "--account", acc.ID, "--requests-per-minute", "2")
				// The command reaches the instance through Redis's pub/sub, which the product
				// promises within a second; every keyed request counts, so the test waits rather
				// than polls.
				time.Sleep(time.Second)
				for i, remaining := range []string{"1", "0"} {
					resp, data := c.do(t, http.MethodGet, "/v1/locations", "")
					require.Equal(t, http.StatusOK, resp.StatusCode, "request %d: %s", i+1, data)
					require.Equal(t, "2", resp.Header.Get("X-RateLimit-Limit"))
					require.Equal(t, remaining, resp.Header.Get("X-RateLimit-Remaining"))
					require.Equal(t, `"requests";q=2;w=60`, resp.Header.Get("RateLimit-Policy"))
					require.True(t, strings.HasPrefix(resp.Header.Get("RateLimit"), `"requests";r=`+remaining+`;t=`), resp.Header.Get("RateLimit"))
				}
				c.mustProblem(t, http.MethodGet, "/v1/locations", "", http.StatusTooManyRequests, "rate-limited")

				mustRun(t, env, "admin", "set-limits", "--account", acc.ID, "--requests-per-minute", "unlimited")
				time.Sleep(time.Second)
				for range 3 {
					resp, data := c.do(t, http.MethodGet, "/v1/locations", "")
					require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
					for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"} {
						require.Empty(t, resp.Header.Get(h), "%s on an unlimited account's response", h)
					}
				}

				// The command prints what the API answers for the same change.
				cli := mustRun(t, env, "admin", "set-limits", "--account", acc.ID, "--analyses-per-hour", "7")
				resp, apiBody := admin.do(t, http.MethodPatch, "/internal/accounts/"+acc.ID, `{"analysesPerHour":7}`)
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s", apiBody)
				var fromCLI, fromAPI map[string]any
				require.NoError(t, json.Unmarshal([]byte(cli), &fromCLI))
				require.NoError(t, json.Unmarshal(apiBody, &fromAPI))
				require.Equal(t, fromAPI, fromCLI)
			})
		})
	}
}

// TestLimitChangeReachesEveryInstance changes an account's limit through one of two instances on
// one PostgreSQL database and one Redis; the other applies it to the account's next request: the
// change makes every instance forget the account's cached authentications.
func TestLimitChangeReachesEveryInstance(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		if engine != store.EnginePostgres {
			continue // one SQLite file serves one instance
		}
		t.Run(engine, func(t *testing.T) {
			databaseURL, _ := storetest.DSN(t, engine)
			// Several instances share Redis: their caches hear of each other's changes through it.
			env := map[string]string{"DATABASE_URL": databaseURL, "REDIS_URL": "redis://" + miniredis.RunT(t).Addr()}
			one := mustStart(t, env)
			two := mustStart(t, env)
			adminKey := keyPattern.FindString(one.stdout.String() + two.stdout.String())
			require.NotEmpty(t, adminKey)
			var acc accountOutput
			mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Spread Agency", "--tier", "pro")
			var k keyOutput
			mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "ci")
			onTwo := client{base: two.baseURL, key: k.Key}

			resp, _ := onTwo.do(t, http.MethodGet, "/v1/me", "")
			require.Equal(t, "100", resp.Header.Get("X-RateLimit-Limit"))
			var changed gen.AccountLimits
			client{base: one.baseURL, key: adminKey}.mustDo(t, http.MethodPatch, "/internal/accounts/"+acc.ID, `{"requestsPerMinute":4}`, http.StatusOK, &changed)
			require.Equal(t, ownLimit(4), changed.Limits.RequestsPerMinute)

			// The change reaches the other instance through Redis's pub/sub: within a second, as
			// the product promises.
			var me gen.Me
			resp, data := onTwo.do(t, http.MethodGet, "/v1/me", "")
			for deadline := time.Now().Add(time.Second); resp.Header.Get("X-RateLimit-Limit") != "4" && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				resp, data = onTwo.do(t, http.MethodGet, "/v1/me", "")
			}
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
			require.Equal(t, "4", resp.Header.Get("X-RateLimit-Limit"), "the other instance applies the change within a second")
			require.Equal(t, `"requests";q=4;w=60`, resp.Header.Get("RateLimit-Policy"))
			require.NoError(t, json.Unmarshal(data, &me))
			require.Equal(t, int32(4), me.Limits.RequestsPerMinute)
			require.Equal(t, ownLimit(4), me.Limits.InForce.RequestsPerMinute)
			one.mustStop(t)
			two.mustStop(t)
		})
	}
}
