package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// TestRateLimitEndToEnd runs the binary with REDIS_URL: a free account's 21st request within a
// minute is refused, also when its requests are spread over two instances on one PostgreSQL
// database; the counters live in Redis; and when Redis goes away the instances keep serving,
// counting in memory, until it is back.
func TestRateLimitEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			mr := miniredis.RunT(t)
			databaseURL, dataDir := storetest.DSN(t, engine)
			env := map[string]string{
				"DATABASE_URL":     databaseURL,
				"GHLD_DATA_DIR":    dataDir,
				"REDIS_URL":        "redis://" + mr.Addr(),
				"GHLD_UPGRADE_URL": "https://agency.example.com/plans",
				// Generous, so that a loaded machine never makes the shared counting fall back.
				"GHLD_RATE_LIMIT_REDIS_TIMEOUT": "2s",
			}
			procs := []*process{mustStart(t, env)}
			if engine == store.EnginePostgres {
				// One SQLite file serves one instance; PostgreSQL serves many.
				procs = append(procs, mustStart(t, env))
			}
			admin := keyPattern.FindString(procs[0].stdout.String())
			require.NotEmpty(t, admin)

			var acc accountOutput
			mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Free Agency", "--tier", "free")
			var k keyOutput
			mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "ci")

			for i := 1; i <= 20; i++ {
				c := client{base: procs[i%len(procs)].baseURL, key: k.Key}
				resp, data := c.do(t, http.MethodGet, "/v1/me", "")
				require.Equal(t, http.StatusOK, resp.StatusCode, "request %d: %s", i, data)
				require.Equal(t, "20", resp.Header.Get("X-RateLimit-Limit"))
				require.Equal(t, strconv.Itoa(20-i), resp.Header.Get("X-RateLimit-Remaining"), "request %d: the instances share one count", i)
			}
			for _, p := range procs {
				c := client{base: p.baseURL, key: k.Key}
				c.mustProblem(t, http.MethodGet, "/v1/locations", "", http.StatusTooManyRequests, "rate-limited")
				resp, data := c.do(t, http.MethodGet, "/v1/locations", "")
				retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				require.NoError(t, err)
				require.True(t, retry >= 1 && retry <= 61, "Retry-After %d", retry)
				require.Contains(t, string(data), `"upgradeUrl":"https://agency.example.com/plans"`)
			}
			require.True(t, mr.Exists("ghld:ratelimit:"+acc.ID+":requests"), "keys: %v", mr.Keys())

			requireMode := func(t *testing.T, p *process, mode gen.RateLimiterHealthMode, reachable bool) {
				t.Helper()
				var h gen.HealthDetailed
				client{base: p.baseURL}.mustDo(t, http.MethodGet, "/health/detailed", "", http.StatusOK, &h)
				require.Equal(t, gen.HealthDetailedStatusOk, h.Status)
				require.Equal(t, mode, h.RateLimiter.Mode)
				require.NotNil(t, h.RateLimiter.RedisReachable)
				require.Equal(t, reachable, *h.RateLimiter.RedisReachable)
			}
			for _, p := range procs {
				requireMode(t, p, gen.RateLimiterHealthModeRedis, true)
			}

			t.Run("Redis goes away and comes back", func(t *testing.T) {
				mr.Close()
				for _, p := range procs {
					adminClient := client{base: p.baseURL, key: admin}
					for range 3 {
						adminClient.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, nil)
					}
					requireMode(t, p, gen.RateLimiterHealthModeMemoryFallback, false)
				}
				require.NoError(t, mr.Restart())
				for _, p := range procs {
					require.Eventually(t, func() bool {
						client{base: p.baseURL, key: admin}.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, nil)
						var h gen.HealthDetailed
						client{base: p.baseURL}.mustDo(t, http.MethodGet, "/health/detailed", "", http.StatusOK, &h)
						return h.RateLimiter.Mode == gen.RateLimiterHealthModeRedis
					}, 15*time.Second, 100*time.Millisecond, "the instance goes back to Redis")
				}
				for _, p := range procs {
					// The child's stderr reaches the buffer through a pipe, after the responses.
					require.Eventually(t, func() bool {
						return strings.Contains(p.stderr.String(), "Redis answers again")
					}, 5*time.Second, 20*time.Millisecond, "stderr:\n%s", p.stderr)
					logs := p.stderr.String()
					require.Contains(t, logs, "Redis did not answer")
					for line := range strings.Lines(logs) {
						require.True(t, json.Valid([]byte(line)), "a log line that is not JSON: %q", line)
					}
				}
			})
			for _, p := range procs {
				p.mustStop(t)
			}
		})
	}
}
