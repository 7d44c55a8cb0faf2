package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/logtest"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
	"github.com/ghl-debugger/ghl-debugger/pkg/store/storetest"
)

// binPath is the ghl-debugger binary that TestMain builds once for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ghl-debugger-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "ghl-debugger")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ghl-debugger:", err)
		return 1
	}
	return m.Run()
}

// e2eBodyLimit is the body limit the end-to-end tests configure, small enough to exceed cheaply.
const e2eBodyLimit = 65536

// keyPattern finds an API key in the first-start banner.
var keyPattern = regexp.MustCompile(`ghd_[0-9A-Za-z]{40}`)

// TestEndToEnd walks the "done when" path against the real binary, once per engine: first
// start prints the admin key, the key works, a location is created, listed, fetched and deleted, a
// second account cannot see it, bad input gets the documented problem and writes nothing, SIGTERM
// shuts down gracefully, and a restart prints no key.
func TestEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			databaseURL, dataDir := storetest.DSN(t, engine)
			env := map[string]string{
				"GHLD_MAX_BODY_BYTES":   fmt.Sprint(e2eBodyLimit),
				"GHLD_SHUTDOWN_TIMEOUT": "10s",
				"DATABASE_URL":          databaseURL,
				"GHLD_DATA_DIR":         dataDir,
			}
			p := mustStart(t, env)
			banner := p.stdout.String()
			key := keyPattern.FindString(banner)
			require.NotEmpty(t, key, "no admin key on stdout:\n%s", banner)
			require.NotContains(t, p.stderr.String(), key, "the admin key must never reach the logs")
			admin := client{base: p.baseURL, key: key}

			t.Run("me-200", func(t *testing.T) {
				var me gen.Me
				admin.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, &me)
				require.True(t, me.Account.IsAdmin)
				require.Equal(t, gen.TierEnterprise, me.Account.Tier)
				require.Equal(t, gen.Limits{
					RequestsPerMinute: 500, AnalysesPerHour: 1000, MaxBodyBytes: e2eBodyLimit,
					MaxWorkflowsPerImport: 1000, MaxStepsPerWorkflow: 10000, MaxContextObjects: 100000,
					InForce: gen.LimitsInForce{
						RequestsPerMinute: gen.LimitInForce{Limit: new(int32(500)), Source: gen.LimitInForceSourceTier},
						AnalysesPerHour:   gen.LimitInForce{Limit: new(int32(1000)), Source: gen.LimitInForceSourceTier},
					},
				}, me.Limits)
				require.Equal(t, gen.Usage{Locations: 0, ActiveApiKeys: 1, RequestsThisMinute: 1}, me.Usage)
			})

			var loc gen.Location
			t.Run("location create, list, get", func(t *testing.T) {
				admin.mustDo(t, http.MethodPost, "/v1/locations",
					`{"ghlLocationId":"ve9EPM428h8vShlRW1KT","name":"Downtown Dental","timezone":"America/Chicago"}`, http.StatusCreated, &loc)
				var list gen.LocationList
				admin.mustDo(t, http.MethodGet, "/v1/locations", "", http.StatusOK, &list)
				require.Len(t, list.Items, 1)
				require.Equal(t, loc.Id, list.Items[0].Id)
				var got gen.Location
				admin.mustDo(t, http.MethodGet, "/v1/locations/"+loc.Id, "", http.StatusOK, &got)
				require.Equal(t, "Downtown Dental", got.Name)
			})

			t.Run("second account sees nothing", func(t *testing.T) {
				var acc accountOutput
				mustRunJSON(t, env, &acc, "admin", "create-account", "--name", "Rival Agency", "--tier", "pro")
				require.Equal(t, "pro", acc.Tier)
				var k keyOutput
				mustRunJSON(t, env, &k, "admin", "create-key", "--account", acc.ID, "--name", "rival")
				rival := client{base: p.baseURL, key: k.Key}

				var me gen.Me
				rival.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, &me)
				require.Equal(t, acc.ID, me.Account.Id)
				rival.mustProblem(t, http.MethodGet, "/v1/locations/"+loc.Id, "", http.StatusNotFound, "not-found")
				rival.mustProblem(t, http.MethodDelete, "/v1/locations/"+loc.Id, "", http.StatusNotFound, "not-found")
				var list gen.LocationList
				rival.mustDo(t, http.MethodGet, "/v1/locations", "", http.StatusOK, &list)
				require.Empty(t, list.Items)
			})

			t.Run("bad input writes nothing", func(t *testing.T) {
				tests := []struct {
					name   string
					method string
					path   string
					body   string
					status int
					slug   string
				}{
					{name: "malformed json", method: http.MethodPost, path: "/v1/locations", body: `{"ghlLocationId":"x",`, status: 400, slug: "malformed-json"},
					{name: "wrong types", method: http.MethodPost, path: "/v1/locations", body: `{"ghlLocationId":1,"name":["x"]}`, status: 400, slug: "validation-error"},
					{name: "missing fields", method: http.MethodPost, path: "/v1/locations", body: `{"name":"x"}`, status: 400, slug: "validation-error"},
					{name: "unknown field", method: http.MethodPost, path: "/v1/locations", body: `{"ghlLocationId":"x","name":"y","accountId":"acc_x"}`, status: 400, slug: "validation-error"},
					{name: "oversize body", method: http.MethodPost, path: "/v1/locations", body: `{"ghlLocationId":"x","name":"` + strings.Repeat("y", e2eBodyLimit) + `"}`, status: 413, slug: "payload-too-large"},
					{name: "unknown enum value", method: http.MethodGet, path: "/v1/api-keys?state=expired", status: 400, slug: "validation-error"},
					{name: "unknown key field", method: http.MethodPost, path: "/v1/api-keys", body: `{"name":"x","secret":"mine"}`, status: 400, slug: "validation-error"},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						admin.mustProblem(t, tt.method, tt.path, tt.body, tt.status, tt.slug)
					})
				}
				var me gen.Me
				admin.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, &me)
				// What was written; the requests counted depend on the subtests that ran.
				require.Equal(t, int32(1), me.Usage.Locations)
				require.Equal(t, int32(1), me.Usage.ActiveApiKeys)
			})

			t.Run("location delete", func(t *testing.T) {
				admin.mustDo(t, http.MethodDelete, "/v1/locations/"+loc.Id, "", http.StatusNoContent, nil)
				admin.mustProblem(t, http.MethodGet, "/v1/locations/"+loc.Id, "", http.StatusNotFound, "not-found")
			})

			t.Run("graceful shutdown and restart", func(t *testing.T) {
				p.mustStop(t)
				require.Contains(t, p.stderr.String(), `"msg":"shutdown complete"`)
				again := mustStart(t, env)
				require.NotContains(t, again.stdout.String(), "ghd_", "the admin key is printed only on the first start")
				var me gen.Me
				client{base: again.baseURL, key: key}.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, &me)
				again.mustStop(t)
			})
		})
	}
}

// TestFirstStartTogether starts two instances at once on one empty PostgreSQL database (the way a
// deployment scales out) and requires exactly one admin key between them.
func TestFirstStartTogether(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		if engine != store.EnginePostgres {
			continue // one SQLite file serves one instance
		}
		t.Run(engine, func(t *testing.T) {
			databaseURL, _ := storetest.DSN(t, engine)
			env := map[string]string{"DATABASE_URL": databaseURL}
			procs := []*process{mustLaunch(t, env), mustLaunch(t, env)}
			for _, p := range procs {
				p.mustListen(t)
			}
			keys := keyPattern.FindAllString(procs[0].stdout.String()+procs[1].stdout.String(), -1)
			require.Len(t, keys, 2, "one banner shows the key twice (the key and the curl example)")
			require.Equal(t, keys[0], keys[1])
			for _, p := range procs {
				client{base: p.baseURL, key: keys[0]}.mustDo(t, http.MethodGet, "/v1/me", "", http.StatusOK, nil)
				p.mustStop(t)
			}
		})
	}
}

// TestMigrateCommand applies the migrations with the migrate command and starts serve without
// automatic migration on the result.
func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"GHLD_DATA_DIR": t.TempDir(), "GHLD_AUTO_MIGRATE": "false"}
	out := mustRun(t, env, "migrate")
	require.Empty(t, out)
	p := mustStart(t, env)
	require.Regexp(t, keyPattern, p.stdout.String())
	p.mustStop(t)
}

// TestServeFailsOnUnmigratedDatabase checks that serve with automatic migration off refuses an
// empty database with a message that says what to run.
func TestServeFailsOnUnmigratedDatabase(t *testing.T) {
	cmd := command(map[string]string{"GHLD_DATA_DIR": t.TempDir(), "GHLD_AUTO_MIGRATE": "false"}, "serve", "--addr", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	require.Error(t, err)
	require.Equal(t, exitFailure, cmd.ProcessState.ExitCode())
	require.Contains(t, stderr.String(), "ghl-debugger migrate")
}

// process is a running ghl-debugger serve.
type process struct {
	cmd     *exec.Cmd
	stdout  *logtest.Buffer
	stderr  *logtest.Buffer
	baseURL string
	exited  chan struct{}
}

// command prepares the binary with args and an environment of the test's own: the parent's
// variables minus any ghl-debugger configuration, plus env (empty values are left out).
func command(env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(binPath, args...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GHLD_") || name == "DATABASE_URL" || name == "REDIS_URL" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd
}

// mustStart starts serve on a free loopback port and waits for its "listening" log line.
func mustStart(tb testing.TB, env map[string]string) *process {
	tb.Helper()
	p := mustLaunch(tb, env)
	p.mustListen(tb)
	return p
}

// mustLaunch starts serve on a free loopback port without waiting for it; the test's cleanup kills
// it if it is still running.
func mustLaunch(tb testing.TB, env map[string]string) *process {
	tb.Helper()
	return mustStartCmd(tb, command(env, "serve", "--addr", "127.0.0.1:0"))
}

// mustStartCmd starts cmd with its output captured; the test's cleanup kills it if it is still running.
func mustStartCmd(tb testing.TB, cmd *exec.Cmd) *process {
	tb.Helper()
	p := &process{cmd: cmd, stdout: &logtest.Buffer{}, stderr: &logtest.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	require.NoError(tb, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// mustListen waits for the process's "listening" log line and records its address.
func (p *process) mustListen(tb testing.TB) {
	tb.Helper()
	deadline := time.After(time.Minute)
	for p.baseURL == "" {
		select {
		case <-p.exited:
			tb.Fatalf("ghl-debugger exited before listening:\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		case <-deadline:
			tb.Fatalf("ghl-debugger did not listen within a minute:\nstderr:\n%s", p.stderr)
		case <-time.After(20 * time.Millisecond):
			if addr := listeningAddr(p.stderr.String()); addr != "" {
				p.baseURL = "http://" + addr
			}
		}
	}
}

// listeningAddr finds the address in serve's "listening" log line.
func listeningAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line.Addr
		}
	}
	return ""
}

// mustStop sends SIGTERM and requires a clean exit within the shutdown timeout.
func (p *process) mustStop(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		tb.Fatalf("ghl-debugger did not stop within 30s of SIGTERM:\n%s", p.stderr)
	}
	require.Equal(tb, 0, p.cmd.ProcessState.ExitCode(), "stderr:\n%s", p.stderr)
}

// mustRun runs the binary to completion, requires success and returns its stdout.
func mustRun(tb testing.TB, env map[string]string, args ...string) string {
	tb.Helper()
	cmd := command(env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(tb, cmd.Run(), "ghl-debugger %s\nstderr:\n%s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// mustRunJSON runs the binary and decodes its stdout into v.
func mustRunJSON(tb testing.TB, env map[string]string, v any, args ...string) {
	tb.Helper()
	out := mustRun(tb, env, args...)
	require.NoError(tb, json.Unmarshal([]byte(out), v), "stdout: %s", out)
}

// client talks to a running instance with one API key.
type client struct {
	base string
	key  string
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func (c client) do(tb testing.TB, method, path, body string) (*http.Response, []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	require.NoError(tb, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := httpClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp, data
}

// mustDo sends a request, requires the status and decodes a JSON body into out (when not nil).
func (c client) mustDo(tb testing.TB, method, path, body string, status int, out any) {
	tb.Helper()
	resp, data := c.do(tb, method, path, body)
	require.Equal(tb, status, resp.StatusCode, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(tb, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
}

// mustProblem sends a request and requires a problem document of the status and slug.
func (c client) mustProblem(tb testing.TB, method, path, body string, status int, slug string) {
	tb.Helper()
	resp, data := c.do(tb, method, path, body)
	require.Equal(tb, status, resp.StatusCode, "%s %s: %s", method, path, data)
	require.Equal(tb, "application/problem+json", resp.Header.Get("Content-Type"))
	var p gen.Problem
	require.NoError(tb, json.Unmarshal(data, &p))
	require.Equal(tb, "https://ghl-debugger.dev/problems/"+slug, p.Type)
	require.Equal(tb, int32(status), p.Status)
	require.Equal(tb, resp.Header.Get("X-Request-ID"), p.RequestId)
	require.NotEmpty(tb, p.RequestId)
	if slug == "validation-error" {
		require.NotNil(tb, p.InvalidFields)
		require.NotEmpty(tb, *p.InvalidFields)
	}
}
