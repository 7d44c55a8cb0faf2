package api_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/gen"
	"github.com/ghl-debugger/ghl-debugger/pkg/api"
	"github.com/ghl-debugger/ghl-debugger/pkg/store"
)

// TestListenerProblems checks that the answers net/http writes by itself, before any handler runs,
// reach the client as problem documents, and that ordinary responses pass through untouched.
func TestListenerProblems(t *testing.T) {
	env := mustEnv(t, store.EngineSQLite)
	srv := httptest.NewUnstartedServer(env.handler)
	const maxHeaderBytes = 4096
	srv.Config.MaxHeaderBytes = maxHeaderBytes
	srv.Listener = api.NewListener(srv.Listener, maxHeaderBytes)
	srv.Start()
	t.Cleanup(srv.Close)

	send := func(t *testing.T, raw string) (*http.Response, []byte) {
		t.Helper()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
		_, err = io.WriteString(conn, raw)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, body
	}
	for _, tc := range []struct {
		name   string
		raw    string
		status int
		slug   string
	}{
		{name: "headers too large", raw: "GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 3*maxHeaderBytes) + "\r\n\r\n",
			status: http.StatusRequestHeaderFieldsTooLarge, slug: "request-header-fields-too-large"},
		{name: "malformed header", raw: "GET /v1/me HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", status: http.StatusBadRequest, slug: "bad-request"},
		{name: "unknown transfer coding", raw: "POST /v1/locations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: zstd\r\n\r\n", status: http.StatusNotImplemented, slug: "not-implemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := send(t, tc.raw)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var p gen.Problem
			require.NoError(t, json.Unmarshal(body, &p), string(body))
			require.Equal(t, api.ProblemTypeBase+tc.slug, p.Type)
			require.Equal(t, int32(tc.status), p.Status)
			require.Equal(t, resp.Header.Get(api.HeaderRequestID), p.RequestId)
			require.NotContains(t, string(body), "aaaa")
		})
	}
	t.Run("ordinary answers pass", func(t *testing.T) {
		resp, body := send(t, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.JSONEq(t, `{"status":"ok"}`, string(body))
	})
}
