package agent

import (
	"errors"
	metrics "github.com/hashicorp/go-metrics"
	"io"
	"log"
	"net"
	"sync"
)

// RPCServer serves Serf's msgpack RPC protocol (the one the serf CLI and
// github.com/hashicorp/serf/client speak) on a listener. Each connection is
// handled by its own goroutine; nothing one client sends or fails to read
// can block the agent or another client.
type RPCServer struct {
	agent   *Agent
	authKey string
	ln      net.Listener
	logger  *log.Logger
	logs    *LogWriter

	mu      sync.Mutex
	stopped bool
	conns   map[*rpcConn]struct{}
	wg      sync.WaitGroup
}

// NewRPCServer starts serving on ln. authKey "" disables authentication.
// logs is the monitor ring the `monitor` command subscribes to.
func NewRPCServer(agent *Agent, authKey string, ln net.Listener, logOutput io.Writer, logs *LogWriter) *RPCServer {
	s := &RPCServer{
		agent:   agent,
		authKey: authKey,
		ln:      ln,
		logger:  log.New(logOutput, "", log.LstdFlags),
		logs:    logs,
		conns:   make(map[*rpcConn]struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Addr is the listening address.
func (s *RPCServer) Addr() net.Addr { return s.ln.Addr() }

// Shutdown closes the listener and every connection and waits for their
// goroutines. Idempotent.
func (s *RPCServer) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *RPCServer) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

func (s *RPCServer) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if s.isStopped() {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			s.logger.Printf("[ERR] agent.ipc: Failed to accept client: %v", err)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.logger.Printf("[INFO] agent.ipc: Accepted client: %v", conn.RemoteAddr())
		metrics.IncrCounterWithLabels([]string{"agent", "ipc", "accept"}, 1, nil)
		c := newRPCConn(s, conn)

		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			_ = conn.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()

		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}
