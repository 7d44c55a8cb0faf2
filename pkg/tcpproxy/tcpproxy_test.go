package tcpproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ghl-debugger/ghl-debugger/pkg/tcpproxy"
)

// waitTime is how long a test waits to conclude that bytes do not arrive. The opposite conclusion
// (they arrive) never depends on it.
const waitTime = 200 * time.Millisecond

// mustEchoServer starts a server that sends back every line it reads, closed when the test ends.
func mustEchoServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	var wg sync.WaitGroup
	conns := make(chan net.Conn, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				// The echo ends when the client closes its side (or the proxy drops the link).
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	tb.Cleanup(func() {
		_ = ln.Close()
		close(conns)
		for c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	})
	return ln.Addr().String()
}

// mustProxy starts a proxy in front of target, closed when the test ends.
func mustProxy(tb testing.TB, target string) *tcpproxy.Proxy {
	tb.Helper()
	p, err := tcpproxy.Listen("127.0.0.1:0", target)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, p.Close()) })
	return p
}

// client is a connection through the proxy that sends and reads lines.
type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func mustDial(tb testing.TB, addr string) *client {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return &client{conn: c, r: bufio.NewReader(c)}
}

func (c *client) send(tb testing.TB, line string) {
	tb.Helper()
	require.NoError(tb, c.conn.SetWriteDeadline(time.Now().Add(time.Second)))
	_, err := c.conn.Write([]byte(line + "\n"))
	require.NoError(tb, err)
}

// read returns the next line, waiting at most wait.
func (c *client) read(wait time.Duration) (string, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return line[:len(line)-1], nil
}

// mustEcho checks that a line comes back.
func (c *client) mustEcho(tb testing.TB, line string) {
	tb.Helper()
	c.send(tb, line)
	got, err := c.read(5 * time.Second)
	require.NoError(tb, err)
	require.Equal(tb, line, got)
}

// requireEnded checks that err ends the connection: EOF or a reset (a socket closed with bytes it
// had not read yet sends a reset), never a timeout.
func requireEnded(tb testing.TB, err error) {
	tb.Helper()
	require.Error(tb, err)
	require.True(tb, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "want EOF or a reset, got %v", err)
}

// requireTimeout checks that err is a read that ran out of time, not a closed connection.
func requireTimeout(tb testing.TB, err error) {
	tb.Helper()
	require.ErrorIs(tb, err, os.ErrDeadlineExceeded)
}

func TestForwards(t *testing.T) {
	p := mustProxy(t, mustEchoServer(t))
	a, b := mustDial(t, p.Addr()), mustDial(t, p.Addr())
	a.mustEcho(t, "hello")
	b.mustEcho(t, "world")
	a.mustEcho(t, strings.Repeat("a line longer than the buffer ", 4000))

	t.Run("half close", func(t *testing.T) {
		// A client that closes its sending side still reads the answer, then the end.
		c := mustDial(t, p.Addr())
		c.send(t, "last words")
		require.NoError(t, c.conn.(*net.TCPConn).CloseWrite())
		got, err := c.read(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "last words", got)
		_, err = c.read(5 * time.Second)
		require.ErrorIs(t, err, io.EOF)
	})
}

func TestFreeze(t *testing.T) {
	p := mustProxy(t, mustEchoServer(t))
	open := mustDial(t, p.Addr())
	open.mustEcho(t, "before")

	p.Freeze()
	open.send(t, "held")
	_, err := open.read(waitTime)
	requireTimeout(t, err)
	// A new connection is accepted, but nothing passes either.
	fresh := mustDial(t, p.Addr())
	fresh.send(t, "new")
	_, err = fresh.read(waitTime)
	requireTimeout(t, err)
	p.Freeze() // freezing twice changes nothing

	require.NoError(t, p.Resume())
	got, err := open.read(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "held", got, "the held bytes pass on after Resume")
	got, err = fresh.read(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "new", got)
	open.mustEcho(t, "after")
}

func TestReset(t *testing.T) {
	p := mustProxy(t, mustEchoServer(t))
	c := mustDial(t, p.Addr())
	c.mustEcho(t, "before")

	p.Reset()
	_, err := c.read(5 * time.Second)
	require.ErrorIs(t, err, syscall.ECONNRESET, "the client sees a reset, not an orderly end")
	// New connections still work.
	mustDial(t, p.Addr()).mustEcho(t, "after")
}

func TestRefuseAndCut(t *testing.T) {
	t.Run("refuse", func(t *testing.T) {
		p := mustProxy(t, mustEchoServer(t))
		open := mustDial(t, p.Addr())
		p.Refuse()
		_, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		open.mustEcho(t, "open connections carry on")
		require.NoError(t, p.Resume())
		mustDial(t, p.Addr()).mustEcho(t, "the same address again")
	})
	t.Run("cut", func(t *testing.T) {
		p := mustProxy(t, mustEchoServer(t))
		open := mustDial(t, p.Addr())
		open.mustEcho(t, "before")
		p.Cut()
		_, err := open.read(5 * time.Second)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.NoError(t, p.Resume())
		mustDial(t, p.Addr()).mustEcho(t, "after")
	})
	t.Run("target down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		target := ln.Addr().String()
		require.NoError(t, ln.Close())
		p := mustProxy(t, target)
		// The client learns at once, while connecting or on its first read, but never waits.
		c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err == nil {
			defer c.Close()
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = c.Read(make([]byte, 1))
		}
		requireEnded(t, err)
	})
}

func TestSlow(t *testing.T) {
	p := mustProxy(t, mustEchoServer(t))
	c := mustDial(t, p.Addr())
	const delay = 100 * time.Millisecond
	p.Slow(delay)
	start := time.Now()
	c.mustEcho(t, "slowly")
	require.GreaterOrEqual(t, time.Since(start), 2*delay, "the request and the answer each wait")

	// A freeze during the delay holds the chunk until Resume.
	c.send(t, "held")
	time.Sleep(delay / 2)
	p.Freeze()
	_, err := c.read(2 * delay)
	requireTimeout(t, err)
	require.NoError(t, p.Resume())
	got, err := c.read(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "held", got)
}

func TestClose(t *testing.T) {
	p, err := tcpproxy.Listen("127.0.0.1:0", mustEchoServer(t))
	require.NoError(t, err)
	c := mustDial(t, p.Addr())
	c.mustEcho(t, "before")
	p.Freeze()
	c.send(t, "held while closing")
	require.NoError(t, p.Close(), "Close does not wait for frozen connections to thaw")
	_, err = c.read(5 * time.Second)
	requireEnded(t, err)
	_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, p.Close())
	require.Error(t, p.Resume())
}
