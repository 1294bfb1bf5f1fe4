package client

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// DefaultTimeout bounds dialing and every request write.
const DefaultTimeout = 10 * time.Second

// errClientClosed is returned by every call once the connection is gone.
// Callers compare the text, so it is the one Serf uses.
var errClientClosed = errors.New(ErrClientClosed)

// Config says how to reach an agent's RPC endpoint.
type Config struct {
	// Addr is the agent's RPC address, host:port.
	Addr string
	// AuthKey, when not empty, is sent with an auth request right after
	// the handshake.
	AuthKey string
	// Timeout bounds the dial and each request write; 0 means DefaultTimeout.
	// Replies are waited for without a deadline, as Serf's client does.
	Timeout time.Duration
	// MsgpackUseNewTimeFormat makes the encoder write time.Time values in
	// msgpack's timestamp extension instead of the old binary format. No
	// request holds a time.Time, so it changes no byte sent today; decoding
	// reads both formats. Default false.
	MsgpackUseNewTimeFormat bool
}

// StreamHandle identifies a running event stream or log monitor; pass it to
// Stop. Its value is the Seq of the request that opened the stream.
type StreamHandle uint64

// RPCClient is one connection to a Serf agent. Its methods may be called from
// several goroutines; requests are written one at a time and replies are
// matched to callers by their sequence number.
type RPCClient struct {
	conn    net.Conn
	timeout time.Duration
	seq     atomic.Uint64

	// writeMu serialises writes so a header and its body stay together.
	writeMu sync.Mutex
	bufw    *bufio.Writer
	enc     *codec.Encoder

	// dec is used only by the reader goroutine.
	dec *codec.Decoder

	mu       sync.Mutex
	closed   bool
	handlers map[uint64]replyHandler
	// draining holds the seqs of streams stopped by us: the agent may still
	// send records for them, and each such header is followed by a body
	// that must be read and thrown away to stay in step.
	draining map[uint64]struct{}

	closeOnce  sync.Once
	shutdownCh chan struct{}
}

// replyHandler receives the responses that carry one request's Seq.
type replyHandler interface {
	// handle runs on the reader goroutine. It reads the body that follows
	// the header, if any. finished reports that no more responses are
	// expected for this Seq. A non-nil error means the body could not be
	// decoded, so the connection can no longer be trusted.
	handle(hdr *ResponseHeader, dec *codec.Decoder) (finished bool, err error)
	// abort ends the handler without a (further) reply. It may be called
	// from any goroutine and more than once.
	abort(err error)
}

// Dial connects to the agent at addr with default settings.
func Dial(addr string) (*RPCClient, error) {
	return ClientFromConfig(&Config{Addr: addr})
}

// NewRPCClient is Dial, under upstream's name.
func NewRPCClient(addr string) (*RPCClient, error) {
	return Dial(addr)
}

// ClientFromConfig connects to an agent, performs the handshake and, if an
// AuthKey is configured, authenticates. conf is not modified.
func ClientFromConfig(conf *Config) (*RPCClient, error) {
	if conf == nil {
		return nil, errors.New("client: nil config")
	}
	timeout := conf.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	conn, err := net.DialTimeout("tcp", conf.Addr, timeout)
	if err != nil {
		return nil, err
	}

	c := &RPCClient{
		conn:       conn,
		timeout:    timeout,
		handlers:   make(map[uint64]replyHandler),
		draining:   make(map[uint64]struct{}),
		shutdownCh: make(chan struct{}),
	}
	c.bufw = bufio.NewWriter(conn)
	enc := NewMsgpackHandle()
	enc.TimeNotBuiltin = !conf.MsgpackUseNewTimeFormat
	c.enc = codec.NewEncoder(c.bufw, enc)
	c.dec = codec.NewDecoder(bufio.NewReader(conn), NewMsgpackHandle())
	go c.readLoop()

	// Serf's own client waits for these replies forever; bounding them
	// keeps a CLI pointed at something that is not a Serf agent from
	// hanging.
	if err := c.callWithin(timeout, HandshakeCommand, &HandshakeRequest{Version: IPCVersion}, nil); err != nil {
		c.Close()
		return nil, err
	}
	if conf.AuthKey != "" {
		if err := c.callWithin(timeout, AuthCommand, &AuthRequest{AuthKey: conf.AuthKey}, nil); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// IsClosed reports whether the connection has been shut down.
func (c *RPCClient) IsClosed() bool {
	select {
	case <-c.shutdownCh:
		return true
	default:
		return false
	}
}

// Close shuts the connection down. Pending calls fail with "client closed";
// every open stream's channel is closed. Close is idempotent.
func (c *RPCClient) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		pending := c.handlers
		c.handlers = make(map[uint64]replyHandler)
		c.mu.Unlock()

		close(c.shutdownCh)
		err = c.conn.Close()
		for _, h := range pending {
			h.abort(errClientClosed)
		}
	})
	return err
}

// nextSeq returns the Seq for a new request; the first is 1.
func (c *RPCClient) nextSeq() uint64 {
	return c.seq.Add(1)
}

// register installs h for seq. It fails once the client is closed, so a
// handler can never be left waiting on a dead connection.
func (c *RPCClient) register(seq uint64, h replyHandler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClientClosed
	}
	c.handlers[seq] = h
	return nil
}

// unregister removes the handler for seq, if any, and returns it.
func (c *RPCClient) unregister(seq uint64) replyHandler {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.handlers[seq]
	delete(c.handlers, seq)
	return h
}

// send writes one request header and its optional body, then flushes. A
// failed write may have left half a message on the wire, so it closes the
// connection.
func (c *RPCClient) send(command string, seq uint64, body interface{}) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.IsClosed() {
		return errClientClosed
	}
	err := c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if err == nil {
		err = c.enc.Encode(&RequestHeader{Command: command, Seq: seq})
	}
	if err == nil && body != nil {
		err = c.enc.Encode(body)
	}
	if err == nil {
		err = c.bufw.Flush()
	}
	if err != nil {
		c.Close()
	}
	return err
}

// readLoop reads response headers and hands each to the handler registered
// for its Seq. It owns the decoder and ends when the connection fails,
// taking the client down with it.
func (c *RPCClient) readLoop() {
	defer c.Close()
	for {
		var hdr ResponseHeader
		if err := c.dec.Decode(&hdr); err != nil {
			return
		}

		c.mu.Lock()
		h, ok := c.handlers[hdr.Seq]
		_, drain := c.draining[hdr.Seq]
		c.mu.Unlock()

		if !ok {
			if drain {
				// A record for a stream we stopped: skip its body.
				var discard interface{}
				if err := c.dec.Decode(&discard); err != nil {
					return
				}
			}
			// Otherwise nobody is waiting for this Seq and we cannot
			// know whether a body follows; Serf's client ignores it too.
			continue
		}

		finished, err := h.handle(&hdr, c.dec)
		if err != nil {
			// Close before failing the call, so that a caller who sees
			// this error also sees a closed client; the other pending
			// calls fail with "client closed".
			c.unregister(hdr.Seq)
			c.Close()
			h.abort(fmt.Errorf("malformed reply from agent: %w", err))
			return
		}
		if finished {
			if c.unregister(hdr.Seq) != nil {
				h.abort(errors.New(ErrStreamClosed))
			}
		}
	}
}

// errorFromString turns a header's Error field into an error value.
func errorFromString(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}
