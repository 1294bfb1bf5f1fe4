package serf

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// respondAll answers every query node i receives with its own name, and
// records the query names it saw.
func (c *testCluster) respondAll(i int) *queryLog {
	ql := &queryLog{}
	node := c.nodes[i]
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case e := <-node.events:
				q, ok := e.(*Query)
				if !ok {
					continue
				}
				ql.add(q)
				if q.Name == "silent" {
					continue
				}
				if err := q.Respond([]byte(node.name)); err != nil {
					ql.fail(err)
				}
			case <-c.stopCh:
				return
			}
		}
	}()
	return ql
}

type queryLog struct {
	mu      sync.Mutex
	names   []string
	queries []*Query
	errs    []error
}

func (l *queryLog) add(q *Query) {
	l.mu.Lock()
	l.names = append(l.names, q.Name)
	l.queries = append(l.queries, q)
	l.mu.Unlock()
}

func (l *queryLog) fail(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *queryLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.names...)
}

// gather reads a query's channels until they close.
func gather(t *testing.T, resp *QueryResponse) (acks, froms []string) {
	t.Helper()
	ackCh, respCh := resp.AckCh(), resp.ResponseCh()
	timeout := time.After(10 * time.Second)
	for ackCh != nil || respCh != nil {
		select {
		case a, ok := <-ackCh:
			if !ok {
				ackCh = nil
				continue
			}
			acks = append(acks, a)
		case r, ok := <-respCh:
			if !ok {
				respCh = nil
				continue
			}
			if string(r.Payload) != r.From {
				t.Errorf("response from %s carries %q", r.From, r.Payload)
			}
			froms = append(froms, r.From)
		case <-timeout:
			t.Fatal("query channels never closed")
		}
	}
	sort.Strings(acks)
	sort.Strings(froms)
	return acks, froms
}

func newQueryCluster(t *testing.T) *testCluster {
	c := newTestCluster(t, 3, nil)
	c.nodes[1].conf.Tags = map[string]string{"role": "web"}
	c.nodes[2].conf.Tags = map[string]string{"role": "db"}
	for i := range c.nodes {
		c.respondAll(i)
	}
	c.startAll()
	return c
}

func TestQueryAcksAndResponses(t *testing.T) {
	c := newQueryCluster(t)
	resp, err := c.nodes[0].serf.Query("hello", []byte("x"), &QueryParam{RequestAck: true, RelayFactor: 2, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if cap(resp.ResponseCh()) != 3 {
		t.Errorf("response channel capacity %d, want member count 3", cap(resp.ResponseCh()))
	}
	acks, froms := gather(t, resp)
	want := "n0,n1,n2"
	if strings.Join(acks, ",") != want || strings.Join(froms, ",") != want {
		t.Fatalf("acks %v responses %v", acks, froms)
	}
	if !resp.Finished() {
		t.Fatal("not finished after close")
	}
}

func TestQueryFilters(t *testing.T) {
	c := newQueryCluster(t)
	for _, tc := range []struct {
		p    QueryParam
		want string
	}{
		{QueryParam{FilterTags: map[string]string{"role": "we"}}, "n1"}, // unanchored
		{QueryParam{FilterTags: map[string]string{"role": "^(web|db)$"}}, "n1,n2"},
		{QueryParam{FilterNodes: []string{"n2", "n0"}}, "n0,n2"},
		{QueryParam{FilterNodes: []string{"n1"}, FilterTags: map[string]string{"role": "db"}}, ""},
		{QueryParam{FilterTags: map[string]string{"missing": "^$"}}, "n0,n1,n2"}, // a missing tag is ""
	} {
		p := tc.p
		p.Timeout = 400 * time.Millisecond
		resp, err := c.nodes[0].serf.Query("filtered", nil, &p)
		if err != nil {
			t.Fatal(err)
		}
		if resp.AckCh() != nil {
			t.Fatal("ack channel without RequestAck")
		}
		_, froms := gather(t, resp)
		if got := strings.Join(froms, ","); got != tc.want {
			t.Errorf("filters %+v: got %q want %q", tc.p, got, tc.want)
		}
	}
}

func TestQueryRespondErrors(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
	if _, err := s.Query("q", nil, &QueryParam{Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var q *Query
	waitUntil(t, 5*time.Second, "query event", func() bool {
		select {
		case e := <-c.nodes[0].events:
			q, _ = e.(*Query)
		default:
		}
		return q != nil
	})
	if q.SourceNode() != "n0" || q.String() != "query: q" || q.EventType() != EventQuery {
		t.Fatalf("query %+v", q)
	}
	err := q.Respond(make([]byte, 1100))
	if err == nil || err.Error() != "failed to respond to key query: response exceeds limit of 1024 bytes" {
		t.Fatalf("big response: %v", err)
	}
	if err := q.Respond([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	err = q.Respond([]byte("again"))
	if err == nil || err.Error() != "failed to respond to key query: response already sent" {
		t.Fatalf("second response: %v", err)
	}

	if _, err := s.Query("late", nil, &QueryParam{Timeout: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var late *Query
	waitUntil(t, 5*time.Second, "late query event", func() bool {
		select {
		case e := <-c.nodes[0].events:
			late, _ = e.(*Query)
		default:
		}
		return late != nil
	})
	waitUntil(t, 5*time.Second, "the late query's deadline", func() bool { return time.Now().After(late.Deadline()) })
	err = late.Respond(nil)
	if err == nil || err.Error() != "failed to respond to key query: response is past the deadline" {
		t.Fatalf("late response: %v", err)
	}
}

func TestQueryLimitsAndProtocol(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	c.nodes[1].conf.ProtocolVersion = 3
	s := c.start(0)
	_, err := s.Query("q", make([]byte, 1100), nil)
	if err == nil || err.Error() != "query exceeds limit of 1024 bytes" {
		t.Fatalf("big query: %v", err)
	}
	old := c.start(1)
	if _, err := old.Query("q", nil, nil); !errors.Is(err, FeatureNotSupported) || err.Error() != "Feature not supported" {
		t.Fatalf("protocol 3 query: %v", err)
	}
}

func TestInternalPingQueryIsHidden(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	logs := []*queryLog{c.respondAll(0), c.respondAll(1)}
	c.startAll()
	resp, err := c.nodes[0].serf.Query(InternalQueryPrefix+"ping", nil, &QueryParam{RequestAck: true, Timeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	acks, froms := gather(t, resp)
	if strings.Join(acks, ",") != "n0,n1" || len(froms) != 0 {
		t.Fatalf("acks %v responses %v", acks, froms)
	}
	for i, l := range logs {
		if len(l.seen()) != 0 {
			t.Fatalf("node %d saw internal query: %v", i, l.seen())
		}
	}
}

func TestDefaultQueryTimeout(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
	// One member: 10ms × 16 × ceil(log10(2)) = 160ms.
	if got := s.DefaultQueryTimeout(); got != 160*time.Millisecond {
		t.Fatalf("got %v", got)
	}
	if p := s.DefaultQueryParams(); p.Timeout != 160*time.Millisecond || p.RequestAck || p.FilterNodes != nil {
		t.Fatalf("params %+v", p)
	}
}

func BenchmarkQueryFanIn(b *testing.B) {
	const responders = 16
	c := newTestCluster(b, responders, func(conf *Config) {
		conf.Logger.SetOutput(discard{})
		conf.MemberlistConfig.Logger.SetOutput(discard{})
	})
	for i := range c.nodes {
		c.respondAll(i)
	}
	c.startAll()
	s := c.nodes[0].serf
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := s.Query("bench", nil, &QueryParam{Timeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for range resp.ResponseCh() {
			got++
			if got == responders {
				resp.Close()
			}
		}
		if got < responders {
			b.Fatalf("only %d responses", got)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
