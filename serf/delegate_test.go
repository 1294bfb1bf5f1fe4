package serf_test

import (
	"encoding/hex"
	"math/rand"
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Nothing a peer sends may crash us: every message type, truncated or
// random, is logged and dropped.
func TestGarbageFromTheNetworkIsDropped(t *testing.T) {
	m := serftest.NewCluster(t, 1, nil).Members[0]
	s := m.Serf
	d := serf.PeerInputOf(s)
	rng := rand.New(rand.NewSource(1))

	valid := [][]byte{mustHex(t, serf.ObservedUserEvent), mustHex(t, serf.ObservedQuery)}
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
	d.NotifyPingComplete([]byte{1, 0x93})
	d.NotifyPingComplete([]byte{7})
	d.DecodeTags([]byte{0xff, 0xdf, 0xff, 0xff, 0xff, 0xff})

	if !m.Logs.Contains("[WARN] serf: Received message of unknown type: 200") ||
		!m.Logs.Contains("[ERR] serf: Remote state is zero bytes") ||
		!m.Logs.Contains("[ERR] serf: Remote state has bad type prefix: 0") {
		t.Fatalf("expected log lines missing:\n%s", m.Logs)
	}
	if s.State() != serf.SerfAlive {
		t.Fatal("serf not alive after garbage")
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}
