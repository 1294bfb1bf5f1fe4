package serf

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// FeatureNotSupported is returned for operations the configured protocol
// version cannot carry (queries need protocol 4).
var FeatureNotSupported = errors.New("Feature not supported")

// QueryParam tunes a query. A nil *QueryParam, like the zero value, asks
// every node, wants no acks, relays nothing and uses DefaultQueryTimeout.
type QueryParam struct {
	// Timeout is how long responses are collected; zero picks
	// DefaultQueryTimeout.
	Timeout time.Duration

	// Who answers: only the nodes named in FilterNodes, if any, and only
	// nodes whose value of each tag in FilterTags matches the regular
	// expression given for it (unanchored). All filters must pass.
	FilterNodes []string
	FilterTags  map[string]string

	// RequestAck has every node that passes the filters acknowledge the
	// query as soon as it arrives, and RelayFactor has that many other,
	// random members carry each ack and response back too.
	RequestAck  bool
	RelayFactor uint8
}

// DefaultQueryTimeout is long enough for a query to reach every member
// with high probability: gossip needs about log10(N+1) rounds (rounded up)
// to cover N members, and each round is given QueryTimeoutMult gossip
// intervals.
func (s *Serf) DefaultQueryTimeout() time.Duration {
	perRound := s.config.MemberlistConfig.GossipInterval * time.Duration(s.config.QueryTimeoutMult)
	return perRound * time.Duration(clusterScale(s.memberlist.NumMembers()))
}

// DefaultQueryParams returns parameters for an unfiltered query without
// acks and with the default timeout.
func (s *Serf) DefaultQueryParams() *QueryParam {
	return &QueryParam{Timeout: s.DefaultQueryTimeout()}
}

// encodeFilters renders the filters for the wire: one node filter holding
// every name, then one tag filter per tag.
func (c *wireCodec) encodeFilters(p *QueryParam) ([][]byte, error) {
	var filters [][]byte
	if len(p.FilterNodes) > 0 {
		f, err := c.encodeFilter(filterNodeType, p.FilterNodes)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	for tag, expr := range p.FilterTags {
		f, err := c.encodeFilter(filterTagType, &filterTag{Tag: tag, Expr: expr})
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	return filters, nil
}

// NodeResponse is one node's answer to a query.
type NodeResponse struct {
	From    string
	Payload []byte
}

// QueryResponse collects the acks and responses to a query we sent. Its
// channels are closed when the timeout passes or Close is called.
type QueryResponse struct {
	lTime    LamportTime
	id       uint32
	deadline time.Time

	ackCh  chan string // nil unless acks were requested
	respCh chan NodeResponse
	timer  *time.Timer // closes the collector at the deadline

	lock      sync.Mutex
	closed    bool
	acks      map[string]struct{} // who acked, to drop relayed duplicates
	responses map[string]struct{} // who responded, likewise
}

func newQueryResponse(capacity int, q *messageQuery) *QueryResponse {
	r := &QueryResponse{
		lTime:     q.LTime,
		id:        q.ID,
		deadline:  time.Now().Add(q.Timeout),
		respCh:    make(chan NodeResponse, capacity),
		responses: make(map[string]struct{}),
	}
	if q.ack() {
		r.ackCh = make(chan string, capacity)
		r.acks = make(map[string]struct{})
	}
	return r
}

// AckCh delivers the names of nodes that acknowledged the query. It is nil
// if no ack was requested.
func (r *QueryResponse) AckCh() <-chan string { return r.ackCh }

// ResponseCh delivers the responses.
func (r *QueryResponse) ResponseCh() <-chan NodeResponse { return r.respCh }

// Deadline is when collection stops.
func (r *QueryResponse) Deadline() time.Time { return r.deadline }

// Finished reports whether collection has stopped.
func (r *QueryResponse) Finished() bool {
	r.lock.Lock()
	defer r.lock.Unlock()
	return r.closed || time.Now().After(r.deadline)
}

// Close stops collection early and closes the channels. Safe to repeat.
func (r *QueryResponse) Close() {
	r.lock.Lock()
	wasOpen := !r.closed
	r.closed = true
	if wasOpen {
		// Under the lock: deliver never sends on a closed channel.
		close(r.respCh)
		if r.ackCh != nil {
			close(r.ackCh)
		}
	}
	r.lock.Unlock()
}

// deliver hands an ack or response to the caller, once per node.
func (r *QueryResponse) deliver(msg *messageQueryResponse, m serfMetrics) error {
	r.lock.Lock()
	defer r.lock.Unlock()
	if r.closed || time.Now().After(r.deadline) {
		return nil
	}
	if msg.ack() {
		_, dup := r.acks[msg.From]
		m.queryAck(dup)
		if dup || r.ackCh == nil {
			return nil
		}
		select {
		case r.ackCh <- msg.From:
			r.acks[msg.From] = struct{}{}
			return nil
		default:
			return errors.New("serf: Failed to deliver query ack, dropping")
		}
	}
	_, dup := r.responses[msg.From]
	m.queryResponse(dup)
	if dup {
		return nil
	}
	select {
	case r.respCh <- NodeResponse{From: msg.From, Payload: msg.Payload}:
		r.responses[msg.From] = struct{}{}
		return nil
	default:
		return errors.New("serf: Failed to deliver query response, dropping")
	}
}

// Query is a query delivered to this node as an event. Answer it with
// Respond before its deadline.
type Query struct {
	LTime   LamportTime
	Name    string
	Payload []byte

	serf        *Serf
	id          uint32
	addr        []byte // where the origin wants replies
	port        uint16
	sourceNode  string
	relayFactor uint8

	lock      sync.Mutex
	deadline  time.Time
	responded bool
}

func (q *Query) EventType() EventType { return EventQuery }
func (q *Query) String() string       { return fmt.Sprintf("query: %s", q.Name) }

// SourceNode is the name of the node that sent the query.
func (q *Query) SourceNode() string { return q.sourceNode }

// Deadline is the time after which a response is no longer accepted.
func (q *Query) Deadline() time.Time {
	q.lock.Lock()
	defer q.lock.Unlock()
	return q.deadline
}

// Respond sends buf to the query's origin (and its relays). Only one
// response per query is allowed.
func (q *Query) Respond(buf []byte) error {
	if err := q.respond(buf); err != nil {
		// Real Serf words every response error this way, key query or not.
		return fmt.Errorf("failed to respond to key query: %w", err)
	}
	return nil
}

func (q *Query) respond(buf []byte) error {
	if q.serf == nil {
		return errors.New("query was not received from a Serf instance")
	}
	resp := q.responseFor(buf)
	raw, err := q.serf.codec.encodeMessage(messageQueryResponseType, &resp)
	if err != nil {
		return fmt.Errorf("failed to format response: %v", err)
	}
	return q.respondEncoded(&resp, raw)
}

// responseFor builds this node's response message to q carrying buf.
func (q *Query) responseFor(buf []byte) messageQueryResponse {
	return messageQueryResponse{LTime: q.LTime, ID: q.id, From: q.serf.config.NodeName, Payload: buf}
}

// respondEncoded sends an already-encoded response (raw encodes resp),
// enforcing the size limit, the deadline and the one-response rule.
func (q *Query) respondEncoded(resp *messageQueryResponse, raw []byte) error {
	s := q.serf
	if len(raw) > s.config.QueryResponseSizeLimit {
		return fmt.Errorf("response exceeds limit of %d bytes", s.config.QueryResponseSizeLimit)
	}

	q.lock.Lock()
	defer q.lock.Unlock()
	if q.responded {
		return errors.New("response already sent")
	}
	if time.Now().After(q.deadline) {
		return errors.New("response is past the deadline")
	}
	if err := s.replyToOrigin(q.addr, q.port, q.sourceNode, q.relayFactor, resp, raw); err != nil {
		return err
	}
	q.responded = true
	return nil
}

// replyToOrigin sends an encoded ack or response straight to the query's
// origin and, if asked, through relayFactor random members too.
func (s *Serf) replyToOrigin(ip []byte, port uint16, node string, relayFactor uint8, resp *messageQueryResponse, raw []byte) error {
	dest := &net.UDPAddr{IP: ip, Port: int(port)}
	if err := s.memberlist.SendToAddress(memberlist.Address{Addr: dest.String(), Name: node}, raw); err != nil {
		return err
	}
	return s.relayResponse(relayFactor, dest, node, raw)
}

// relayResponse wraps raw in a relay header and sends it to up to
// relayFactor random alive members (protocol 5 capable, not us), which
// forward it to the origin. Tiny clusters skip relaying.
func (s *Serf) relayResponse(relayFactor uint8, dest *net.UDPAddr, destName string, raw []byte) error {
	if relayFactor == 0 {
		return nil
	}
	if s.numMembers() < int(relayFactor)+1 {
		return nil
	}
	relayed, err := s.codec.encodeRelay(dest, destName, raw)
	if err != nil {
		return fmt.Errorf("failed to format relayed response: %v", err)
	}
	if len(relayed) > s.config.QueryResponseSizeLimit {
		return fmt.Errorf("relayed response exceeds limit of %d bytes", s.config.QueryResponseSizeLimit)
	}
	// Only protocol 5 members understand the relay header.
	targets := s.randomPeers(int(relayFactor), func(m *memberState) bool {
		return m.Status == StatusAlive && m.ProtocolMax >= 5
	})
	for _, addr := range targets {
		if err := s.memberlist.SendToAddress(addr, relayed); err != nil {
			return fmt.Errorf("failed to send relay response: %v", err)
		}
	}
	return nil
}

// queryLTime lets the snapshotter record the query clock.
func (q *Query) queryLTime() LamportTime { return q.LTime }
