package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
)

const (
	// rpcMaxDepth bounds nesting in decoded values.
	rpcMaxDepth = 32

	// rpcWriteTimeout bounds one response write; a client that stops
	// reading for this long is disconnected instead of pinning goroutines.
	rpcWriteTimeout = 30 * time.Second
)

// errTooLarge is returned when one message exceeds its size limit.
var errTooLarge = errors.New("request too large")

// errBadMsgpack is returned for a byte that starts no msgpack object.
var errBadMsgpack = errors.New("invalid msgpack type byte")

// readMsg reads exactly one msgpack object from r into buf[:0] and returns
// it, failing with errTooLarge as soon as the object is known to need more
// than limit bytes. Nothing is decoded here: every declared length is
// checked against the limit before any byte of it is read, so the decoder
// later only sees lengths that real bytes back. That keeps the cost of a
// message linear in its size (decoding a long string straight off the
// socket with a small initial allocation grows it piece by piece, which is
// quadratic) and lets the limit bite before a single large allocation.
// A clean EOF before the first byte is io.EOF.
func readMsg(r *bufio.Reader, limit int, buf []byte) ([]byte, error) {
	buf = buf[:0]
	pending := 1 // objects still to read; each takes at least one byte
	take := func(n uint64) error {
		if n > uint64(limit-len(buf)) {
			return errTooLarge
		}
		start := len(buf)
		buf = slices.Grow(buf, int(n))[:start+int(n)]
		_, err := io.ReadFull(r, buf[start:])
		return err
	}
	length := func(size int) (uint64, error) {
		if err := take(uint64(size)); err != nil {
			return 0, err
		}
		var n uint64
		for _, b := range buf[len(buf)-size:] {
			n = n<<8 | uint64(b)
		}
		return n, nil
	}
	for pending > 0 {
		if len(buf) >= limit {
			return nil, errTooLarge
		}
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		buf = append(buf, b)
		pending--
		var items, data uint64 // nested objects and raw bytes that follow
		switch {
		case b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3:
		case b <= 0x8f:
			items = 2 * uint64(b&0x0f)
		case b <= 0x9f:
			items = uint64(b & 0x0f)
		case b <= 0xbf:
			data = uint64(b & 0x1f)
		case b == 0xc4 || b == 0xd9: // bin8, str8
			data, err = length(1)
		case b == 0xc5 || b == 0xda: // bin16, str16
			data, err = length(2)
		case b == 0xc6 || b == 0xdb: // bin32, str32
			data, err = length(4)
		case b == 0xc7, b == 0xc8, b == 0xc9: // ext8/16/32: length, type
			data, err = length(1 << (b - 0xc7))
			data++
		case b == 0xca || b == 0xce || b == 0xd2: // 32-bit numbers
			data = 4
		case b == 0xcb || b == 0xcf || b == 0xd3: // 64-bit numbers
			data = 8
		case b == 0xcc || b == 0xd0:
			data = 1
		case b == 0xcd || b == 0xd1:
			data = 2
		case b >= 0xd4 && b <= 0xd8: // fixext 1..16, plus the type byte
			data = 1 + 1<<(b-0xd4)
		case b == 0xdc: // array16
			items, err = length(2)
		case b == 0xdd: // array32
			items, err = length(4)
		case b == 0xde: // map16
			items, err = length(2)
			items *= 2
		case b == 0xdf: // map32
			items, err = length(4)
			items *= 2
		default: // 0xc1
			return nil, errBadMsgpack
		}
		if err == nil && data > 0 {
			err = take(data)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if uint64(pending)+items > uint64(limit-len(buf)) {
			return nil, errTooLarge
		}
		pending += int(items)
	}
	return buf, nil
}

// rpcConn is one client connection: its decoder (used only by the serving
// goroutine), its serialized writer, its handshake/auth state and its
// streams.
type rpcConn struct {
	srv  *RPCServer
	conn net.Conn
	name string
	id   uint64 // accept order

	// Used only by the serving goroutine: the socket's buffered reader,
	// the current message and a decoder over it.
	br  *bufio.Reader
	msg []byte
	dec *codec.Decoder

	// established is set (under srv.mu) once the handshake, and auth if
	// required, are done; until then the handshake deadline applies and
	// the connection may be replaced when the server is full.
	established  bool
	authFailures int

	writeMu sync.Mutex
	bw      *bufio.Writer
	enc     *codec.Encoder

	// Only touched by the serving goroutine.
	version int32
	didAuth bool
	monitor *logStream
	streams map[uint64]*eventStream

	queryMu sync.Mutex
	queryID uint64
	pending map[uint64]*serf.Query
	// Guarded by queryMu: what keeps an established connection busy.
	inflight    int           // queries started by this client and not yet done
	streamCount int           // open streams and monitor
	idleArm     bool          // established: armIdle manages the read deadline
	closedCh    chan struct{} // closed when the connection is torn down
	workers     sync.WaitGroup
}

func newRPCConn(s *RPCServer, conn net.Conn, id uint64) *rpcConn {
	c := &rpcConn{
		srv:      s,
		conn:     conn,
		id:       id,
		name:     conn.RemoteAddr().String(),
		streams:  make(map[uint64]*eventStream),
		pending:  make(map[uint64]*serf.Query),
		closedCh: make(chan struct{}),
	}
	// Messages are decoded from memory after readMsg has bounded them, so
	// the decoder's default initial allocation (at most 256 KiB per value)
	// is bounded by real bytes too.
	h := client.NewMsgpackHandle()
	h.MaxDepth = rpcMaxDepth
	c.br = bufio.NewReader(conn)
	c.dec = codec.NewDecoderBytes(nil, h)
	// Until the handshake (and auth) are done the connection lives on a
	// deadline; markEstablished lifts it.
	_ = conn.SetReadDeadline(time.Now().Add(s.opts.HandshakeTimeout))
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

// messageLimit is the size cap for the next message.
func (c *rpcConn) messageLimit() int {
	if c.isEstablished() {
		return c.srv.opts.MessageLimit
	}
	return c.srv.opts.PreAuthMessageLimit
}

func (c *rpcConn) isEstablished() bool {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return c.established
}

// decodeNext reads the next message and decodes it into v.
func (c *rpcConn) decodeNext(v interface{}) error {
	limit := c.messageLimit()
	msg, err := readMsg(c.br, limit, c.msg)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return fmt.Errorf("%w: more than %d bytes", err, limit)
		}
		return err
	}
	if cap(msg) <= 64<<10 {
		c.msg = msg // reuse small buffers only
	}
	c.dec.ResetBytes(msg)
	return c.dec.Decode(v)
}

// decodeBody reads the request body into v.
func (c *rpcConn) decodeBody(v interface{}) error {
	if err := c.decodeNext(v); err != nil {
		return fmt.Errorf("decode failed: %v", err)
	}
	return nil
}

// establish ends the handshake phase: the handshake deadline is lifted and
// the connection can no longer be replaced by a newcomer.
func (c *rpcConn) establish() {
	c.srv.markEstablished(c)
	c.queryMu.Lock()
	c.idleArm = true
	c.queryMu.Unlock()
	c.armIdle()
}

// armIdle sets the read deadline of an established connection: none while
// anything is outstanding or without an IdleTimeout, else IdleTimeout from
// now. Called before each request is read and when a query ends.
func (c *rpcConn) armIdle() {
	c.queryMu.Lock()
	defer c.queryMu.Unlock()
	if !c.idleArm {
		return
	}
	idle := c.srv.opts.IdleTimeout
	var deadline time.Time
	if idle > 0 && c.inflight == 0 && c.streamCount == 0 {
		deadline = time.Now().Add(idle)
	}
	_ = c.conn.SetReadDeadline(deadline)
}

// addOutstanding counts streams (including a monitor) opened or closed.
func (c *rpcConn) addStreams(n int) {
	c.queryMu.Lock()
	c.streamCount += n
	c.queryMu.Unlock()
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
		c.armIdle()
		var hdr client.RequestHeader
		if err := c.decodeNext(&hdr); err != nil {
			var ne net.Error
			switch {
			case c.srv.isStopped() || errors.Is(err, io.EOF) || isConnClosed(err):
			case errors.As(err, &ne) && ne.Timeout() && !c.isEstablished():
				c.srv.logger.Printf("[WARN] agent.ipc: Closing %v: no handshake within %v", c, c.srv.opts.HandshakeTimeout)
			case errors.As(err, &ne) && ne.Timeout():
				c.srv.logger.Printf("[INFO] agent.ipc: Closing %v: idle for %v", c, c.srv.opts.IdleTimeout)
			default:
				c.srv.logger.Printf("[ERR] agent.ipc: failed to decode request header: %v", err)
			}
			return
		}
		if err := c.handle(&hdr); err != nil {
			if errors.Is(err, errServerStopping) {
				return
			}
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
