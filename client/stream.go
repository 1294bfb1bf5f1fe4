package client

import (
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/logutils"
)

// NodeResponse is one node's answer to a query.
type NodeResponse struct {
	From    string
	Payload []byte
}

// QueryParam describes a query to send through the agent.
type QueryParam struct {
	FilterNodes []string          // only these nodes answer (empty: all)
	FilterTags  map[string]string // tag name -> regexp a node must match
	RequestAck  bool              // ask nodes to acknowledge receipt
	RelayFactor uint8             // extra nodes relaying each response
	Timeout     time.Duration     // 0: the agent's default
	Name        string
	Payload     []byte

	// AckCh and RespCh receive acks and responses. Sends never block, so
	// they should be buffered; the client closes both when the query ends.
	// Either may be nil.
	AckCh  chan<- string
	RespCh chan<- NodeResponse
}

// streamHandler is the part shared by event streams, log monitors and
// queries: the first reply acknowledges the request, every later one is
// followed by one record. The outputs are closed exactly once, when the
// stream ends for any reason.
type streamHandler struct {
	mu     sync.Mutex
	acked  bool
	ended  bool
	ackCh  chan error // buffered; receives the outcome of the request
	decode func(dec *codec.Decoder) (interface{}, error)
	// deliver passes one record on without blocking; it runs under mu
	// and reports whether the stream is complete.
	deliver func(rec interface{}) (last bool)
	// closeOutputs closes the caller's channels; it runs under mu, once.
	closeOutputs func()
}

func (s *streamHandler) handle(hdr *ResponseHeader, dec *codec.Decoder) (bool, error) {
	s.mu.Lock()
	first := !s.acked
	s.acked = true
	s.mu.Unlock()

	if first {
		err := errorFromString(hdr.Error)
		s.ackCh <- err
		// A refused stream sends no records.
		return err != nil, nil
	}

	rec, err := s.decode(dec)
	if err != nil {
		return true, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return true, nil
	}
	return s.deliver(rec), nil
}

func (s *streamHandler) abort(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.acked {
		s.acked = true
		// The request was never answered; tell the caller why.
		if errors.Is(err, errClientClosed) {
			err = errors.New(ErrStreamClosed)
		}
		s.ackCh <- err
	}
	if !s.ended {
		s.ended = true
		s.closeOutputs()
	}
}

// open registers h under a fresh Seq, sends the request and waits for the
// agent's acknowledgement.
func (c *RPCClient) open(command string, body interface{}, h *streamHandler) (uint64, error) {
	seq := c.nextSeq()
	if err := c.register(seq, h); err != nil {
		h.abort(err)
		return 0, err
	}
	if err := c.send(command, seq, body); err != nil {
		if c.unregister(seq) != nil {
			h.abort(err)
		}
		return 0, err
	}
	return seq, <-h.ackCh
}

// Stream subscribes to agent events matching filter ("" or "*" for all, or a
// comma-separated list such as "member-join,user:deploy"). Each record is
// sent to ch as the agent encoded it; records are dropped if ch is full.
// ch is closed when the stream ends.
func (c *RPCClient) Stream(filter string, ch chan<- map[string]interface{}) (StreamHandle, error) {
	h := &streamHandler{ackCh: make(chan error, 1)}
	h.decode = func(dec *codec.Decoder) (interface{}, error) {
		var rec map[string]interface{}
		err := dec.Decode(&rec)
		return rec, err
	}
	h.deliver = func(rec interface{}) bool {
		if ch != nil {
			select {
			case ch <- rec.(map[string]interface{}):
			default:
			}
		}
		return false
	}
	h.closeOutputs = func() {
		if ch != nil {
			close(ch)
		}
	}
	seq, err := c.open(StreamCommand, &StreamRequest{Type: filter}, h)
	return StreamHandle(seq), err
}

// Monitor subscribes to the agent's log lines at level or above (TRACE,
// DEBUG, INFO, WARN, ERR). Lines are dropped if ch is full; ch is closed
// when the monitor ends.
func (c *RPCClient) Monitor(level logutils.LogLevel, ch chan<- string) (StreamHandle, error) {
	h := &streamHandler{ackCh: make(chan error, 1)}
	h.decode = func(dec *codec.Decoder) (interface{}, error) {
		var rec LogRecord
		err := dec.Decode(&rec)
		return rec, err
	}
	h.deliver = func(rec interface{}) bool {
		if ch != nil {
			select {
			case ch <- rec.(LogRecord).Log:
			default:
			}
		}
		return false
	}
	h.closeOutputs = func() {
		if ch != nil {
			close(ch)
		}
	}
	seq, err := c.open(MonitorCommand, &MonitorRequest{LogLevel: string(level)}, h)
	return StreamHandle(seq), err
}

// Query sends a query and returns once the agent has accepted it. Acks and
// responses then arrive on p.AckCh and p.RespCh, which are closed when the
// agent reports the query's deadline has passed.
func (c *RPCClient) Query(p *QueryParam) error {
	if p == nil {
		return errors.New("client: nil query parameters")
	}
	ackCh, respCh := p.AckCh, p.RespCh
	h := &streamHandler{ackCh: make(chan error, 1)}
	h.decode = func(dec *codec.Decoder) (interface{}, error) {
		var rec QueryRecord
		err := dec.Decode(&rec)
		return rec, err
	}
	h.deliver = func(v interface{}) bool {
		rec := v.(QueryRecord)
		// A real Serf v0.10.2 agent reads its query's ack and response
		// channels until its own deadline timer fires; when Serf closes
		// them first it streams a burst of empty acks and responses read
		// from the closed channels. No member is nameless, so records
		// from nobody are dropped.
		if rec.From == "" && (rec.Type == QueryRecordAck || rec.Type == QueryRecordResponse) {
			return false
		}
		switch rec.Type {
		case QueryRecordAck:
			if ackCh != nil {
				select {
				case ackCh <- rec.From:
				default:
				}
			}
		case QueryRecordResponse:
			if respCh != nil {
				select {
				case respCh <- NodeResponse{From: rec.From, Payload: rec.Payload}:
				default:
				}
			}
		case QueryRecordDone:
			return true
		}
		// Unknown record types are ignored.
		return false
	}
	h.closeOutputs = func() {
		if ackCh != nil {
			close(ackCh)
		}
		if respCh != nil {
			close(respCh)
		}
	}
	req := QueryRequest{
		FilterNodes: p.FilterNodes,
		FilterTags:  p.FilterTags,
		RequestAck:  p.RequestAck,
		RelayFactor: p.RelayFactor,
		Timeout:     int64(p.Timeout),
		Name:        p.Name,
		Payload:     p.Payload,
	}
	_, err := c.open(QueryCommand, &req, h)
	return err
}

// Stop ends an event stream or log monitor. Delivery stops at once (the
// channel is closed); the agent is then told to stop sending.
func (c *RPCClient) Stop(handle StreamHandle) error {
	seq := uint64(handle)
	c.mu.Lock()
	h := c.handlers[seq]
	delete(c.handlers, seq)
	if h != nil {
		c.draining[seq] = struct{}{}
	}
	c.mu.Unlock()
	if h != nil {
		h.abort(errors.New(ErrStreamClosed))
	}
	return c.call(StopCommand, &StopRequest{Stop: seq}, nil)
}
