package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/lib/pq"
)

// The timeouts when Config leaves them at zero.
const (
	// DefaultConnectTimeout bounds opening one PostgreSQL connection.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultStatementTimeout bounds one statement. The API's statements take milliseconds; five
	// seconds leaves room for a loaded server and still answers a client long before it gives up.
	DefaultStatementTimeout = 5 * time.Second
)

// cancelGrace is how much longer than its context's deadline a statement may wait for PostgreSQL
// (see guardedConn). When the deadline passes, lib/pq asks the server, on a second connection, to
// cancel the statement; the grace lets a server that is alive answer with an error, which keeps the
// connection usable, instead of the connection being dropped at the same moment.
const cancelGrace = 250 * time.Millisecond

// statementContext returns the context one statement runs under: ctx, ending at the latest after the
// statement timeout. Every statement gets one, so that neither a database that stopped answering
// nor a wait for a pooled connection or a lock can hold a request longer than that.
func (q *queries) statementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, q.timeout)
}

// lib/pq ends a statement whose context is done by sending the server a cancel request, on a second
// connection, and then waiting for the server's answer on a read that the context does not
// interrupt. A server that stopped answering (a frozen process, a network that drops packets) holds
// that read, and the request, until TCP gives up minutes later; BEGIN and COMMIT, which have no
// context, wait the same way. Measured through pkg/tcpproxy: a query under a 1 s context on a
// frozen server had not returned after 60 s.
//
// The types below close that gap. guardedConnector dials every connection itself (guardDialer) and
// keeps the network connection beside lib/pq's; guardedConn sets the network connection's deadline
// before each operation to the deadline of the operation's context, plus cancelGrace, so that no
// read or write outlives its context for long. lib/pq then reports a network timeout, and the pool
// drops the connection. An operation whose context has no deadline waits as lib/pq always did,
// except BEGIN, COMMIT and ROLLBACK, which get the statement timeout: they are short by nature.

// guardedConnector opens lib/pq connections as guardedConns. It implements driver.Connector.
type guardedConnector struct {
	pq *pq.Connector
	// txTimeout bounds BEGIN, COMMIT and ROLLBACK, and closing a prepared statement.
	txTimeout time.Duration
}

var _ driver.Connector = (*guardedConnector)(nil)

// newGuardedConnector returns a connector for cfg.
func newGuardedConnector(cfg pq.Config, txTimeout time.Duration) (*guardedConnector, error) {
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.Dialer(guardDialer{})
	return &guardedConnector{pq: c, txTimeout: txTimeout}, nil
}

// dialSlot is the context key under which Connect receives the network connection that guardDialer
// opens for it.
type dialSlot struct{}

// Connect opens a connection. The handshake is bounded by lib/pq's connect timeout and by ctx's
// deadline, whichever comes first.
func (c *guardedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var nc *deadlineConn
	conn, err := c.pq.Connect(context.WithValue(ctx, dialSlot{}, &nc))
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok || nc == nil {
		// Only a lib/pq that no longer offers what guardedConn passes on, or no longer dials through
		// the dialer it is given, gets here; refusing is safer than a connection without timeouts.
		return nil, errors.Join(errors.New("lib/pq connection cannot be guarded by deadlines"), conn.Close())
	}
	if err := nc.guard(time.Time{}); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return &guardedConn{conn: pc, nc: nc, txTimeout: c.txTimeout}, nil
}

// Driver returns lib/pq's driver.
func (c *guardedConnector) Driver() driver.Driver { return c.pq.Driver() }

// guardDialer dials lib/pq's connections as deadlineConns. It implements pq.Dialer and
// pq.DialerContext.
type guardDialer struct{ d net.Dialer }

var (
	_ pq.Dialer        = guardDialer{}
	_ pq.DialerContext = guardDialer{}
)

// Dial opens a connection.
func (g guardDialer) Dial(network, address string) (net.Conn, error) {
	return g.DialContext(context.Background(), network, address)
}

// DialTimeout opens a connection within timeout.
func (g guardDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return g.DialContext(ctx, network, address)
}

// DialContext opens a connection while ctx lasts. The connection starts with ctx's deadline, so that
// the handshake that follows does not outlive it either, and is handed to the Connect that asked for
// it.
//
// lib/pq also dials outside Connect: to send a cancel request for a statement whose context ended.
// That connection, from the dial to the server's acknowledgement, gets cancelGrace, like the
// statement's own answer. lib/pq waits for the cancel request to finish before a prepared statement
// returns (its stmt.watchCancel, unlike conn.watchCancel), bounded only by its connect timeout, so
// without this a prepared statement on a server that stopped answering would fail the connect
// timeout after its deadline rather than cancelGrace after it.
func (g guardDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	slot, connecting := ctx.Value(dialSlot{}).(**deadlineConn)
	guardBy := withGrace(ctx)
	if !connecting {
		guardBy = time.Now().Add(cancelGrace)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, guardBy)
		// Once connected, the connection no longer depends on ctx.
		defer cancel()
	}
	c, err := g.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	nc := &deadlineConn{Conn: c}
	if err := nc.guard(guardBy); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	if connecting {
		*slot = nc
	}
	return nc, nil
}

// withGrace returns ctx's deadline plus cancelGrace, or zero (no deadline) when ctx has none.
func withGrace(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(cancelGrace)
	}
	return time.Time{}
}

// deadlineConn is a network connection with two deadlines: the guard that guardedConn sets before
// each operation, and the one lib/pq sets itself (its connect timeout, during the handshake). The
// sooner of the two applies.
type deadlineConn struct {
	net.Conn

	mu sync.Mutex
	// guardBy, readBy and writeBy are the deadlines; zero means none.
	guardBy, readBy, writeBy time.Time
}

// guard sets the guard deadline; zero removes it.
func (c *deadlineConn) guard(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guardBy = t
	return c.apply()
}

// SetDeadline sets lib/pq's deadline for reads and writes.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readBy, c.writeBy = t, t
	return c.apply()
}

// SetReadDeadline sets lib/pq's deadline for reads.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readBy = t
	return c.apply()
}

// SetWriteDeadline sets lib/pq's deadline for writes.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeBy = t
	return c.apply()
}

// apply gives the network connection the sooner deadlines; c.mu is held.
func (c *deadlineConn) apply() error {
	if err := c.Conn.SetReadDeadline(sooner(c.guardBy, c.readBy)); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(sooner(c.guardBy, c.writeBy))
}

// sooner returns the earlier of two deadlines, where zero means none.
func sooner(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	default:
		return b
	}
}

// pqConn is what lib/pq's connection implements and guardedConn passes on: database/sql looks for
// each of these interfaces on the connection it is given.
type pqConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// guardedConn is a lib/pq connection whose operations end, at the latest, cancelGrace after their
// context's deadline.
type guardedConn struct {
	conn      pqConn
	nc        *deadlineConn
	txTimeout time.Duration
}

var _ pqConn = (*guardedConn)(nil)

// arm sets the network deadline for an operation under ctx.
func (c *guardedConn) arm(ctx context.Context) error { return c.nc.guard(withGrace(ctx)) }

// armShort sets the network deadline for an operation that is short by nature and may have no
// context: the transaction timeout, or ctx's deadline when sooner.
func (c *guardedConn) armShort(ctx context.Context) error {
	return c.nc.guard(sooner(withGrace(ctx), time.Now().Add(c.txTimeout+cancelGrace)))
}

// Prepare prepares a statement without a deadline.
func (c *guardedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares a statement under ctx.
func (c *guardedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.arm(ctx); err != nil {
		return nil, err
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps, ok := st.(pqStmt)
	if !ok {
		// As in Connect: only a lib/pq whose statements lost their context methods gets here.
		return nil, errors.Join(errors.New("lib/pq statement cannot be guarded by deadlines"), st.Close())
	}
	return &guardedStmt{stmt: ps, conn: c}, nil
}

// Close closes the connection; telling the server so is bounded like a COMMIT.
func (c *guardedConn) Close() error {
	// A deadline that cannot be set leaves the close to lib/pq as it is.
	_ = c.armShort(context.Background())
	return c.conn.Close()
}

// Begin starts a transaction.
func (c *guardedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx starts a transaction; BEGIN is bounded by the transaction timeout.
func (c *guardedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.armShort(ctx); err != nil {
		return nil, err
	}
	tx, err := c.conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &guardedTx{tx: tx, conn: c}, nil
}

// ExecContext runs a statement under ctx.
func (c *guardedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.arm(ctx); err != nil {
		return nil, err
	}
	return c.conn.ExecContext(ctx, query, args)
}

// QueryContext runs a query under ctx. The rows are read under the same deadline.
func (c *guardedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.arm(ctx); err != nil {
		return nil, err
	}
	return c.conn.QueryContext(ctx, query, args)
}

// Ping checks the connection under ctx.
func (c *guardedConn) Ping(ctx context.Context) error {
	if err := c.arm(ctx); err != nil {
		return err
	}
	return c.conn.Ping(ctx)
}

// ResetSession passes on lib/pq's check before the pool hands the connection out again.
func (c *guardedConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }

// IsValid passes on lib/pq's check before the pool takes the connection back.
func (c *guardedConn) IsValid() bool { return c.conn.IsValid() }

// CheckNamedValue passes on lib/pq's conversion of statement arguments.
func (c *guardedConn) CheckNamedValue(nv *driver.NamedValue) error { return c.conn.CheckNamedValue(nv) }

// guardedTx is a transaction of a guardedConn; COMMIT and ROLLBACK are bounded by the transaction
// timeout.
type guardedTx struct {
	tx   driver.Tx
	conn *guardedConn
}

// Commit commits the transaction.
func (t *guardedTx) Commit() error {
	if err := t.conn.armShort(context.Background()); err != nil {
		return err
	}
	return t.tx.Commit()
}

// Rollback rolls the transaction back.
func (t *guardedTx) Rollback() error {
	if err := t.conn.armShort(context.Background()); err != nil {
		return err
	}
	return t.tx.Rollback()
}

// pqStmt is what lib/pq's prepared statement implements and guardedStmt passes on.
type pqStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// guardedStmt is a prepared statement of a guardedConn.
type guardedStmt struct {
	stmt pqStmt
	conn *guardedConn
}

var (
	_ driver.StmtExecContext  = (*guardedStmt)(nil)
	_ driver.StmtQueryContext = (*guardedStmt)(nil)
)

// Close closes the statement on the server, bounded by the transaction timeout.
func (s *guardedStmt) Close() error {
	if err := s.conn.armShort(context.Background()); err != nil {
		return err
	}
	return s.stmt.Close()
}

// NumInput returns the number of placeholders.
func (s *guardedStmt) NumInput() int { return s.stmt.NumInput() }

// Exec runs the statement without a deadline; database/sql calls ExecContext instead.
func (s *guardedStmt) Exec(args []driver.Value) (driver.Result, error) {
	if err := s.conn.arm(context.Background()); err != nil {
		return nil, err
	}
	return s.stmt.Exec(args)
}

// Query runs the statement without a deadline; database/sql calls QueryContext instead.
func (s *guardedStmt) Query(args []driver.Value) (driver.Rows, error) {
	if err := s.conn.arm(context.Background()); err != nil {
		return nil, err
	}
	return s.stmt.Query(args)
}

// ExecContext runs the statement under ctx.
func (s *guardedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.conn.arm(ctx); err != nil {
		return nil, err
	}
	return s.stmt.ExecContext(ctx, args)
}

// QueryContext runs the statement under ctx.
func (s *guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.arm(ctx); err != nil {
		return nil, err
	}
	return s.stmt.QueryContext(ctx, args)
}
