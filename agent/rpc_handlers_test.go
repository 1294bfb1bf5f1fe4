package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/client"
)

func TestRPCAuthFailuresLoggedThrottledAndLimited(t *testing.T) {
	n := startNode(t, "authlim", nil)
	addr := startRPC(t, n, RPCServerOptions{AuthKey: "sekret", AuthFailureDelay: 200 * time.Millisecond, MaxAuthFailures: 3})

	c := dialRaw(t, addr)
	c.handshake()
	for i := 1; i <= 3; i++ {
		start := time.Now()
		if e := c.call(client.AuthCommand, &client.AuthRequest{AuthKey: "sekreT"}); e != client.ErrInvalidAuthToken {
			t.Fatalf("attempt %d: %q", i, e)
		}
		if waited := time.Since(start); waited < 200*time.Millisecond {
			t.Errorf("attempt %d answered after %v, before the failure delay", i, waited)
		}
	}
	if !c.closedByServer() {
		t.Fatal("connection left open after the last allowed failure")
	}
	want := "[WARN] agent.ipc: Failed authentication attempt from " + c.conn.LocalAddr().String()
	if got := strings.Count(n.console.String(), want); got != 3 {
		t.Errorf("%d %q lines, want 3", got, want)
	}

	// The right token still works on a fresh connection.
	g := dialRaw(t, addr)
	g.handshake()
	if e := g.call(client.AuthCommand, &client.AuthRequest{AuthKey: "sekret"}); e != "" {
		t.Fatal(e)
	}
	if e := g.call(client.MembersCommand, nil); e != "" {
		t.Fatal(e)
	}
	var resp client.MembersResponse
	g.body(&resp)
}

func TestRPCPerConnectionStreamAndQueryCaps(t *testing.T) {
	n := startNode(t, "caps", nil)
	addr := startRPC(t, n, RPCServerOptions{MaxStreamsPerConn: 2, MaxQueriesPerConn: 1})
	c := dialRaw(t, addr)
	c.handshake()

	s1 := c.send(client.StreamCommand, &client.StreamRequest{Type: "user:a"})
	if h := c.header(); h.Seq != s1 || h.Error != "" {
		t.Fatalf("stream 1: %+v", h)
	}
	if e := c.call(client.StreamCommand, &client.StreamRequest{Type: "user:b"}); e != "" {
		t.Fatal(e)
	}
	if e := c.call(client.StreamCommand, &client.StreamRequest{Type: "user:c"}); e != fmt.Sprintf(errTooManyStreamsFmt, 2) {
		t.Fatalf("third stream: %q", e)
	}
	// The connection keeps working, and a stopped stream frees its slot.
	if e := c.call(client.StopCommand, &client.StopRequest{Stop: s1}); e != "" {
		t.Fatal(e)
	}
	if e := c.call(client.StreamCommand, &client.StreamRequest{Type: "user:c"}); e != "" {
		t.Fatalf("stream after stop: %q", e)
	}

	q1 := c.send(client.QueryCommand, &client.QueryRequest{Name: "q", Timeout: int64(500 * time.Millisecond)})
	if h := c.header(); h.Seq != q1 || h.Error != "" {
		t.Fatalf("query 1: %+v", h)
	}
	q2 := c.send(client.QueryCommand, &client.QueryRequest{Name: "q", Timeout: int64(500 * time.Millisecond)})
	// Until the refusal arrives, only query 1's records may come first.
	done := false
	for {
		h := c.header()
		if h.Seq == q2 {
			if want := fmt.Sprintf(errTooManyQueriesFmt, 1); h.Error != want {
				t.Fatalf("second query: %q", h.Error)
			}
			break
		}
		if h.Seq != q1 {
			t.Fatalf("unexpected %+v", h)
		}
		var rec client.QueryRecord
		c.body(&rec)
		done = done || rec.Type == client.QueryRecordDone
	}
	for !done {
		h := c.header()
		if h.Seq != q1 {
			t.Fatalf("unexpected %+v", h)
		}
		var rec client.QueryRecord
		c.body(&rec)
		done = rec.Type == client.QueryRecordDone
	}
	// Once query 1 is done its slot is free again (the slot is released
	// just after the done record is written).
	deadline := time.Now().Add(10 * time.Second)
	for {
		seq := c.send(client.QueryCommand, &client.QueryRequest{Name: "q", Timeout: int64(200 * time.Millisecond)})
		h := c.header()
		if h.Seq != seq {
			t.Fatalf("unexpected %+v", h)
		}
		if h.Error == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query slot never freed: %q", h.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
