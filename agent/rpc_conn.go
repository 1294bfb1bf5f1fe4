package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
)

const (
	// rpcRequestBudget caps the bytes one request (header and body) may
	// occupy. Real requests are tiny (payloads are limited to a few KiB);
	// the cap stops a client from making us buffer an unbounded body.
	rpcRequestBudget = 4 << 20

	// rpcMaxInitLen caps what the decoder pre-allocates for a declared
	// length, so a forged huge length costs nothing until bytes arrive.
	rpcMaxInitLen = 4096

	// rpcMaxDepth bounds nesting in decoded values.
	rpcMaxDepth = 32

	// rpcWriteTimeout bounds one response write; a client that stops
	// reading for this long is disconnected instead of pinning goroutines.
	rpcWriteTimeout = 30 * time.Second
)

// errBudget is returned when a request exceeds rpcRequestBudget.
var errBudget = errors.New("request too large")

// budgetReader fails reads once the current request's budget is spent.
type budgetReader struct {
	r    io.Reader
	left int
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBudget
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// rpcConn is one client connection: its decoder (used only by the serving
// goroutine), its serialized writer, its handshake/auth state and its
// streams.
type rpcConn struct {
	srv    *RPCServer
	conn   net.Conn
	name   string
	budget *budgetReader
	dec    *codec.Decoder

	writeMu sync.Mutex
	bw      *bufio.Writer
	enc     *codec.Encoder

	// Only touched by the serving goroutine.
	version int32
	didAuth bool
	monitor *logStream
	streams map[uint64]*eventStream

	queryMu  sync.Mutex
	queryID  uint64
	pending  map[uint64]*serf.Query
	closedCh chan struct{} // closed when the connection is torn down
	workers  sync.WaitGroup
}

func newRPCConn(s *RPCServer, conn net.Conn) *rpcConn {
	c := &rpcConn{
		srv:      s,
		conn:     conn,
		name:     conn.RemoteAddr().String(),
		streams:  make(map[uint64]*eventStream),
		pending:  make(map[uint64]*serf.Query),
		closedCh: make(chan struct{}),
	}
	h := client.NewMsgpackHandle()
	h.MaxInitLen = rpcMaxInitLen
	h.MaxDepth = rpcMaxDepth
	c.budget = &budgetReader{r: conn, left: rpcRequestBudget}
	c.dec = codec.NewDecoder(bufio.NewReader(c.budget), h)
	c.bw = bufio.NewWriter(conn)
	c.enc = codec.NewEncoder(c.bw, client.NewMsgpackHandle())
	return c
}

// String names the client in log lines ("ipc.client: IP:PORT").
func (c *rpcConn) String() string { return "ipc.client: " + c.name }

// send writes a header and an optional body as one unit.
func (c *rpcConn) send(h *client.ResponseHeader, body interface{}) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(rpcWriteTimeout))
	if err := c.enc.Encode(h); err != nil {
		return err
	}
	if body != nil {
		if err := c.enc.Encode(body); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}

// reply sends a header with err's text ("" for nil) and an optional body.
func (c *rpcConn) reply(seq uint64, err error, body interface{}) error {
	h := client.ResponseHeader{Seq: seq}
	if err != nil {
		h.Error = err.Error()
	}
	return c.send(&h, body)
}

// decodeBody reads the request body into v.
func (c *rpcConn) decodeBody(v interface{}) error {
	if err := c.dec.Decode(v); err != nil {
		return fmt.Errorf("decode failed: %v", err)
	}
	return nil
}

// serve reads and handles requests one at a time until the client goes
// away, sends something unusable, or the server stops.
func (c *rpcConn) serve() {
	defer c.teardown()
	defer func() {
		// The decoder turns malformed input into errors; this is a last line
		// of defence so one client can never take the agent down.
		if r := recover(); r != nil {
			c.srv.logger.Printf("[ERR] agent.ipc: Failed to evaluate request: %v", r)
		}
	}()
	for {
		c.budget.left = rpcRequestBudget
		var hdr client.RequestHeader
		if err := c.dec.Decode(&hdr); err != nil {
			if !c.srv.isStopped() && !errors.Is(err, io.EOF) && !isConnClosed(err) {
				c.srv.logger.Printf("[ERR] agent.ipc: failed to decode request header: %v", err)
			}
			return
		}
		if err := c.handle(&hdr); err != nil {
			c.srv.logger.Printf("[ERR] agent.ipc: Failed to evaluate request: %v", err)
			return
		}
	}
}

func isConnClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "use of closed network connection") ||
		strings.Contains(err.Error(), "connection reset by peer")
}

// teardown closes the socket and stops every stream of this client.
func (c *rpcConn) teardown() {
	_ = c.conn.Close()
	close(c.closedCh)
	if c.monitor != nil {
		c.srv.logs.DeregisterHandler(c.monitor)
		c.monitor.stop()
		c.monitor = nil
	}
	for seq, es := range c.streams {
		c.srv.agent.DeregisterEventHandler(es)
		es.stop()
		delete(c.streams, seq)
	}
	c.workers.Wait()
}

// registerQuery remembers a query delivered to this client so `respond`
// can find it, until its deadline. IDs count from 1 per connection.
func (c *rpcConn) registerQuery(q *serf.Query) uint64 {
	c.queryMu.Lock()
	defer c.queryMu.Unlock()
	c.queryID++
	id := c.queryID
	now := time.Now()
	for k, old := range c.pending {
		if now.After(old.Deadline()) {
			delete(c.pending, k)
		}
	}
	if now.Before(q.Deadline()) {
		c.pending[id] = q
	}
	return id
}

// pendingQuery finds a live query by ID.
func (c *rpcConn) pendingQuery(id uint64) (*serf.Query, bool) {
	c.queryMu.Lock()
	defer c.queryMu.Unlock()
	q, ok := c.pending[id]
	if !ok {
		return nil, false
	}
	if time.Now().After(q.Deadline()) {
		delete(c.pending, id)
		return nil, false
	}
	return q, true
}
