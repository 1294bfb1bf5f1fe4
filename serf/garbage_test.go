package serf

import (
	"math/rand"
	"testing"
	"time"
)

// Nothing a peer sends may crash us: every message type, truncated or
// random, is logged and dropped.
func TestGarbageFromTheNetworkIsDropped(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
	d := &delegate{serf: s}
	rng := rand.New(rand.NewSource(1))

	valid := [][]byte{mustHex(t, observedUserEvent), mustHex(t, observedQuery)}
	for _, v := range valid {
		for i := 1; i < len(v); i++ {
			d.NotifyMsg(v[:i]) // every truncation
		}
	}
	hostile := [][]byte{
		{}, {0}, {1, 0xc1}, {3, 0xdb, 0xff, 0xff, 0xff, 0xff}, {4, 0xdd, 0x7f, 0xff, 0xff, 0xff},
		{9}, {9, 0x80}, {9, 0x80, 5, 0xc0}, {5, 0x81, 0xa5, 'L', 'T', 'i', 'm', 'e', 0xa1, 'x'},
		{2, 0x80}, {6, 0xc0}, {7}, {8}, {200, 1, 2, 3},
		{4, 0x81, 0xa7, 'F', 'i', 'l', 't', 'e', 'r', 's', 0x92, 0xa0, 0xa2, 1, 0xc1},
	}
	for _, h := range hostile {
		d.NotifyMsg(h)
		d.MergeRemoteState(h, true)
	}
	for i := 0; i < 3000; i++ {
		buf := make([]byte, 1+rng.Intn(64))
		rng.Read(buf)
		buf[0] = byte(rng.Intn(11))
		d.NotifyMsg(buf)
		buf[0] = 2
		d.MergeRemoteState(buf, rng.Intn(2) == 0)
	}
	d.MergeRemoteState(nil, false)
	(&pingDelegate{serf: s}).NotifyPingComplete(s.memberlist.LocalNode(), time.Millisecond, []byte{1, 0x93})
	(&pingDelegate{serf: s}).NotifyPingComplete(s.memberlist.LocalNode(), time.Millisecond, []byte{7})
	s.decodeTags([]byte{0xff, 0xdf, 0xff, 0xff, 0xff, 0xff})

	if !c.nodes[0].logs.Contains("[WARN] serf: Received message of unknown type: 200") ||
		!c.nodes[0].logs.Contains("[ERR] serf: Remote state is zero bytes") ||
		!c.nodes[0].logs.Contains("[ERR] serf: Remote state has bad type prefix: 0") {
		t.Fatalf("expected log lines missing:\n%s", c.nodes[0].logs)
	}
	if s.State() != SerfAlive {
		t.Fatal("serf not alive after garbage")
	}
}
