package serf

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// copiesTestStart is an arbitrary clock reading for the filter's window.
var copiesTestStart = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

func aliveBytes(node string) []byte   { return append([]byte{mlAliveMsg}, "alive "+node...) }
func suspectBytes(node string) []byte { return append([]byte{mlSuspectMsg}, "suspect "+node...) }
func userBytes(body string) []byte    { return append([]byte{mlUserMsg}, body...) }
func pingBytes(seq byte) []byte       { return []byte{0, 0x81, 0xa5, 'S', 'e', 'q', 'N', 'o', seq} }
func compound(parts ...[]byte) []byte { return appendCompound(nil, parts) }

// The second copy of each gossip message is dropped; pings, acks and
// other messages memberlist answers are always handed on.
func TestGossipCopiesDropsRepeatedGossipOnly(t *testing.T) {
	c := newGossipCopies(30 * time.Second)
	now := copiesTestStart
	for _, msg := range [][]byte{aliveBytes("a"), suspectBytes("a"), {mlDeadMsg, 1}, userBytes("join b")} {
		if got := c.filter(msg, now); !bytes.Equal(got, msg) {
			t.Fatalf("first copy of %q: got %q", msg, got)
		}
		if got := c.filter(bytes.Clone(msg), now); got != nil {
			t.Fatalf("second copy of %q handed on", msg)
		}
	}
	ping := pingBytes(7)
	for range 2 {
		if got := c.filter(ping, now); !bytes.Equal(got, ping) {
			t.Fatalf("ping: got %q", got)
		}
	}
	if got := c.dropped.Load(); got != 4 {
		t.Fatalf("dropped %d, want 4", got)
	}
}

// In a compound message only the repeated gossip parts go; the rest keep
// their order, and a compound left with nothing is not handed on.
func TestGossipCopiesFiltersCompoundParts(t *testing.T) {
	c := newGossipCopies(0)
	now := copiesTestStart
	first := compound(pingBytes(1), aliveBytes("a"), userBytes("join a"))
	if got := c.filter(first, now); !bytes.Equal(got, first) {
		t.Fatalf("new compound changed: %q", got)
	}
	second := compound(aliveBytes("a"), pingBytes(2), aliveBytes("b"), userBytes("join a"))
	want := compound(pingBytes(2), aliveBytes("b"))
	if got := c.filter(second, now); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := c.filter(compound(aliveBytes("b"), userBytes("join a")), now); got != nil {
		t.Fatalf("compound of copies handed on: %q", got)
	}
}

// A label stays in front of what is handed on, and only a copy behind the
// same label is one; a CRC is checked and, when parts are dropped, left
// off; what cannot be read goes on unchanged.
func TestGossipCopiesHeaders(t *testing.T) {
	c := newGossipCopies(0)
	now := copiesTestStart
	label := []byte{mlHasLabelMsg, 3, 'd', 'c', '1'}
	c.filter(aliveBytes("a"), now)
	c.filter(append(bytes.Clone(label), aliveBytes("a")...), now)

	labelled := append(bytes.Clone(label), compound(aliveBytes("a"), pingBytes(1))...)
	if got, want := c.filter(labelled, now), append(bytes.Clone(label), compound(pingBytes(1))...); !bytes.Equal(got, want) {
		t.Fatalf("labelled: got %q, want %q", got, want)
	}
	if got := c.filter(withCRC(aliveBytes("a")), now); got != nil {
		t.Fatalf("copy behind a CRC handed on: %q", got)
	}
	crcFramed := withCRC(compound(aliveBytes("a"), pingBytes(2)))
	if got, want := c.filter(crcFramed, now), compound(pingBytes(2)); !bytes.Equal(got, want) {
		t.Fatalf("with CRC: got %q, want %q", got, want)
	}
	otherLabel := append([]byte{mlHasLabelMsg, 3, 'd', 'c', '2'}, aliveBytes("a")...)
	if got := c.filter(otherLabel, now); !bytes.Equal(got, otherLabel) {
		t.Fatalf("copy behind another label dropped: %q", got)
	}
	badCRC := withCRC(aliveBytes("a"))
	badCRC[1] ^= 0xff
	truncated := compound(aliveBytes("a"), aliveBytes("a"))
	truncated = truncated[:len(truncated)-1]
	for name, p := range map[string][]byte{"bad CRC": badCRC, "truncated compound": truncated, "truncated label": {mlHasLabelMsg, 9, 'x'}, "empty": {}} {
		if got := c.filter(p, now); !bytes.Equal(got, p) {
			t.Fatalf("%s: got %q", name, got)
		}
	}
}

// A message is remembered for one to two windows, and forgotten at once
// after forget (memberlist dropped received gossip).
func TestGossipCopiesWindowAndForget(t *testing.T) {
	c := newGossipCopies(8 * time.Second) // a window of 2 s
	if c.handedOn.window != 2*time.Second {
		t.Fatalf("window %v, want a quarter of GossipToTheDeadTime", c.handedOn.window)
	}
	msg := aliveBytes("a")
	now := copiesTestStart
	c.filter(msg, now)
	if c.filter(msg, now.Add(3*time.Second)) != nil {
		t.Fatal("copy within two windows handed on")
	}
	if c.filter(msg, now.Add(5*time.Second)) == nil {
		t.Fatal("copy after two windows dropped")
	}
	c.forget()
	if c.filter(msg, now.Add(5*time.Second)) == nil {
		t.Fatal("copy after forget dropped")
	}
	if newGossipCopies(time.Hour).handedOn.window != gossipCopyWindow {
		t.Fatal("window not capped at gossipCopyWindow")
	}
}

// memberlist's log line for a full queue makes the transport forget.
func TestMemberlistQueueFullLogForgetsCopies(t *testing.T) {
	s := &Serf{gossipCopies: newGossipCopies(0)}
	msg := aliveBytes("a")
	s.gossipCopies.filter(msg, copiesTestStart)
	s.watchMemberlistLog("2026/12/07 03:00:00 [WARN] " + handlerQueueFullLine + " (4) from=127.0.0.1:7946\n")
	if s.gossipCopies.filter(msg, copiesTestStart) == nil {
		t.Fatal("copy of a message memberlist may have dropped was dropped")
	}
}

// Over a real socket: the transport hands memberlist one copy of a gossip
// datagram and every copy of a ping.
func TestNetTransportDropsGossipCopies(t *testing.T) {
	tr, _ := testTransportWith(t, &strings.Builder{}, wireOptions{copies: newGossipCopies(0)})
	addr := tr.udp.LocalAddr().String()
	send := func(p []byte) {
		t.Helper()
		if _, err := tr.WriteTo(p, addr); err != nil {
			t.Fatal(err)
		}
	}
	receive := func() []byte {
		t.Helper()
		return receivePacket(t, tr, "the packet")
	}
	gossip := compound(aliveBytes("a"), userBytes("join a"))
	send(gossip)
	if got := receive(); !bytes.Equal(got, gossip) {
		t.Fatalf("got %q", got)
	}
	send(gossip) // dropped whole
	send(pingBytes(1))
	if got := receive(); !bytes.Equal(got, pingBytes(1)) {
		t.Fatalf("after a copy: got %q, want the ping", got)
	}
	send(compound(pingBytes(2), aliveBytes("a")))
	if got, want := receive(), compound(pingBytes(2)); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
