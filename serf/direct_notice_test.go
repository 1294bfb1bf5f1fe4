package serf

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// suspectMsg encodes memberlist's suspect message as memberlist does.
func suspectMsg(t *testing.T, node, from string, inc uint32) []byte {
	return accusation(t, mlSuspectMsg, node, from, inc)
}

// deadMsg encodes memberlist's dead message as memberlist does.
func deadMsg(t *testing.T, node, from string, inc uint32) []byte {
	return accusation(t, mlDeadMsg, node, from, inc)
}

// accusation encodes a suspect or dead message, which have the same
// fields.
func accusation(t *testing.T, kind byte, node, from string, inc uint32) []byte {
	t.Helper()
	msg, err := newWireCodec(false).encodeMessage(messageType(kind), accusationBody{Incarnation: inc, Node: node, From: from})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// noAddr is a member table that knows nobody.
func noAddr(string) (*net.UDPAddr, bool) { return nil, false }

// queued takes what scan queued so far.
func queued(n *directNotices) []directNotice { return drain(n.pending) }

// drain takes what the channel holds, without waiting.
func drain[T any](ch chan T) []T {
	var out []T
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// Only a suspicion this node raised about another member is told, once
// per incarnation; older incarnations and others' suspicions are not.
func TestSuspicionNoticesTellOwnNewSuspicionsOnce(t *testing.T) {
	n := newDirectNotices("a", newWireCodec(false), noAddr, nil)
	mine := suspectMsg(t, "b", "a", 3)
	n.scan(mine)
	got := queued(n)
	if len(got) != 1 || got[0].accused != "b" || !bytes.Equal(got[0].packet, mine) {
		t.Fatalf("first suspicion of b: queued %+v", got)
	}
	for _, p := range [][]byte{
		mine,                          // a retransmission
		suspectMsg(t, "b", "a", 2),    // an older incarnation
		suspectMsg(t, "b", "c", 9),    // raised by another member
		suspectMsg(t, "a", "a", 9),    // about this node
		aliveBytes("b"),               // not a suspicion
		{mlSuspectMsg, 0xc1},          // not msgpack
		append([]byte{}, mine[:5]...), // truncated
	} {
		n.scan(p)
	}
	if got := queued(n); len(got) != 0 {
		t.Fatalf("queued %+v", got)
	}
	n.scan(suspectMsg(t, "b", "a", 4))
	if got := queued(n); len(got) != 1 || got[0].accused != "b" {
		t.Fatalf("suspicion of a new incarnation: queued %+v", got)
	}
}

// In a compound message each suspicion is found; the notice carries the
// suspect message alone, behind the same label header, and with a CRC
// header of its own when the packet had one.
func TestSuspicionNoticesReadCompoundLabelAndCRC(t *testing.T) {
	n := newDirectNotices("a", newWireCodec(false), noAddr, nil)
	label := []byte{mlHasLabelMsg, 3, 'd', 'c', '1'}
	ofB, ofC := suspectMsg(t, "b", "a", 1), suspectMsg(t, "c", "a", 1)
	packet := append(bytes.Clone(label), withCRC(compound(pingBytes(1), ofB, aliveBytes("d"), ofC))...)
	n.scan(packet)
	got := queued(n)
	want := []directNotice{
		{accused: "b", packet: append(bytes.Clone(label), withCRC(ofB)...)},
		{accused: "c", packet: append(bytes.Clone(label), withCRC(ofC)...)},
	}
	if len(got) != len(want) {
		t.Fatalf("queued %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].accused != want[i].accused || !bytes.Equal(got[i].packet, want[i].packet) {
			t.Fatalf("notice %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// A CRC that does not match, or a compound that runs past its end:
	// nothing is read from it.
	bad := withCRC(suspectMsg(t, "e", "a", 1))
	bad[1] ^= 0xff
	n.scan(bad)
	n.scan(compound(suspectMsg(t, "f", "a", 1))[:6])
	if got := queued(n); len(got) != 0 {
		t.Fatalf("queued %+v from unreadable packets", got)
	}
}

// Over real sockets: a packet memberlist sends to one member that carries
// a suspicion of another also reaches the accused, as the suspect message
// alone, once.
func TestNetTransportTellsTheAccused(t *testing.T) {
	accused, _ := testTransport(t, &strings.Builder{})
	other, _ := testTransport(t, &strings.Builder{})
	accusedAddr := accused.udp.LocalAddr().(*net.UDPAddr)
	notices := newDirectNotices("a", newWireCodec(false), func(name string) (*net.UDPAddr, bool) {
		return accusedAddr, name == "b"
	}, nil)
	sender, _ := testTransportWith(t, &strings.Builder{}, wireOptions{notices: notices})

	suspicion := suspectMsg(t, "b", "a", 7)
	gossip := compound(aliveBytes("x"), suspicion)
	writeTwice(t, sender, other, gossip)
	if got := receivePacket(t, accused, "the accused's notice"); !bytes.Equal(got, suspicion) {
		t.Fatalf("accused received %q, want the suspect message %q", got, suspicion)
	}
	for range 2 {
		if got := receivePacket(t, other, "the gossip"); !bytes.Equal(got, gossip) {
			t.Fatalf("the gossip's addressee received %q", got)
		}
	}
	nothingMore(t, accused)
	awaitSent(t, &notices.sent, 1)
}

// The notices find an accused through Serf's member table: another
// member at the address it gossips from, never this node.
func TestSuspicionNoticesFindTheAccusedInTheMemberTable(t *testing.T) {
	confA, confB := loopbackConfig(), loopbackConfig()
	confB.NodeName = "b"
	confA.TransportCompression, confB.TransportCompression = true, true
	a, err := Create(confA)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Shutdown() }()
	b, err := Create(confB)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Shutdown() }()
	bAddr := b.config.MemberlistConfig.Transport.(*netTransport).udp.LocalAddr().String()
	if _, err := a.Join([]string{bAddr}, false); err != nil {
		t.Fatal(err)
	}
	notices := a.config.MemberlistConfig.Transport.(*netTransport).wire.notices
	if got, ok := notices.addrOf("b"); !ok || got.String() != bAddr {
		t.Fatalf("address of b: %v %v, want %s", got, ok, bAddr)
	}
	for _, name := range []string{"a", "nobody"} {
		if got, ok := notices.addrOf(name); ok {
			t.Fatalf("address of %s: %v", name, got)
		}
	}
	if got := notices.everyone(); len(got) != 1 || got[0].String() != bAddr {
		t.Fatalf("everyone else: %v, want [%s]", got, bAddr)
	}
}

// This node's leave (its dead message about itself) is told to everyone,
// once per incarnation; deaths it declares of others, or others declare
// of it, are not, and neither kind of notice is told when it is off.
func TestDirectNoticesTellOwnLeaveToEveryoneOnce(t *testing.T) {
	everyone := func() []*net.UDPAddr { return nil }
	n := newDirectNotices("a", newWireCodec(false), noAddr, everyone)
	leave := deadMsg(t, "a", "a", 3)
	n.scan(compound(pingBytes(1), leave))
	got := queued(n)
	if len(got) != 1 || !got[0].everyone || !bytes.Equal(got[0].packet, leave) {
		t.Fatalf("leave: queued %+v", got)
	}
	for _, p := range [][]byte{
		leave,                      // a retransmission
		deadMsg(t, "b", "a", 1),    // a death this node declares
		deadMsg(t, "a", "b", 5),    // its own death, declared by another
		deadMsg(t, "a", "a", 2),    // an older incarnation
		suspectMsg(t, "a", "a", 9), // a suspicion of itself
	} {
		n.scan(p)
	}
	if got := queued(n); len(got) != 0 {
		t.Fatalf("queued %+v", got)
	}
	n.scan(deadMsg(t, "a", "a", 4))
	if got := queued(n); len(got) != 1 || !got[0].everyone {
		t.Fatalf("leave of a new incarnation: queued %+v", got)
	}

	leavesOnly := newDirectNotices("a", newWireCodec(false), nil, everyone)
	leavesOnly.scan(suspectMsg(t, "b", "a", 1))
	suspicionsOnly := newDirectNotices("a", newWireCodec(false), noAddr, nil)
	suspicionsOnly.scan(leave)
	if got := append(queued(leavesOnly), queued(suspicionsOnly)...); len(got) != 0 {
		t.Fatalf("a notice that is off was queued: %+v", got)
	}
}

// Over real sockets: the first packet that carries this node's leave also
// sends the leave alone to every other member, once.
func TestNetTransportTellsEveryoneOfTheLeave(t *testing.T) {
	first, _ := testTransport(t, &strings.Builder{})
	second, _ := testTransport(t, &strings.Builder{})
	members := []*net.UDPAddr{first.udp.LocalAddr().(*net.UDPAddr), second.udp.LocalAddr().(*net.UDPAddr)}
	notices := newDirectNotices("a", newWireCodec(false), noAddr, func() []*net.UDPAddr { return members })
	leaver, _ := testTransportWith(t, &strings.Builder{}, wireOptions{notices: notices})

	leave := deadMsg(t, "a", "a", 2)
	gossip := compound(aliveBytes("x"), leave)
	writeTwice(t, leaver, first, gossip)
	if got := receivePacket(t, second, "the leave"); !bytes.Equal(got, leave) {
		t.Fatalf("received %q, want the dead message %q", got, leave)
	}
	var gossiped, told int
	for range 3 {
		switch got := receivePacket(t, first, "the gossip and the leave"); {
		case bytes.Equal(got, gossip):
			gossiped++
		case bytes.Equal(got, leave):
			told++
		default:
			t.Fatalf("received %q", got)
		}
	}
	if gossiped != 2 || told != 1 {
		t.Fatalf("the gossip's addressee got the gossip %d times and the leave %d", gossiped, told)
	}
	nothingMore(t, first, second)
	awaitSent(t, &notices.sent, 2)
}

// writeTwice has tr send the packet p to the transport to twice, as
// memberlist retransmits gossip.
func writeTwice(t *testing.T, tr, to *netTransport, p []byte) {
	t.Helper()
	for range 2 {
		if _, err := tr.WriteTo(p, to.udp.LocalAddr().String()); err != nil {
			t.Fatal(err)
		}
	}
}

// nothingMore fails if any of trs receives another packet soon.
func nothingMore(t *testing.T, trs ...*netTransport) {
	t.Helper()
	for _, tr := range trs {
		select {
		case p := <-tr.PacketCh():
			t.Fatalf("told twice: %q", p.Buf)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// awaitSent waits until the counter sent reaches want packets.
func awaitSent(t *testing.T, sent *atomic.Uint64, want uint64) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		if got := sent.Load(); got != want {
			return fmt.Errorf("sent %d packets, want %d", got, want)
		}
		return nil
	})
}

// Each notice is told only when its option asks for it, and none is made
// when neither does.
func TestDirectNoticesForFollowTheConfig(t *testing.T) {
	s := &Serf{codec: newWireCodec(false)}
	for _, tc := range []struct{ accused, leave bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		conf := &Config{NodeName: "a", TellAccused: tc.accused, TellLeave: tc.leave}
		n := s.directNoticesFor(conf)
		if !tc.accused && !tc.leave {
			if n != nil {
				t.Errorf("notices made with both off")
			}
			continue
		}
		if got := n.addrOf != nil; got != tc.accused {
			t.Errorf("TellAccused %v: suspicions told %v", tc.accused, got)
		}
		if got := n.everyone != nil; got != tc.leave {
			t.Errorf("TellLeave %v: leaves told %v", tc.leave, got)
		}
	}
}
