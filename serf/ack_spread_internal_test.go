package serf

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// spreadTestSerf is just enough of a Serf for sendAck: a member table of
// n and a gossip interval.
func spreadTestSerf(n int, gossip time.Duration) *Serf {
	s := &Serf{
		config:     &Config{MemberlistConfig: &memberlist.Config{GossipInterval: gossip}},
		members:    map[string]*memberState{},
		shutdownCh: make(chan struct{}),
	}
	for i := 0; i < n; i++ {
		s.members[fmt.Sprint(i)] = &memberState{}
	}
	return s
}

// Up to 128 members the ack goes out before sendAck returns, as in Serf.
func TestSendAckSmallClusterAcksAtOnce(t *testing.T) {
	s := spreadTestSerf(ackSpreadFrom, time.Hour)
	sent := false
	s.sendAck(func() { sent = true })
	if !sent {
		t.Fatal("the ack of a 128-member cluster was not sent at once")
	}
}

// Above 128 the ack waits in a background task, which shutdown ends
// without sending: with an hour-long gossip interval it cannot be due.
func TestSendAckBigClusterWaitsAndShutdownCancels(t *testing.T) {
	s := spreadTestSerf(ackSpreadFrom+1, time.Hour)
	var sent atomic.Bool
	s.sendAck(func() { sent.Store(true) })
	if sent.Load() {
		t.Fatal("the ack of a 129-member cluster was sent at once")
	}
	close(s.shutdownCh)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not end the waiting ack")
	}
	if sent.Load() {
		t.Fatal("a waiting ack was sent after shutdown")
	}
}

// A due ack is sent: 1,024 members and a 1 ms interval make a 2 ms window.
func TestSendAckBigClusterSendsWithinTheWindow(t *testing.T) {
	s := spreadTestSerf(2*ackSpreadPerInterval, time.Millisecond)
	sent := make(chan struct{})
	s.sendAck(func() { close(sent) })
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("the spread ack was never sent")
	}
	close(s.shutdownCh)
	s.wg.Wait()
}
