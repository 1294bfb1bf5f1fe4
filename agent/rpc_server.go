package agent

import (
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// RPCServerOptions are the RPC server's knobs. The zero value of every
// field means its default (given with each field), so
// RPCServerOptions{AuthKey: key} is what the agent normally runs with.
type RPCServerOptions struct {
	// AuthKey is the token clients must send with `auth`; "" disables
	// authentication.
	AuthKey string

	// HandshakeTimeout (default 5s) bounds how long a new connection may
	// take to complete its handshake (and, with an AuthKey, its auth).
	// Real clients send both right after connecting; a connection that
	// has not done so by then is closed, so idle sockets cannot pin
	// descriptors.
	HandshakeTimeout time.Duration

	// IdleTimeout closes an established connection that has sent nothing
	// for this long while it has no stream, monitor or query outstanding.
	// Default 0: never. The Go client library keeps one connection for
	// the life of a program and does not reconnect, so closing idle
	// connections would break real users; the connection cap and the
	// handshake timeout are what bound hostile clients.
	IdleTimeout time.Duration

	// MaxConns (default 512) caps concurrent connections. When it is
	// reached, a new connection replaces the oldest one that has not yet
	// completed its handshake/auth; if every connection is established
	// the new one is closed at once. One WARN is logged per episode.
	MaxConns int

	// MaxStreamsPerConn (default 256) caps the `stream` subscriptions of
	// one connection; `serf monitor`/`stream` use one. Beyond it the
	// request gets an error reply and the connection keeps working.
	MaxStreamsPerConn int

	// MaxQueriesPerConn (default 64) caps the queries one connection may
	// have in flight (started and not yet done). Beyond it the request
	// gets an error reply and the connection keeps working.
	MaxQueriesPerConn int

	// AuthFailureDelay (default 1s) is how long a failed `auth` waits
	// before its reply, which limits how fast one connection can guess.
	AuthFailureDelay time.Duration

	// MaxAuthFailures (default 3) is how many failed `auth` attempts one
	// connection may make; the last one's reply is followed by closing
	// the connection.
	MaxAuthFailures int

	// PreAuthMessageLimit (default 64 KiB) caps the encoded size of each
	// message (header or body) read before the handshake and auth are
	// done; handshake and auth bodies are a few dozen bytes.
	PreAuthMessageLimit int

	// MessageLimit (default 4 MiB) caps the encoded size of each message
	// afterwards. Real requests are small (event and query payloads are
	// limited to a few KiB by Serf); the cap stops a client from making us
	// buffer an unbounded body.
	MessageLimit int

	// AcceptBackoffMin and AcceptBackoffMax (defaults 5ms and 1s) bound
	// the pause after a failed accept (e.g. out of descriptors). The pause
	// doubles with each consecutive failure and resets after a success, as
	// net/http's Server does, so the loop neither spins nor floods the log.
	AcceptBackoffMin time.Duration
	AcceptBackoffMax time.Duration
}

// Defaults of RPCServerOptions; see the fields for why.
const (
	defaultRPCHandshakeTimeout  = 5 * time.Second
	defaultRPCMaxConns          = 512
	defaultRPCMaxStreams        = 256
	defaultRPCMaxQueries        = 64
	defaultRPCAuthFailureDelay  = time.Second
	defaultRPCMaxAuthFailures   = 3
	defaultRPCPreAuthMessageLim = 64 << 10
	defaultRPCMessageLimit      = 4 << 20
	defaultRPCAcceptBackoffMin  = 5 * time.Millisecond
	defaultRPCAcceptBackoffMax  = time.Second

	// acceptErrReportEvery is how often an ongoing accept failure episode
	// is logged again after its first line.
	acceptErrReportEvery = time.Minute
)

func (o RPCServerOptions) withDefaults() RPCServerOptions {
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	num := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&o.HandshakeTimeout, defaultRPCHandshakeTimeout)
	num(&o.MaxConns, defaultRPCMaxConns)
	num(&o.MaxStreamsPerConn, defaultRPCMaxStreams)
	num(&o.MaxQueriesPerConn, defaultRPCMaxQueries)
	dur(&o.AuthFailureDelay, defaultRPCAuthFailureDelay)
	num(&o.MaxAuthFailures, defaultRPCMaxAuthFailures)
	num(&o.PreAuthMessageLimit, defaultRPCPreAuthMessageLim)
	num(&o.MessageLimit, defaultRPCMessageLimit)
	dur(&o.AcceptBackoffMin, defaultRPCAcceptBackoffMin)
	dur(&o.AcceptBackoffMax, defaultRPCAcceptBackoffMax)
	if o.AcceptBackoffMax < o.AcceptBackoffMin {
		o.AcceptBackoffMax = o.AcceptBackoffMin
	}
	return o
}

// RPCServer serves Serf's msgpack RPC protocol (the one the serf CLI and
// github.com/hashicorp/serf/client speak) on a listener. Each connection is
// handled by its own goroutine; nothing one client sends or fails to read
// can block the agent or another client.
type RPCServer struct {
	agent  *Agent
	opts   RPCServerOptions
	ln     net.Listener
	logger *log.Logger
	logs   *MonitorRing
	stopCh chan struct{} // closed by Shutdown

	mu       sync.Mutex
	stopped  bool
	conns    map[*rpcConn]struct{}
	nextID   uint64 // accept order, to find the oldest pending connection
	atCap    bool   // in a connection-cap episode (one WARN each)
	wg       sync.WaitGroup
	acceptWG sync.WaitGroup
	// calls counts requests abandoned at Shutdown (see abandonable): they
	// run on until the call they made returns, which the callee bounds.
	calls sync.WaitGroup
}

// NewRPCServer starts serving on ln with default limits. authKey ""
// disables authentication. logs is the monitor ring the `monitor` command
// subscribes to.
func NewRPCServer(agent *Agent, authKey string, ln net.Listener, logOutput io.Writer, logs *MonitorRing) *RPCServer {
	return NewRPCServerWithOptions(agent, ln, logOutput, logs, RPCServerOptions{AuthKey: authKey})
}

// NewRPCServerWithOptions starts serving on ln with the given options.
func NewRPCServerWithOptions(agent *Agent, ln net.Listener, logOutput io.Writer, logs *MonitorRing, opts RPCServerOptions) *RPCServer {
	s := &RPCServer{
		agent:  agent,
		opts:   opts.withDefaults(),
		ln:     ln,
		logger: log.New(logOutput, "", log.LstdFlags),
		logs:   logs,
		stopCh: make(chan struct{}),
		conns:  make(map[*rpcConn]struct{}),
	}
	s.acceptWG.Add(1)
	go s.acceptLoop()
	return s
}

// Addr is the listening address.
func (s *RPCServer) Addr() net.Addr { return s.ln.Addr() }

// Shutdown closes the listener and every connection and waits for their
// goroutines. It does not wait for calls that cannot be cancelled, such as
// a join to hosts that never answer (see abandonable). Idempotent.
func (s *RPCServer) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.stopCh)
	_ = s.ln.Close()
	s.mu.Unlock()
	// The accept loop adds connections; once it is gone the set only
	// shrinks.
	s.acceptWG.Wait()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// abandonable runs call, a request's work that may block for long and
// cannot be cancelled, on a goroutine of its own and waits for it to
// return or for Shutdown, reporting false in the latter case. memberlist's
// Join takes no context and waits up to its TCP timeout for each address
// that accepts but never answers; at Shutdown the connection stops waiting
// so neither the server's nor the agent's shutdown is held up, and call
// runs to its end (its result dropped), counted in s.calls.
func (s *RPCServer) abandonable(call func()) bool {
	done := make(chan struct{})
	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		defer close(done)
		call()
	}()
	select {
	case <-done:
		return true
	case <-s.stopCh:
		return false
	}
}

// waitCalls waits up to timeout for abandoned calls to end and reports
// whether they did.
func (s *RPCServer) waitCalls(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		s.calls.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func (s *RPCServer) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// sleep waits d or until Shutdown; it reports false if the server stopped.
func (s *RPCServer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stopCh:
		return false
	}
}

// acceptBackoff is the pause schedule after failed accepts: min, doubling
// up to max, back to min after a success.
type acceptBackoff struct {
	min, max, cur time.Duration
}

// next returns the pause after one more consecutive failure.
func (b *acceptBackoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else if b.cur *= 2; b.cur > b.max {
		b.cur = b.max
	}
	return b.cur
}

func (b *acceptBackoff) reset() { b.cur = 0 }

func (s *RPCServer) acceptLoop() {
	defer s.acceptWG.Done()
	backoff := acceptBackoff{min: s.opts.AcceptBackoffMin, max: s.opts.AcceptBackoffMax}
	// An episode of failures logs its first error, then at most one line
	// per acceptErrReportEvery with the count suppressed since.
	var failing bool
	var suppressed int
	var lastReport time.Time
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if s.isStopped() {
				return
			}
			if errors.Is(err, net.ErrClosed) {
				s.logger.Printf("[ERR] agent.ipc: Failed to accept client: %v", err)
				return
			}
			switch {
			case !failing:
				failing, suppressed, lastReport = true, 0, time.Now()
				s.logger.Printf("[ERR] agent.ipc: Failed to accept client: %v", err)
			case time.Since(lastReport) >= acceptErrReportEvery:
				s.logger.Printf("[ERR] agent.ipc: Failed to accept client: %v (%d more failures since the last report)", err, suppressed)
				suppressed, lastReport = 0, time.Now()
			default:
				suppressed++
			}
			if !s.sleep(backoff.next()) {
				return
			}
			continue
		}
		if failing {
			failing = false
			if suppressed > 0 {
				s.logger.Printf("[INFO] agent.ipc: Accepting clients again (%d failed accepts not logged)", suppressed)
			}
		}
		backoff.reset()
		s.admit(conn)
	}
}

// admit registers and serves a new connection, enforcing MaxConns.
func (s *RPCServer) admit(conn net.Conn) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	if len(s.conns) >= s.opts.MaxConns {
		victim := s.oldestPendingLocked()
		if !s.atCap {
			s.atCap = true
			s.logger.Printf("[WARN] agent.ipc: %d RPC connections open (the limit): new clients replace ones that have not completed their handshake, or are refused", s.opts.MaxConns)
		}
		if victim == nil {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		delete(s.conns, victim)
		_ = victim.conn.Close()
	}
	s.nextID++
	c := newRPCConn(s, conn, s.nextID)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()

	s.logger.Printf("[INFO] agent.ipc: Accepted client: %v", conn.RemoteAddr())
	metrics.IncrCounterWithLabels([]string{"agent", "ipc", "accept"}, 1, nil)
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		// The episode ends once there is clear room again, so a server
		// hovering at the limit does not warn on every connection.
		if s.atCap && len(s.conns) < s.opts.MaxConns*9/10 {
			s.atCap = false
		}
		s.mu.Unlock()
	}()
}

// oldestPendingLocked is the earliest-accepted connection that has not
// completed its handshake/auth, or nil.
func (s *RPCServer) oldestPendingLocked() *rpcConn {
	var oldest *rpcConn
	for c := range s.conns {
		if !c.established && (oldest == nil || c.id < oldest.id) {
			oldest = c
		}
	}
	return oldest
}

// markEstablished records that c completed its handshake (and auth).
func (s *RPCServer) markEstablished(c *rpcConn) {
	s.mu.Lock()
	c.established = true
	s.mu.Unlock()
}
