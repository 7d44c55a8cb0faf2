package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/ghl-debugger/ghl-debugger/gen"
)

// NewListener wraps ln so that the answers net/http writes by itself, before any handler runs, are
// problem documents like every other error of the service: 431 when a request's headers exceed the
// server's MaxHeaderBytes (maxHeaderBytes, for the detail), 400 for a request net/http cannot parse,
// 501 for a transfer coding it does not know. net/http writes those as fixed plain text straight to
// the connection; nothing else on a connection has their exact shape, since every response a
// handler writes carries a Date header.
func NewListener(ln net.Listener, maxHeaderBytes int) net.Listener {
	return &problemListener{Listener: ln, maxHeaderBytes: maxHeaderBytes}
}

type problemListener struct {
	net.Listener
	maxHeaderBytes int
}

// Accept wraps each connection.
func (l *problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c, maxHeaderBytes: l.maxHeaderBytes}, nil
}

// problemConn rewrites net/http's own plain-text error answers as they are written.
type problemConn struct {
	net.Conn
	maxHeaderBytes int
}

// earlyErrorHeaders is what follows the status line of every answer net/http writes by itself
// (server.go, conn.serve).
var earlyErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

// Write writes b, or the problem document that replaces it when b is one of net/http's own error
// answers. It reports len(b) written in that case, as net/http expects.
func (c *problemConn) Write(b []byte) (int, error) {
	if doc, ok := c.rewrite(b); ok {
		if _, err := c.Conn.Write(doc); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite passes half-closing on, which net/http uses after a 431 so the client can read it.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// rewrite returns the problem response that replaces b, when b is one of net/http's own answers.
func (c *problemConn) rewrite(b []byte) ([]byte, bool) {
	const statusLine = "HTTP/1.1 "
	if len(b) < len(statusLine)+3 || !bytes.HasPrefix(b, []byte(statusLine)) {
		return nil, false
	}
	lineEnd := bytes.IndexByte(b, '\r')
	if lineEnd < 0 || !bytes.HasPrefix(b[lineEnd:], earlyErrorHeaders) {
		return nil, false
	}
	status, err := strconv.Atoi(string(b[len(statusLine) : len(statusLine)+3]))
	if err != nil || status < 400 {
		return nil, false
	}
	var p *Problem
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		p = newProblem(kindHeadersTooLarge, fmt.Sprintf("The request's headers are larger than the %d bytes the service accepts.", c.maxHeaderBytes), nil)
	case http.StatusNotImplemented:
		p = newProblem(kindNotImplemented, "The request's Transfer-Encoding is not supported; send the body with Content-Length or chunked.", nil)
	default:
		p = newProblem(kindBadRequest, "The request is not valid HTTP/1.1: its request line or headers cannot be parsed.", nil)
		p.Status = status
	}
	requestID := newRequestID()
	body, err := json.Marshal(gen.Problem{
		Type: ProblemTypeBase + p.Slug, Title: p.Title, Status: int32(p.Status), Detail: &p.Detail, RequestId: requestID,
	})
	if err != nil {
		return nil, false
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n", p.Status, http.StatusText(p.Status))
	fmt.Fprintf(&out, "Content-Type: %s\r\nContent-Length: %d\r\n", contentTypeProblem, len(body)+1)
	fmt.Fprintf(&out, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s: %s\r\nConnection: close\r\n\r\n", HeaderRequestID, requestID)
	out.Write(body)
	out.WriteByte('\n')
	return out.Bytes(), true
}
