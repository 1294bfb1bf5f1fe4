package serf

import (
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"sync"
	"time"
)

// queryState is the per-instance bookkeeping for queries: recently seen
// (LTime, ID) pairs and the collectors of queries we originated.
type queryState struct {
	// order keeps query delivery in acceptance order (see eventRing.order).
	order     sync.Mutex
	lock      sync.Mutex        // guards seen and collector
	seen      dedupRing[uint32] // query IDs by query-clock time
	collector map[LamportTime]*QueryResponse
}

func newQueryState(size int) queryState {
	seen := newDedupRing(size, func(a, b uint32) bool { return a == b })
	seen.limit(maxQueriesPerLTime, 0, nil)
	return queryState{seen: seen, collector: make(map[LamportTime]*QueryResponse)}
}

// closeAll closes every open collector; used at shutdown.
func (q *queryState) closeAll() {
	q.lock.Lock()
	open := q.collector
	q.collector = make(map[LamportTime]*QueryResponse)
	q.lock.Unlock()
	for _, r := range open {
		if r.timer != nil {
			r.timer.Stop()
		}
		r.Close()
	}
}

// Query sends a query to the cluster and returns the collector of its acks
// and responses. The query is also processed locally, so this node may
// answer it too.
func (s *Serf) Query(name string, payload []byte, params *QueryParam) (*QueryResponse, error) {
	if s.config.ProtocolVersion < 4 {
		return nil, FeatureNotSupported
	}
	if params == nil {
		params = s.DefaultQueryParams()
	} else if params.Timeout == 0 {
		p := *params
		p.Timeout = s.DefaultQueryTimeout()
		params = &p
	}

	filters, err := s.codec.encodeFilters(params)
	if err != nil {
		return nil, fmt.Errorf("Failed to format filters: %v", err)
	}
	msg := messageQuery{
		LTime:   s.queryClock.Time(),
		ID:      uint32(rand.Int31()),
		Name:    name,
		Payload: payload,
		Filters: filters,
		Timeout: params.Timeout,
	}
	// Answers come back to us directly, or through RelayFactor others.
	local := s.memberlist.LocalNode()
	msg.SourceNode, msg.Addr, msg.Port = local.Name, local.Addr, local.Port
	msg.RelayFactor = params.RelayFactor
	if params.RequestAck {
		msg.Flags |= queryFlagAck
	}
	raw, err := s.codec.encodeMessage(messageQueryType, &msg)
	if err != nil {
		return nil, err
	}
	if len(raw) > s.config.QuerySizeLimit {
		return nil, fmt.Errorf("query exceeds limit of %d bytes", s.config.QuerySizeLimit)
	}

	resp := newQueryResponse(s.memberlist.NumMembers(), &msg)
	s.registerCollector(params.Timeout, resp)
	s.handleQuery(&msg)
	s.queryBroadcasts.QueueBroadcast(&broadcast{msg: raw})
	s.kickRelief()
	return resp, nil
}

// registerCollector indexes resp by LTime until its timeout, then closes it.
func (s *Serf) registerCollector(timeout time.Duration, resp *QueryResponse) {
	s.queries.lock.Lock()
	defer s.queries.lock.Unlock()
	s.queries.collector[resp.lTime] = resp

	// A timer, not a goroutine, so thousands of outstanding queries cost
	// nothing while they wait. Set under the lock so closeAll sees it.
	resp.timer = time.AfterFunc(timeout, func() {
		s.queries.lock.Lock()
		if s.queries.collector[resp.lTime] == resp {
			delete(s.queries.collector, resp.lTime)
		}
		s.queries.lock.Unlock()
		resp.Close()
	})
}

// handleQuery processes a query (ours or a peer's): de-duplicate, filter,
// ack and deliver. It reports whether to rebroadcast the query.
func (s *Serf) handleQuery(msg *messageQuery) bool {
	s.queryClock.Witness(msg.LTime)

	qs := &s.queries
	qs.order.Lock()
	defer qs.order.Unlock()
	qs.lock.Lock()
	cur := s.queryClock.Time()
	verdict := qs.seen.admit(msg.LTime, cur, msg.ID)
	qs.lock.Unlock()
	switch verdict {
	case outOfWindow:
		s.logger.Printf("[WARN] serf: received old query %s from time %d (current: %d)", msg.Name, msg.LTime, cur)
		return false
	case slotFull:
		s.limits.crowdedQueries.drop(s.logger, "[WARN] serf: Too many queries at time %d, dropping (limit %d per time)", msg.LTime, maxQueriesPerLTime)
		return false
	case admitted:
	default:
		return false
	}

	s.metrics.query(msg.Name)
	again := !msg.noBroadcast()
	if !s.queryMatches(msg.Filters) {
		// Not for us, but others may match: keep it moving.
		return again
	}

	if msg.ack() {
		ack := messageQueryResponse{LTime: msg.LTime, ID: msg.ID, From: s.config.NodeName, Flags: queryFlagAck}
		raw, err := s.codec.encodeMessage(messageQueryResponseType, &ack)
		if err != nil {
			s.logger.Printf("[ERR] serf: failed to format ack: %v", err)
		} else {
			addr, port, node, relay := msg.Addr, msg.Port, msg.SourceNode, msg.RelayFactor
			s.sendAck(func() {
				if err := s.replyToOrigin(addr, port, node, relay, &ack, raw); err != nil {
					s.logger.Printf("[ERR] serf: failed to send ack: %v", err)
				}
			})
		}
	}

	s.emit(&Query{
		LTime:       msg.LTime,
		Name:        msg.Name,
		Payload:     msg.Payload,
		serf:        s,
		id:          msg.ID,
		addr:        msg.Addr,
		port:        msg.Port,
		sourceNode:  msg.SourceNode,
		relayFactor: msg.RelayFactor,
		deadline:    time.Now().Add(msg.Timeout),
	})
	return again
}

// queryMatches applies the query's filters to this node; all must pass.
// A filter we cannot read fails, so a garbled query is never answered.
func (s *Serf) queryMatches(filters [][]byte) bool {
	for _, f := range filters {
		if !s.filterPasses(f) {
			return false
		}
	}
	return true
}

// filterPasses applies one encoded filter (type byte, then msgpack).
func (s *Serf) filterPasses(f []byte) bool {
	if len(f) == 0 {
		s.logger.Printf("[WARN] serf: query has unrecognized filter type: %d", 0)
		return false
	}
	body := f[1:]
	switch filterType(f[0]) {
	case filterNodeType:
		var names []string
		if err := s.codec.decode(body, &names); err != nil {
			s.logger.Printf("[WARN] serf: failed to decode filterNodeType: %v", err)
			return false
		}
		return slices.Contains(names, s.config.NodeName)
	case filterTagType:
		var ft filterTag
		if err := s.codec.decode(body, &ft); err != nil {
			s.logger.Printf("[WARN] serf: failed to decode filterTagType: %v", err)
			return false
		}
		matched, err := regexp.MatchString(ft.Expr, s.localTags()[ft.Tag])
		if err != nil {
			s.logger.Printf("[WARN] serf: failed to compile filter regex (%s): %v", ft.Expr, err)
			return false
		}
		return matched
	}
	s.logger.Printf("[WARN] serf: query has unrecognized filter type: %d", f[0])
	return false
}

// handleQueryResponse routes an ack or response to the collector of the
// query we originated.
func (s *Serf) handleQueryResponse(msg *messageQueryResponse) {
	s.queries.lock.Lock()
	resp, ok := s.queries.collector[msg.LTime]
	s.queries.lock.Unlock()
	if !ok {
		s.logger.Printf("[WARN] serf: reply for non-running query (LTime: %d, ID: %d) From: %s",
			msg.LTime, msg.ID, msg.From)
		return
	}
	if resp.id != msg.ID {
		s.logger.Printf("[WARN] serf: query reply ID mismatch (Local: %d, Response: %d)", resp.id, msg.ID)
		return
	}
	if err := resp.deliver(msg, s.metrics); err != nil {
		s.logger.Printf("[WARN] %v", err)
	}
}
