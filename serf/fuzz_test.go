package serf_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/coordinate"
	"github.com/serf-clone/serf/serf/serftest"
)

// Fuzz targets for everything serf decodes from the network or from disk:
// each gossip message type as memberlist's NotifyMsg hands it over, the
// push/pull state, node metadata (tags), the ping payload (coordinates),
// the snapshot file and the keyring file. Every target asserts that no
// input panics, that each call returns within fuzzInputDeadline, and bounds
// memory as its comment says. Seeds live in testdata/fuzz/<Target>/ and
// are checked (and, with SERF_WRITE_FUZZ_SEEDS=1, rewritten) by
// TestFuzzSeedCorpus, so they stay this package's own encoding of real
// messages. `go test` runs the seeds; `make fuzz` fuzzes each target.

const (
	// fuzzMaxInput: longer inputs are skipped. Gossip messages fit in a
	// UDP packet and push/pull states are far below this in tests; the
	// cap keeps each input's decoded state small.
	fuzzMaxInput = 64 << 10

	// fuzzInputDeadline: a call that takes longer counts as a hang. It is
	// generous for a loaded machine; the calls are microseconds normally.
	fuzzInputDeadline = 10 * time.Second

	// fuzzRigInputs: a Serf is replaced after this many inputs, so what
	// inputs leave behind (intents, remembered events, query collectors,
	// coordinates) cannot accumulate over a long run. Together with
	// fuzzMaxInput this bounds a target's live heap to what
	// fuzzRigInputs inputs of fuzzMaxInput bytes can make one Serf keep,
	// which serf's own receive limits bound further.
	fuzzRigInputs = 256
)

// fuzzWithin runs fn and fails t if it has not returned by the deadline.
func fuzzWithin(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(fuzzInputDeadline)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, fuzzInputDeadline)
	}
}

// fuzzRig is the Serf that inputs are fed to: one member on its own
// serftest network (so relays and acks go nowhere real), its log
// discarded and its events drained. It is replaced every fuzzRigInputs
// inputs and shut down when the fuzz test ends.
type fuzzRig struct {
	tb     testing.TB
	net    *serftest.Network
	s      *serf.Serf
	stop   chan struct{} // ends the event drain
	done   chan struct{} // closed when the drain has ended
	inputs int

	keyring bool                // start members with an encryption keyring
	kr      *memberlist.Keyring // their keyring
	ltime   serf.LamportTime    // the last query time used by FuzzInternalQuery
}

func newFuzzRig(tb testing.TB) *fuzzRig {
	r := &fuzzRig{tb: tb}
	tb.Cleanup(r.close)
	return r
}

// serf returns the Serf for the next input.
func (r *fuzzRig) serf() *serf.Serf {
	if r.s != nil && r.inputs >= fuzzRigInputs {
		r.close()
	}
	if r.s == nil {
		r.start()
	}
	r.inputs++
	return r.s
}

func (r *fuzzRig) start() {
	r.net = serftest.NewNetwork(1)
	conf := serftest.TestConfig("fuzz", r.net.NewTransport("fuzz"), io.Discard)
	events := make(chan serf.Event, 64)
	conf.EventCh = events
	if r.keyring {
		key := bytes.Repeat([]byte{1}, 16)
		kr, err := serf.NewKeyring([][]byte{key}, key)
		if err != nil {
			r.tb.Fatal(err)
		}
		conf.MemberlistConfig.Keyring, r.kr = kr, kr
	}
	s, err := serf.Create(conf)
	if err != nil {
		r.tb.Fatalf("create serf: %v", err)
	}
	r.s, r.inputs, r.ltime = s, 0, 0
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func(stop, done chan struct{}) {
		defer close(done)
		for {
			select {
			case <-events:
			case <-stop:
				return
			}
		}
	}(r.stop, r.done)
}

func (r *fuzzRig) close() {
	if r.s == nil {
		return
	}
	if err := r.s.Shutdown(); err != nil {
		r.tb.Errorf("shutdown serf: %v", err)
	}
	close(r.stop)
	<-r.done
	r.net.Close()
	r.s = nil
}

// fuzzNotify is a NotifyMsg target for messages that start with typ: the
// fuzzer varies the body only, so each message type gets its own search.
// Memory: see fuzzRigInputs.
func fuzzNotify(f *testing.F, typ byte) {
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMaxInput {
			return
		}
		msg := append([]byte{typ}, body...)
		in := serf.PeerInputOf(rig.serf())
		fuzzWithin(t, "NotifyMsg", func() { in.NotifyMsg(msg) })
	})
}

// Each gossip message type as NotifyMsg receives it. Memory: fuzzRigInputs.
func FuzzNotifyLeave(f *testing.F)         { fuzzNotify(f, serf.MsgLeave) }
func FuzzNotifyJoin(f *testing.F)          { fuzzNotify(f, serf.MsgJoin) }
func FuzzNotifyUserEvent(f *testing.F)     { fuzzNotify(f, serf.MsgUserEvent) }
func FuzzNotifyQuery(f *testing.F)         { fuzzNotify(f, serf.MsgQuery) }
func FuzzNotifyQueryResponse(f *testing.F) { fuzzNotify(f, serf.MsgQueryResponse) }
func FuzzNotifyRelay(f *testing.F)         { fuzzNotify(f, serf.MsgRelay) }

// FuzzNotifyMsg feeds whole messages, type byte included: unknown types,
// types NotifyMsg does not take (push/pull, conflict and key messages) and
// empty messages. Memory: fuzzRigInputs.
func FuzzNotifyMsg(f *testing.F) {
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) > fuzzMaxInput {
			return
		}
		in := serf.PeerInputOf(rig.serf())
		fuzzWithin(t, "NotifyMsg", func() { in.NotifyMsg(msg) })
	})
}

// FuzzInternalQuery sends the input as the payload of each internal query
// that decodes one (_serf_install-key, -use-key, -remove-key and
// _serf_conflict) to a member with a keyring. Those payloads are decoded
// by the internal-query stage after NotifyMsg has returned, so a panic
// there fails the run but a hang is caught only at shutdown (the rig's
// Shutdown). Memory: the keyring grows by at most one key per input and
// is dropped with the rig (fuzzRigInputs).
func FuzzInternalQuery(f *testing.F) {
	rig := newFuzzRig(f)
	rig.keyring = true
	w := serf.NewWireEncoder()
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > fuzzMaxInput {
			return
		}
		in := serf.PeerInputOf(rig.serf())
		for _, name := range []string{"install-key", "use-key", "remove-key", "conflict"} {
			rig.ltime++
			msg, err := w.Message(serf.MsgQuery, &serf.WireQuery{
				LTime: rig.ltime, ID: uint32(rig.ltime), Addr: net.IPv4(127, 0, 0, 1).To4(), Port: 1,
				SourceNode: "peer", Timeout: time.Second, Name: serf.InternalQueryPrefix + name, Payload: payload,
			})
			if err != nil {
				t.Fatal(err)
			}
			fuzzWithin(t, "NotifyMsg", func() { in.NotifyMsg(msg) })
		}
	})
}

// FuzzInternalQuery's queries do reach the key manager: an install-key
// query with a valid request installs the key.
func TestFuzzInternalQueryReachesKeyring(t *testing.T) {
	rig := newFuzzRig(t)
	rig.keyring = true
	s := rig.serf()
	w := serf.NewWireEncoder()
	key := bytes.Repeat([]byte{7}, 16)
	req, err := w.Message(serf.MsgKeyRequest, &serf.WireKeyRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := w.Message(serf.MsgQuery, &serf.WireQuery{
		LTime: 1, ID: 1, Addr: net.IPv4(127, 0, 0, 1).To4(), Port: 1, SourceNode: "peer",
		Timeout: time.Second, Name: serf.InternalQueryPrefix + "install-key", Payload: req,
	})
	if err != nil {
		t.Fatal(err)
	}
	serf.PeerInputOf(s).NotifyMsg(msg)
	serftest.Eventually(t, 5*time.Second, func() error {
		for _, k := range rig.kr.GetKeys() {
			if bytes.Equal(k, key) {
				return nil
			}
		}
		return fmt.Errorf("key not installed; keyring %v", rig.kr.GetKeys())
	})
}

// FuzzMergeRemoteState feeds a peer's push/pull state, as on a join or a
// periodic push/pull. Memory: fuzzRigInputs.
func FuzzMergeRemoteState(f *testing.F) {
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, join bool, state []byte) {
		if len(state) > fuzzMaxInput {
			return
		}
		in := serf.PeerInputOf(rig.serf())
		fuzzWithin(t, "MergeRemoteState", func() { in.MergeRemoteState(state, join) })
	})
}

// FuzzDecodeTags decodes a peer's node metadata. Decoding keeps nothing,
// so memory is what one decoded input of at most fuzzMaxInput bytes takes.
func FuzzDecodeTags(f *testing.F) {
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, meta []byte) {
		if len(meta) > fuzzMaxInput {
			return
		}
		in := serf.PeerInputOf(rig.serf())
		// A msgpack nil after the magic byte decodes to a nil map, as in
		// Serf (seed found-nil-map); reading it is fine, so only panics
		// and hangs count.
		fuzzWithin(t, "DecodeTags", func() { _ = in.DecodeTags(meta) })
	})
}

// FuzzPingPayload feeds a probe ack's payload: a version byte and a
// network coordinate, which goes into the Vivaldi client. Whatever comes
// in, our own coordinate must stay usable (finite, right dimension).
// Memory: the coordinate cache holds one entry per peer name, and this
// target uses one name; see also fuzzRigInputs.
func FuzzPingPayload(f *testing.F) {
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > fuzzMaxInput {
			return
		}
		s := rig.serf()
		in := serf.PeerInputOf(s)
		fuzzWithin(t, "NotifyPingComplete", func() { in.NotifyPingComplete(payload) })
		c, err := s.GetCoordinate()
		if err != nil {
			t.Fatal(err)
		}
		if !c.IsValid() || len(c.Vec) != int(coordinate.DefaultConfig().Dimensionality) {
			t.Fatalf("own coordinate spoiled by a ping payload: %+v", c)
		}
	})
}

// FuzzSnapshotOpen opens a snapshot file with arbitrary content, as an
// agent restarting on -snapshot does, and shuts it down again; what that
// leaves on disk must open again to the same members and clocks. Memory:
// the replayed state is at most the file's size (fuzzMaxInput).
func FuzzSnapshotOpen(f *testing.F) {
	logger := log.New(io.Discard, "", 0)
	path := filepath.Join(f.TempDir(), "snapshot") // inputs run one at a time in each process
	f.Fuzz(func(t *testing.T, rejoin bool, content []byte) {
		if len(content) > fuzzMaxInput {
			return
		}
		if err := os.WriteFile(path, content, 0600); err != nil {
			t.Fatal(err)
		}
		type state struct {
			alive               map[string]string
			clock, event, query serf.LamportTime
		}
		open := func() (st state) {
			fuzzWithin(t, "NewSnapshotter", func() {
				stop := make(chan struct{})
				_, snap, err := serf.NewSnapshotter(path, 1<<20, rejoin, logger, new(serf.LamportClock), nil, stop)
				if err != nil {
					t.Errorf("open snapshot: %v", err)
					return
				}
				st.alive = map[string]string{}
				for _, n := range snap.AliveNodes() {
					st.alive[n.Name] = n.Addr
				}
				st.clock, st.event, st.query = snap.LastClock(), snap.LastEventClock(), snap.LastQueryClock()
				close(stop)
				snap.Wait()
			})
			return st
		}
		first := open()
		if t.Failed() {
			return
		}
		if len(first.alive) > bytes.Count(content, []byte("alive: ")) {
			t.Fatalf("%d alive members from %d alive lines", len(first.alive), bytes.Count(content, []byte("alive: ")))
		}
		second := open()
		if fmt.Sprint(first) != fmt.Sprint(second) {
			t.Fatalf("reopened snapshot differs:\nfirst  %v\nsecond %v", first, second)
		}
	})
}

// FuzzDecodeKeyringFile decodes a keyring file as the agent reads it at
// start-up; keys it accepts must survive a rewrite. Memory: the decoded
// keys are smaller than the file (at most fuzzMaxInput).
func FuzzDecodeKeyringFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		keys, err := serf.DecodeKeyringFile(data)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		if _, err := serf.NewKeyring(keys, keys[0]); err != nil {
			return // wrong key sizes: the agent reports this
		}
		again, err := serf.EncodeKeyringFile(keys)
		if err != nil {
			t.Fatal(err)
		}
		back, err := serf.DecodeKeyringFile(again)
		if err != nil || fmt.Sprint(back) != fmt.Sprint(keys) {
			t.Fatalf("rewritten keyring reads back as %v, %v; want %v", back, err, keys)
		}
	})
}

// FuzzUnpackPacket hands the transport's unpacker a datagram, as it hands
// it every datagram it receives: what comes out is the packet as it came
// or the message inside it, bounded; and a plain message it packs comes
// back whole.
func FuzzUnpackPacket(f *testing.F) {
	z := serf.NewWireCompressor()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		if out := z.Unpack(data); len(out) > serf.MaxUnpacked+len(data) {
			t.Fatalf("%d bytes unpacked to %d", len(data), len(out))
		}
		if len(data) == 0 || !fuzzPlainMemberlistMessage(data[0]) {
			return
		}
		if got := z.Unpack(z.Pack(data)); !bytes.Equal(got, data) {
			t.Fatalf("packed and unpacked %x to %x", data, got)
		}
	})
}

// FuzzDropGossipCopies hands the transport's filter of gossip copies a
// datagram twice. The first time what comes out is nothing, the packet as
// it came or a shorter one. The second time no gossip message (types 3,
// 4, 5 and 8) is left of it, alone or in a compound, unless it cannot be
// read and so goes on as it came.
func FuzzDropGossipCopies(f *testing.F) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		g := serf.NewGossipCopies()
		first := g.Filter(data, now)
		if len(first) > len(data) || (len(first) == len(data) && !bytes.Equal(first, data)) {
			t.Fatalf("%x filtered to %x", data, first)
		}
		again := g.Filter(bytes.Clone(data), now)
		if again == nil {
			return
		}
		msg := fuzzUnlabelled(again)
		if len(msg) == 0 {
			return
		}
		if fuzzGossipMessage(msg[0]) {
			t.Fatalf("copy %x handed on as %x", data, again)
		}
		if parts, ok := fuzzCompoundParts(msg); ok {
			for _, part := range parts {
				if len(part) > 0 && fuzzGossipMessage(part[0]) {
					t.Fatalf("copy %x handed on as %x", data, again)
				}
			}
		}
	})
}

// fuzzUnlabelled is p without memberlist's label header, if it has one.
func fuzzUnlabelled(p []byte) []byte {
	if len(p) >= 2 && p[0] == 244 && len(p) >= 2+int(p[1]) {
		return p[2+int(p[1]):]
	}
	return p
}

// fuzzGossipMessage reports whether t is a message type memberlist hands
// its gossip queue: suspect, alive, dead or user.
func fuzzGossipMessage(t byte) bool { return t == 3 || t == 4 || t == 5 || t == 8 }

// fuzzCompoundParts splits memberlist's compound message m (type 7, a
// count, big-endian uint16 lengths, the parts); ok is false when m is
// none or its parts run past its end.
func fuzzCompoundParts(m []byte) (parts [][]byte, ok bool) {
	if len(m) < 2 || m[0] != 7 || len(m) < 2+2*int(m[1]) {
		return nil, false
	}
	n := int(m[1])
	rest := m[2+2*n:]
	for i := range n {
		size := int(binary.BigEndian.Uint16(m[2+2*i:]))
		if len(rest) < size {
			return nil, false
		}
		parts, rest = append(parts, rest[:size]), rest[size:]
	}
	return parts, true
}

// fuzzCompound is memberlist's compound message of parts.
func fuzzCompound(parts ...[]byte) []byte {
	out := []byte{7, byte(len(parts))}
	for _, p := range parts {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// fuzzPlainMemberlistMessage reports whether t starts a memberlist message
// that no header wraps: not compress (9), encrypt (10), CRC (12) or label
// (244).
func fuzzPlainMemberlistMessage(t byte) bool {
	return t != 9 && t != 10 && t != 12 && t != 244
}

func fuzzMust(t *testing.T) func(b []byte, err error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// The seed corpora: real messages of each kind, encoded by this package,
// and a few broken ones.
func TestFuzzSeedCorpus(t *testing.T) {
	w := serf.NewWireEncoder()
	must := fuzzMust(t)
	body := func(t byte, v interface{}) []byte { return must(w.Message(t, v))[1:] }

	leave := body(serf.MsgLeave, &serf.WireLeave{LTime: 7, Node: "n1"})
	join := body(serf.MsgJoin, &serf.WireJoin{LTime: 8, Node: "n2"})
	event := body(serf.MsgUserEvent, &serf.WireUserEvent{LTime: 3, Name: "deploy", Payload: []byte("v1"), CC: true})
	query := &serf.WireQuery{
		LTime: 5, ID: 42, Addr: net.IPv4(127, 0, 0, 1).To4(), Port: 7946, SourceNode: "n1",
		Filters: [][]byte{
			must(w.Filter(serf.FilterNode, []string{"fuzz", "n1"})),
			must(w.Filter(serf.FilterTag, &serf.WireFilterTag{Tag: "role", Expr: "web.*"})),
		},
		Flags: serf.QueryFlagAck, RelayFactor: 2, Timeout: 2 * time.Second, Name: "uptime", Payload: []byte("p"),
	}
	queryBody := body(serf.MsgQuery, query)
	plainQuery := body(serf.MsgQuery, &serf.WireQuery{LTime: 6, ID: 1, SourceNode: "n1", Timeout: time.Second, Name: "q"})
	resp := body(serf.MsgQueryResponse, &serf.WireQueryResponse{LTime: 5, ID: 42, From: "n1", Payload: []byte("up 3 days")})
	ack := body(serf.MsgQueryResponse, &serf.WireQueryResponse{LTime: 5, ID: 42, From: "n1", Flags: serf.QueryFlagAck})
	dest := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7946}
	relay := must(w.Relay(dest, "n1", must(w.Message(serf.MsgQueryResponse, &serf.WireQueryResponse{LTime: 5, ID: 42, From: "n2"}))))[1:]
	relayV6 := must(w.Relay(&net.UDPAddr{IP: net.IPv6loopback, Port: 1}, "", []byte{serf.MsgUserEvent}))[1:]
	pushPull := must(w.Message(serf.MsgPushPull, &serf.WirePushPull{
		LTime:        10,
		StatusLTimes: map[string]serf.LamportTime{"n2": 9}, // one key: maps encode in random order
		LeftMembers:  []string{"gone"},
		EventLTime:   4,
		Events: []*serf.WireUserEventSlot{
			{LTime: 3, Events: []serf.WireUserEventEntry{{Name: "deploy", Payload: []byte("v1")}}},
			nil,
		},
		QueryLTime: 6,
	}))
	keyReq := must(w.Message(serf.MsgKeyRequest, &serf.WireKeyRequest{Key: bytes.Repeat([]byte{2}, 16)}))
	keyResp := must(w.Message(serf.MsgKeyResponse, &serf.WireKeyResponse{Result: true, Keys: []string{"AQEBAQEBAQEBAQEBAQEBAQ=="}}))
	coord := coordinate.NewCoordinate(coordinate.DefaultConfig())
	coord.Vec[0], coord.Height = 0.002, 0.0001
	badCoord := coordinate.NewCoordinate(&coordinate.Config{Dimensionality: 2})

	zc := serf.NewWireCompressor()
	userMsg := append([]byte{8}, bytes.Repeat([]byte("user event "), 40)...)
	packed := zc.Pack(userMsg)
	withCRC := func(m []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{12}, crc32.ChecksumIEEE(m)), m...)
	}
	packedCRC := zc.Pack(withCRC(userMsg))
	badCRC := bytes.Clone(packedCRC)
	badCRC[1] ^= 0xff
	bomb := zc.Pack(append([]byte{8}, make([]byte, 2*serf.MaxUnpacked)...))

	b := func(s string) []byte { return []byte(s) }
	seeds := func(kv ...interface{}) []serftest.FuzzSeed {
		var out []serftest.FuzzSeed
		for i := 0; i < len(kv); i += 2 {
			out = append(out, serftest.FuzzSeed{Name: kv[i].(string), Args: []any{kv[i+1]}})
		}
		return out
	}
	broken := func(valid []byte) []interface{} {
		return []interface{}{"truncated", valid[:len(valid)/2], "empty", []byte{}, "fixmap-of-nil", []byte{0x81, 0xc0, 0xc0},
			"array32-huge", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, "str32-huge", []byte{0xdb, 0x7f, 0xff, 0xff, 0xff, 'x'}}
	}
	with := func(valid []interface{}, v []byte) []serftest.FuzzSeed { return seeds(append(valid, broken(v)...)...) }

	serftest.CheckSeedCorpus(t, map[string][]serftest.FuzzSeed{
		"FuzzUnpackPacket": seeds("compressed", packed, "compressed-crc", packedCRC, "compressed-label-crc", append([]byte{244, 3, 'd', 'c', '1'}, packedCRC...),
			"bad-crc", badCRC, "bomb", bomb, "plain-user-message", userMsg, "not-msgpack", []byte{9, 0xc1}, "other-algorithm", []byte{9, 0x82, 0xa4, 'A', 'l', 'g', 'o', 1, 0xa3, 'B', 'u', 'f', 0xa0},
			"empty", []byte{}),
		"FuzzDropGossipCopies": seeds("alive", append([]byte{4}, join...), "compound", fuzzCompound([]byte{0, 0x80}, append([]byte{8}, join...), append([]byte{8}, leave...)),
			"labelled-crc-compound", append([]byte{244, 3, 'd', 'c', '1'}, withCRC(fuzzCompound([]byte{4, 1}, []byte{2, 0x80}))...),
			"truncated-compound", fuzzCompound([]byte{4, 1}, []byte{3, 2})[:7], "bad-crc", badCRC, "empty", []byte{}),
		"FuzzNotifyLeave":     with([]interface{}{"leave", leave}, leave),
		"FuzzNotifyJoin":      with([]interface{}{"join", join}, join),
		"FuzzNotifyUserEvent": with([]interface{}{"user-event", event}, event),
		"FuzzNotifyQuery":     with([]interface{}{"query-filters-ack", queryBody, "query", plainQuery}, queryBody),
		"FuzzNotifyQueryResponse": with([]interface{}{"response", resp, "ack", ack,
			"wrong-field-types", b("\x83\xa5LTime\xa1x\xa2ID\x90\xa4From\x01")}, resp),
		"FuzzNotifyRelay": with([]interface{}{"relay-response", relay, "relay-ipv6", relayV6,
			"header-only", relay[:len(relay)-3]}, relay),
		"FuzzNotifyMsg": seeds("leave", must(w.Message(serf.MsgLeave, &serf.WireLeave{LTime: 1, Node: "x", Prune: true})),
			"push-pull-as-message", pushPull, "key-request", keyReq, "key-response", keyResp,
			"conflict", []byte{serf.MsgConflictResponse, 0x80}, "unknown-type", []byte{200, 1, 2}, "empty", []byte{}),
		"FuzzInternalQuery": seeds("key-request", keyReq, "key-request-short-key", must(w.Message(serf.MsgKeyRequest, &serf.WireKeyRequest{Key: []byte{1, 2}})),
			"node-name", b("fuzz"), "type-only", []byte{serf.MsgKeyRequest}, "empty", []byte{}, "not-a-map", []byte{serf.MsgKeyRequest, 0x93, 1, 2, 3}),
		"FuzzMergeRemoteState": {
			{Name: "push-pull-join", Args: []any{true, pushPull}},
			{Name: "push-pull", Args: []any{false, pushPull}},
			{Name: "truncated", Args: []any{false, pushPull[:len(pushPull)/2]}},
			{Name: "wrong-type", Args: []any{false, append([]byte{serf.MsgUserEvent}, event...)}},
			{Name: "empty", Args: []any{true, []byte{}}},
			{Name: "huge-map", Args: []any{false, []byte{serf.MsgPushPull, 0xdf, 0xff, 0xff, 0xff, 0xff}}},
		},
		"FuzzDecodeTags": seeds("tags", must(w.TagsMeta(map[string]string{"role": "web"})),
			"no-tags", must(w.TagsMeta(map[string]string{})), "protocol-2-role", b("web"), "empty", []byte{},
			"magic-only", []byte{0xff}, "not-a-map", []byte{0xff, 0x93, 1, 2, 3}, "map-of-ints", []byte{0xff, 0x81, 1, 2}),
		"FuzzPingPayload": seeds("coordinate", must(w.PingPayload(coord)), "wrong-dimension", must(w.PingPayload(badCoord)),
			"nan", append(must(w.PingPayload(coord))[:1], b("\x84\xa3Vec\x91\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01\xa5Error\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00\xaaAdjustment\x00\xa6Height\x00")...),
			"bad-version", []byte{9, 0x80}, "version-only", []byte{1}, "empty", []byte{}),
		"FuzzSnapshotOpen": {
			{Name: "snapshot", Args: []any{false, b("alive: n1 127.0.0.1:7946\nalive: n 2 [::1]:7947\nclock: 4\nevent-clock: 3\nquery-clock: 2\nnot-alive: n1\n# comment\ncoordinate: x\n")}},
			{Name: "left", Args: []any{false, b("alive: n1 127.0.0.1:7946\nclock: 4\nleave\n")}},
			{Name: "left-rejoin", Args: []any{true, b("alive: n1 127.0.0.1:7946\nclock: 4\nleave\n")}},
			{Name: "torn-last-line", Args: []any{false, b("alive: n1 127.0.0.1:7946\nclock: 4\nalive: n2 127.0.")}},
			{Name: "garbage", Args: []any{false, b("alive: noaddr\nclock: -1\nevent-clock: 99999999999999999999\nwhat\r\n\x00\n")}},
		},
		"FuzzDecodeKeyringFile": seeds("two-keys", must(serf.EncodeKeyringFile([][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)})),
			"no-keys", b("[]"), "bad-base64", b(`["!!"]`), "short-key", b(`["AQI="]`), "not-json", b("{"), "object", b(`{"a":1}`)),
	})
}
