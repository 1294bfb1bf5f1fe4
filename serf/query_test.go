package serf_test

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// respondAll answers every query member m receives with its own name, and
// records the query names it saw. Queries called "silent" get no answer.
func respondAll(m *serftest.Member) *queryLog {
	ql := &queryLog{}
	name := m.Name
	m.Events.Handle(func(e serf.Event) {
		q, ok := e.(*serf.Query)
		if !ok {
			return
		}
		ql.add(q)
		if q.Name == "silent" {
			return
		}
		if err := q.Respond([]byte(name)); err != nil {
			ql.fail(err)
		}
	})
	return ql
}

type queryLog struct {
	mu      sync.Mutex
	names   []string
	queries []*serf.Query
	errs    []error
}

func (l *queryLog) add(q *serf.Query) {
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
func gather(t *testing.T, resp *serf.QueryResponse) (acks, froms []string) {
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

func newQueryCluster(t *testing.T) *serftest.Cluster {
	c := serftest.NewCluster(t, 3, func(i int, conf *serf.Config) {
		switch i {
		case 1:
			conf.Tags = map[string]string{"role": "web"}
		case 2:
			conf.Tags = map[string]string{"role": "db"}
		}
	})
	for _, m := range c.Members {
		respondAll(m)
	}
	c.JoinAll()
	return c
}

func TestQueryAcksAndResponses(t *testing.T) {
	c := newQueryCluster(t)
	resp, err := c.Members[0].Serf.Query("hello", []byte("x"), &serf.QueryParam{RequestAck: true, RelayFactor: 2, Timeout: 500 * time.Millisecond})
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
		p    serf.QueryParam
		want string
	}{
		{serf.QueryParam{FilterTags: map[string]string{"role": "we"}}, "n1"}, // unanchored
		{serf.QueryParam{FilterTags: map[string]string{"role": "^(web|db)$"}}, "n1,n2"},
		{serf.QueryParam{FilterNodes: []string{"n2", "n0"}}, "n0,n2"},
		{serf.QueryParam{FilterNodes: []string{"n1"}, FilterTags: map[string]string{"role": "db"}}, ""},
		{serf.QueryParam{FilterTags: map[string]string{"missing": "^$"}}, "n0,n1,n2"}, // a missing tag is ""
	} {
		p := tc.p
		p.Timeout = 400 * time.Millisecond
		resp, err := c.Members[0].Serf.Query("filtered", nil, &p)
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

// queryNamed waits for the query called name among m's events.
func queryNamed(t *testing.T, m *serftest.Member, name string) *serf.Query {
	t.Helper()
	var q *serf.Query
	serftest.Eventually(t, 5*time.Second, func() error {
		for _, e := range m.Events.All() {
			if got, ok := e.(*serf.Query); ok && got.Name == name {
				q = got
				return nil
			}
		}
		return fmt.Errorf("no query %q among %s's events", name, m.Name)
	})
	return q
}

func TestQueryRespondErrors(t *testing.T) {
	m := serftest.NewCluster(t, 1, nil).Members[0]
	s := m.Serf
	if _, err := s.Query("q", nil, &serf.QueryParam{Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	q := queryNamed(t, m, "q")
	if q.SourceNode() != "n0" || q.String() != "query: q" || q.EventType() != serf.EventQuery {
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

	if _, err := s.Query("late", nil, &serf.QueryParam{Timeout: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	late := queryNamed(t, m, "late")
	serftest.Eventually(t, 5*time.Second, func() error {
		if time.Now().Before(late.Deadline()) {
			return errors.New("the late query's deadline has not passed")
		}
		return nil
	})
	err = late.Respond(nil)
	if err == nil || err.Error() != "failed to respond to key query: response is past the deadline" {
		t.Fatalf("late response: %v", err)
	}
}

func TestQueryLimitsAndProtocol(t *testing.T) {
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		if i == 1 {
			conf.ProtocolVersion = 3
		}
	})
	s := c.Members[0].Serf
	_, err := s.Query("q", make([]byte, 1100), nil)
	if err == nil || err.Error() != "query exceeds limit of 1024 bytes" {
		t.Fatalf("big query: %v", err)
	}
	old := c.Members[1].Serf
	if _, err := old.Query("q", nil, nil); !errors.Is(err, serf.FeatureNotSupported) || err.Error() != "Feature not supported" {
		t.Fatalf("protocol 3 query: %v", err)
	}
}

func TestInternalPingQueryIsHidden(t *testing.T) {
	c := serftest.NewCluster(t, 2, nil)
	logs := []*queryLog{respondAll(c.Members[0]), respondAll(c.Members[1])}
	c.JoinAll()
	resp, err := c.Members[0].Serf.Query(serf.InternalQueryPrefix+"ping", nil, &serf.QueryParam{RequestAck: true, Timeout: 400 * time.Millisecond})
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
	s := serftest.NewCluster(t, 1, nil).Members[0].Serf
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
	c := serftest.NewCluster(b, responders, func(_ int, conf *serf.Config) {
		conf.Logger.SetOutput(io.Discard)
	})
	for _, m := range c.Members {
		respondAll(m)
	}
	c.JoinAll()
	s := c.Members[0].Serf
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := s.Query("bench", nil, &serf.QueryParam{Timeout: 5 * time.Second})
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
