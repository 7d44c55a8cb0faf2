// Package tcpproxy is a TCP proxy for fault tests. It forwards every connection it accepts to one
// target address (a PostgreSQL, a Redis, any TCP server) and lets a test break the path between the
// clients and that server in the ways that networks and servers break:
//
//   - Reset drops every open connection with a TCP reset, as a server that crashed or restarted
//     does; clients see "connection reset by peer" (or EOF) on their next read or write.
//   - Refuse stops listening, so new connections are refused at once, as a server that is down.
//   - Cut does both: the server is gone.
//   - Freeze stops passing bytes in both directions but keeps every connection open and goes on
//     accepting new ones, as a server that hangs (a stopped process, a full disk, a partition that
//     drops packets): clients wait until their own timeouts end the wait.
//   - Slow delays every chunk of bytes, in both directions, as a congested link.
//   - Resume undoes all of these: the proxy listens again on the same address, frozen connections
//     carry on where they stopped (no byte is lost or reordered), and bytes pass without delay.
//
// A test points its client at Addr instead of the server:
//
//	p, err := tcpproxy.Listen("127.0.0.1:0", "127.0.0.1:5432")
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(func() { p.Close() })
//	// ... connect to p.Addr(), then p.Freeze(), p.Cut(), p.Resume() as the test needs.
//
// The proxy keeps no state beyond its connections, so any protocol passes through it unchanged.
package tcpproxy

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"time"
)

// dialTimeout bounds the proxy's own connection to the target, so that a target that is down does
// not leave an accepted client waiting longer than a real refusal would.
const dialTimeout = 5 * time.Second

// bufferSize is how much one direction of one connection reads at a time. While the proxy is frozen
// it holds at most one such chunk per direction; the rest waits in the kernel's socket buffers.
const bufferSize = 32 << 10

// Proxy forwards TCP connections to a target and injects faults on command. Its methods are safe for
// concurrent use.
type Proxy struct {
	target string
	// addr is the address the proxy listens on; Resume listens on it again after Refuse.
	addr string

	mu sync.Mutex
	// ln is nil while the proxy refuses connections.
	ln    net.Listener
	links map[*link]struct{}
	// flowing is closed while bytes may pass; Freeze replaces it with an open channel that Resume
	// closes, which releases every waiting chunk at once.
	flowing chan struct{}
	delay   time.Duration
	closed  bool

	wg sync.WaitGroup
}

// Listen starts a proxy listening on addr (such as "127.0.0.1:0", which picks a free port) that
// forwards every connection to target.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcpproxy: listen on %s: %w", addr, err)
	}
	flowing := make(chan struct{})
	close(flowing)
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln, links: map[*link]struct{}{}, flowing: flowing}
	p.wg.Add(1)
	go p.serve(ln)
	return p, nil
}

// Addr returns the address that clients connect to, as HOST:PORT. It stays the same for the life
// of the proxy, across Refuse and Resume.
func (p *Proxy) Addr() string { return p.addr }

// Reset drops every open connection with a TCP reset on the client's side (the target sees an
// ordinary close). New connections are still accepted, unless the proxy refuses them.
func (p *Proxy) Reset() {
	p.mu.Lock()
	links := p.openLinks()
	p.mu.Unlock()
	for _, l := range links {
		l.close(true)
	}
}

// openLinks returns the open links, to close outside p.mu (closing one ends its handle, which
// takes p.mu to forget it); p.mu is held.
func (p *Proxy) openLinks() []*link {
	return slices.Collect(maps.Keys(p.links))
}

// Refuse stops listening, so that new connections are refused until Resume. Open connections are
// left as they are.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		// Closing the listener ends the accept loop; an error here means it is already closed.
		_ = p.ln.Close()
		p.ln = nil
	}
}

// Cut is Refuse and Reset: the server is gone, and every client learns it at once.
func (p *Proxy) Cut() {
	p.Refuse()
	p.Reset()
}

// Freeze stops passing bytes, in both directions, on every connection, open or new, until Resume.
// Connections stay open and new ones are accepted, so clients wait for answers that do not come.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default:
		// Already frozen.
	}
}

// Slow makes every chunk of bytes wait d before it is passed on, in both directions, until Resume
// (or another Slow; 0 removes the delay). A request and its response therefore take at least 2d
// longer.
func (p *Proxy) Slow(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = max(d, 0)
}

// Resume ends every fault: the proxy listens again on its address if it refused connections, bytes
// held by Freeze pass on in order, and Slow's delay is removed. Connections dropped by Reset stay
// dropped; clients reconnect. It returns an error when the address cannot be listened on again
// (another process took the port meanwhile), or when the proxy is closed.
func (p *Proxy) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("tcpproxy: resume a closed proxy")
	}
	p.delay = 0
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
	if p.ln == nil {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("tcpproxy: listen again on %s: %w", p.addr, err)
		}
		p.ln = ln
		p.wg.Add(1)
		go p.serve(ln)
	}
	return nil
}

// Close stops the proxy: it stops listening, closes every connection (without a reset) and waits
// for its goroutines to end. Closing twice is harmless.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	var err error
	if p.ln != nil {
		err = p.ln.Close()
		p.ln = nil
	}
	links := p.openLinks()
	p.mu.Unlock()
	for _, l := range links {
		l.close(false)
	}
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("tcpproxy: close listener: %w", err)
	}
	return nil
}

// serve accepts connections on ln until ln is closed (by Refuse or Close).
func (p *Proxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// handle connects an accepted client to the target and passes bytes both ways until either side
// closes or the link is dropped.
func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		// The target is unreachable: the client sees a reset, the nearest a proxy can come to the
		// refusal it would have had from the target itself.
		resetConn(client)
		return
	}
	l := &link{client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close(false)
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()

	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); p.pump(l, server, client) }()
	go func() { defer pumps.Done(); p.pump(l, client, server) }()
	pumps.Wait()
	l.close(false)
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// pump copies src to dst, one chunk at a time, waiting while the proxy is frozen and for the delay
// of Slow before each write. When src ends, it passes the end on (a half close) so that protocols
// that send a request and then close their side still get their answer; on any other error it drops
// the whole link.
func (p *Proxy) pump(l *link, dst, src net.Conn) {
	buf := make([]byte, bufferSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				l.close(false)
				return
			}
		}
		if errors.Is(err, io.EOF) {
			if tcp, ok := dst.(*net.TCPConn); ok {
				// Failing to half-close means dst is gone; the other pump finds out.
				_ = tcp.CloseWrite()
			}
			return
		}
		if err != nil {
			l.close(false)
			return
		}
	}
}

// wait holds a chunk while the proxy is frozen and then for Slow's delay. It returns false when the
// link was dropped meanwhile.
func (p *Proxy) wait(l *link) bool {
	for {
		p.mu.Lock()
		flowing, delay := p.flowing, p.delay
		p.mu.Unlock()
		select {
		case <-flowing:
		case <-l.done:
			return false
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return false
			}
		}
		// A Freeze during the delay holds the chunk too: check again.
		p.mu.Lock()
		still := p.flowing == flowing
		p.mu.Unlock()
		if still {
			return true
		}
	}
}

// link is one client connection and the proxy's connection to the target for it.
type link struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

// close closes both connections once; with reset, the client's with a TCP reset.
func (l *link) close(reset bool) {
	l.once.Do(func() {
		close(l.done)
		if reset {
			resetConn(l.client)
		} else {
			// Errors on close mean the connection is already gone, which is what close wants.
			_ = l.client.Close()
		}
		_ = l.server.Close()
	})
}

// resetConn closes c with a TCP reset instead of the orderly close: with SO_LINGER set to zero,
// closing a socket discards what it has not sent and sends RST.
func resetConn(c net.Conn) {
	if tcp, ok := c.(*net.TCPConn); ok {
		// Without the linger option the close below is orderly; the peer then sees EOF instead
		// of a reset, which still ends its connection.
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}
