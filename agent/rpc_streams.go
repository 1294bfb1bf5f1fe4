package agent

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/logutils"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
)

// streamBuffer is how many records a stream may have queued; beyond it
// records are dropped for that client only.
const streamBuffer = 512

// eventStream forwards matching events to one client (`stream` command).
// HandleEvent never blocks; a goroutine owned by the connection writes.
type eventStream struct {
	c       *rpcConn
	filters []EventFilter
	seq     uint64
	ch      chan serf.Event
	ready   chan struct{} // closed once the ack is on the wire
	quit    chan struct{}
	once    sync.Once
}

func newEventStream(c *rpcConn, filters []EventFilter, seq uint64) *eventStream {
	es := &eventStream{
		c:       c,
		filters: filters,
		seq:     seq,
		ch:      make(chan serf.Event, streamBuffer),
		ready:   make(chan struct{}),
		quit:    make(chan struct{}),
	}
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		es.run()
	}()
	return es
}

// HandleEvent implements EventHandler.
func (es *eventStream) HandleEvent(e serf.Event) {
	if !matchesAny(es.filters, e) {
		return
	}
	select {
	case es.ch <- e:
	default:
		es.c.srv.logger.Printf("[WARN] agent.ipc: Dropping event to %v", es.c)
	}
}

func (es *eventStream) stop() { es.once.Do(func() { close(es.quit) }) }

func (es *eventStream) run() {
	if !waitReady(es.ready, es.quit) {
		return
	}
	hdr := client.ResponseHeader{Seq: es.seq}
	for {
		select {
		case <-es.quit:
			return
		case e := <-es.ch:
			var rec interface{}
			switch ev := e.(type) {
			case serf.MemberEvent:
				members := make([]client.Member, 0, len(ev.Members))
				for _, m := range ev.Members {
					members = append(members, rpcMember(m))
				}
				rec = &client.MemberEventRecord{Event: ev.String(), Members: members}
			case serf.UserEvent:
				rec = &client.UserEventRecord{Event: "user", LTime: uint64(ev.LTime),
					Name: ev.Name, Payload: ev.Payload, Coalesce: ev.Coalesce}
			case *serf.Query:
				rec = &client.QueryEventRecord{Event: "query", ID: es.c.registerQuery(ev),
					LTime: uint64(ev.LTime), Name: ev.Name, Payload: ev.Payload}
			default:
				continue
			}
			if err := es.c.send(&hdr, rec); err != nil {
				es.c.srv.logger.Printf("[ERR] agent.ipc: Failed to stream event to %v: %v", es.c, err)
				_ = es.c.conn.Close()
				return
			}
		}
	}
}

// waitReady holds a stream's sender until its ack has been written, so
// records queued right after registration never overtake the ack. It
// reports false if the stream was stopped first.
func waitReady(ready, quit <-chan struct{}) bool {
	select {
	case <-ready:
		return true
	case <-quit:
		return false
	}
}

// logStream forwards log lines at or above a level to one client
// (`monitor` command).
type logStream struct {
	c       *rpcConn
	filter  *logutils.LevelFilter
	seq     uint64
	ch      chan string
	dropped chan struct{} // 1-slot signal: lines were dropped
	// dropping is set at the first drop and cleared once the queue has
	// drained, so a stuck reader earns one warning per episode. (The
	// warning is itself a log line headed for this full queue; warning per
	// drop would feed on itself.)
	dropping atomic.Bool
	ready    chan struct{} // closed once the ack is on the wire
	quit     chan struct{}
	once     sync.Once
}

func newLogStream(c *rpcConn, level string, seq uint64) *logStream {
	ls := &logStream{
		c:       c,
		filter:  newLevelFilter(level, nil),
		seq:     seq,
		ch:      make(chan string, streamBuffer),
		dropped: make(chan struct{}, 1),
		ready:   make(chan struct{}),
		quit:    make(chan struct{}),
	}
	// The sender may sit in a blocked socket write; drop warnings come
	// from a separate goroutine so they are not held up behind it.
	c.workers.Add(2)
	go func() {
		defer c.workers.Done()
		ls.run()
	}()
	go func() {
		defer c.workers.Done()
		ls.warnDrops()
	}()
	return ls
}

func (ls *logStream) warnDrops() {
	for {
		select {
		case <-ls.quit:
			return
		case <-ls.dropped:
			ls.c.srv.logger.Printf("[WARN] agent.ipc: Dropping logs to %v", ls.c)
		}
	}
}

// HandleLog implements LogHandler. It runs under the log writer's lock, so
// it cannot log itself: a drop is only flagged, and the stream's goroutine
// writes the warning.
func (ls *logStream) HandleLog(line string) {
	if !ls.filter.Check(levelProbe([]byte(line))) {
		return
	}
	select {
	case ls.ch <- line:
	default:
		if !ls.dropping.Swap(true) {
			select {
			case ls.dropped <- struct{}{}:
			default:
			}
		}
	}
}

func (ls *logStream) stop() { ls.once.Do(func() { close(ls.quit) }) }

func (ls *logStream) run() {
	if !waitReady(ls.ready, ls.quit) {
		return
	}
	hdr := client.ResponseHeader{Seq: ls.seq}
	for {
		select {
		case <-ls.quit:
			return
		case line := <-ls.ch:
			if err := ls.c.send(&hdr, &client.LogRecord{Log: line}); err != nil {
				ls.c.srv.logger.Printf("[ERR] agent.ipc: Failed to stream log to %v: %v", ls.c, err)
				_ = ls.c.conn.Close()
				return
			}
			if len(ls.ch) == 0 {
				ls.dropping.Store(false)
			}
		}
	}
}

// streamQuery relays acks and responses of a query the client started and
// ends with a "done" record at the deadline.
func (c *rpcConn) streamQuery(seq uint64, resp *serf.QueryResponse) {
	hdr := client.ResponseHeader{Seq: seq}
	deadline := time.NewTimer(time.Until(resp.Deadline()))
	defer deadline.Stop()
	acks, responses := resp.AckCh(), resp.ResponseCh()
	for {
		var rec client.QueryRecord
		select {
		case <-c.closedCh:
			return
		case from, ok := <-acks:
			if !ok {
				acks = nil
				continue
			}
			rec = client.QueryRecord{Type: client.QueryRecordAck, From: from}
		case r, ok := <-responses:
			if !ok {
				responses = nil
				continue
			}
			rec = client.QueryRecord{Type: client.QueryRecordResponse, From: r.From, Payload: r.Payload}
		case <-deadline.C:
			if err := c.send(&hdr, &client.QueryRecord{Type: client.QueryRecordDone}); err != nil {
				c.srv.logger.Printf("[ERR] agent.ipc: Failed to stream query end to %v: %v", c, err)
			}
			return
		}
		if err := c.send(&hdr, &rec); err != nil {
			c.srv.logger.Printf("[ERR] agent.ipc: Failed to stream %s to %v: %v", rec.Type, c, err)
			return
		}
	}
}
