package serf

import (
	"bytes"
	"encoding/hex"
	"io"
	"log"
	"net"
	"reflect"
	"testing"
	"time"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// Observed from a real Serf 0.10.2 agent (COMPAT §2.2).
const (
	observedUserEvent = "0384a24343c2a54c54696d6504a44e616d65a3736576a75061796c6f6164a3706179"
	observedQuery     = "048ba441646472a47f000001a746696c7465727392a80091a570726f6265b60182a44578" +
		"7072a570726f2e2aa3546167a4726f6c65a5466c61677301a24944ce678931a7a54c54696d650e" +
		"a44e616d65a3677132a75061796c6f6164c0a4506f7274cd943aab52656c6179466163746f7201" +
		"aa536f757263654e6f6465a5616c706861a754696d656f7574d277359400"
)

func TestEncodeUserEventMatchesRealSerf(t *testing.T) {
	c := newWireCodec(false)
	got, err := c.encodeMessage(messageUserEventType, &messageUserEvent{LTime: 4, Name: "sev", Payload: []byte("pay")})
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, observedUserEvent); !bytes.Equal(got, want) {
		t.Fatalf("encoding differs\n got %x\nwant %x", got, want)
	}
}

func TestEncodeQueryMatchesRealSerf(t *testing.T) {
	c := newWireCodec(false)
	// Built the way `serf query -node probe -tag role=pro.* -relay-factor=1
	// -timeout=2s gq2` builds it.
	filters, err := c.encodeFilters(&QueryParam{
		FilterNodes: []string{"probe"},
		FilterTags:  map[string]string{"role": "pro.*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := messageQuery{
		LTime: 14, ID: 0x678931a7, Addr: []byte{127, 0, 0, 1}, Port: 37946,
		SourceNode: "alpha", Filters: filters, Flags: queryFlagAck, RelayFactor: 1,
		Timeout: 2 * time.Second, Name: "gq2",
	}
	got, err := c.encodeMessage(messageQueryType, &msg)
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, observedQuery)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs\n got %x\nwant %x", got, want)
	}

	var back messageQuery
	if err := c.decode(want[1:], &back); err != nil {
		t.Fatal(err)
	}
	if back.Timeout != 2*time.Second || back.SourceNode != "alpha" || back.ID != 0x678931a7 ||
		!back.ack() || back.noBroadcast() || len(back.Filters) != 2 || back.Payload != nil {
		t.Fatalf("decoded %+v", back)
	}
}

func TestLongStringsUseLegacyRawEncoding(t *testing.T) {
	c := newWireCodec(false)
	name := string(bytes.Repeat([]byte("x"), 40))
	got, err := c.encodeMessage(messageJoinType, &messageJoin{LTime: 1, Node: name})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte{0xda, 0x00, 0x28}) || bytes.Contains(got, []byte{0xd9, 0x28}) {
		t.Fatalf("want raw16 for a 40-byte string, got %x", got)
	}
}

func TestPushPullShape(t *testing.T) {
	c := newWireCodec(false)
	events := make([]*userEventSlot, 512)
	events[1] = &userEventSlot{LTime: 1, Events: []userEventEntry{{Name: "deploy", Payload: []byte("v1.2")}}}
	pp := messagePushPull{LTime: 3, StatusLTimes: map[string]LamportTime{"a": 2}, LeftMembers: []string{},
		EventLTime: 6, Events: events, QueryLTime: 1}
	raw, err := c.encodeMessage(messagePushPullType, &pp)
	if err != nil {
		t.Fatal(err)
	}
	// The observed dump starts this way: 6 keys, EventLTime first, then an
	// array16 of 512 slots whose slot 0 is nil and slot 1 holds "deploy".
	prefix := mustHex(t, "0286aa4576656e744c54696d6506a64576656e7473dc0200c082a64576656e74739182a44e616d65a6"+
		"6465706c6f79a75061796c6f6164a476312e32a54c54696d6501")
	if !bytes.HasPrefix(raw, prefix) {
		t.Fatalf("push-pull prefix differs\n got %x", raw[:len(prefix)])
	}
	// LeftMembers is an empty array, never nil.
	if !bytes.Contains(raw, append([]byte("LeftMembers"), 0x90)) {
		t.Fatalf("LeftMembers not encoded as empty array: %x", raw)
	}
}

func TestRelayRoundTrip(t *testing.T) {
	c := newWireCodec(false)
	inner, err := c.encodeMessage(messageQueryResponseType, &messageQueryResponse{LTime: 3, ID: 9, From: "b", Flags: queryFlagAck})
	if err != nil {
		t.Fatal(err)
	}
	dest := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 7946}
	raw, err := c.encodeRelay(dest, "a", inner)
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] != byte(messageRelayType) {
		t.Fatalf("type %d", raw[0])
	}
	hdr, rest, err := c.decodeRelay(raw[1:])
	if err != nil {
		t.Fatal(err)
	}
	if hdr.DestName != "a" || hdr.DestAddr.String() != "127.0.0.1:7946" || !bytes.Equal(rest, inner) {
		t.Fatalf("hdr %+v rest %x", hdr, rest)
	}
}

func TestDecodeToleratesStrAndBinForms(t *testing.T) {
	c := newWireCodec(false)
	// {Name: str8 "ev", Payload: bin8 "p", LTime: 7} written by a modern encoder.
	raw := mustHex(t, "83a44e616d65d9026576a75061796c6f6164c40170a54c54696d6507")
	var m messageUserEvent
	if err := c.decode(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "ev" || string(m.Payload) != "p" || m.LTime != 7 {
		t.Fatalf("got %+v", m)
	}
}

func TestDecodeGarbageNeverPanics(t *testing.T) {
	c := newWireCodec(false)
	inputs := [][]byte{
		nil, {0xc1}, {0xdb, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0x7f, 0xff, 0xff, 0xff},
		{0xdf, 0x7f, 0xff, 0xff, 0xff}, {0x81, 0xa5}, mustHex(t, observedQuery)[1:20],
		{0x85, 0xa4, 'N', 'a', 'm', 'e', 0x93, 1, 2, 3},
	}
	for _, in := range inputs {
		var q messageQuery
		_ = c.decode(in, &q)
		var pp messagePushPull
		_ = c.decode(in, &pp)
		_, _, _ = c.decodeRelay(in)
	}
}

func testTagSerf(proto uint8) *Serf {
	return &Serf{config: &Config{ProtocolVersion: proto}, codec: newWireCodec(false), logger: log.New(io.Discard, "", 0)}
}

func TestTagsMeta(t *testing.T) {
	s := testTagSerf(4)
	if got := s.encodeTags(map[string]string{}); !bytes.Equal(got, []byte{0xff, 0x80}) {
		t.Fatalf("empty tags: %x", got)
	}
	tags := map[string]string{"x": "y", "role": "web", "dc": "east"}
	meta := s.encodeTags(tags)
	if meta[0] != 0xff || meta[1] != 0x83 {
		t.Fatalf("meta %x", meta)
	}
	if got := s.decodeTags(meta); !reflect.DeepEqual(got, tags) {
		t.Fatalf("round trip %v", got)
	}
	// Observed from a real agent.
	observed := mustHex(t, "ff83a178a179a4726f6c65a3776562a26463a465617374")
	if got := s.decodeTags(observed); !reflect.DeepEqual(got, tags) {
		t.Fatalf("observed decode %v", got)
	}
}

func TestTagsMetaProtocol2IsRoleOnly(t *testing.T) {
	s := testTagSerf(2)
	if got := s.encodeTags(map[string]string{"role": "web", "dc": "east"}); string(got) != "web" {
		t.Fatalf("meta %q", got)
	}
	if got := s.decodeTags([]byte("db")); !reflect.DeepEqual(got, map[string]string{"role": "db"}) {
		t.Fatalf("decode %v", got)
	}
	if got := s.decodeTags(nil); !reflect.DeepEqual(got, map[string]string{"role": ""}) {
		t.Fatalf("empty decode %v", got)
	}
	// A corrupt map still yields a usable (empty) tag set.
	if got := s.decodeTags([]byte{0xff, 0xc1}); got == nil {
		t.Fatal("nil tags")
	}
}

func BenchmarkEncodeUserEvent(b *testing.B) {
	c := newWireCodec(false)
	msg := messageUserEvent{LTime: 1234, Name: "deploy", Payload: bytes.Repeat([]byte("p"), 100), CC: true}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.encodeMessage(messageUserEventType, &msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeUserEvent(b *testing.B) {
	c := newWireCodec(false)
	raw, _ := c.encodeMessage(messageUserEventType, &messageUserEvent{LTime: 1234, Name: "deploy", Payload: bytes.Repeat([]byte("p"), 100), CC: true})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var m messageUserEvent
		if err := c.decode(raw[1:], &m); err != nil {
			b.Fatal(err)
		}
	}
}

// Config.MsgpackUseNewTimeFormat picks how a time.Time is encoded (as
// upstream: the handle's TimeNotBuiltin, no extensions); either form decodes
// to the same instant.
func TestTimeFormatOption(t *testing.T) {
	type stamped struct{ At time.Time }
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	var encoded [2][]byte
	for i, newFormat := range []bool{false, true} {
		c := newWireCodec(newFormat)
		raw, err := c.encodeMessage(messageUserEventType, &stamped{At: at})
		if err != nil {
			t.Fatal(err)
		}
		encoded[i] = raw
		var back stamped
		if err := c.decode(raw[1:], &back); err != nil || !back.At.Equal(at) {
			t.Fatalf("new format %v: decoded %v (%v), want %v", newFormat, back.At, err, at)
		}
	}
	if bytes.Equal(encoded[0], encoded[1]) {
		t.Fatalf("both formats encode %x", encoded[0])
	}
}
