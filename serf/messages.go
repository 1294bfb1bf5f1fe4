package serf

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// messageType is the first byte of every Serf gossip message. The numbers
// are fixed by the wire protocol: append new types, never renumber.
type messageType uint8

const (
	messageLeaveType            messageType = 0
	messageJoinType             messageType = 1
	messagePushPullType         messageType = 2
	messageUserEventType        messageType = 3
	messageQueryType            messageType = 4
	messageQueryResponseType    messageType = 5
	messageConflictResponseType messageType = 6
	messageKeyRequestType       messageType = 7
	messageKeyResponseType      messageType = 8
	messageRelayType            messageType = 9
)

// filterType is the first byte of each element of messageQuery.Filters.
type filterType uint8

const (
	filterNodeType filterType = 0
	filterTagType  filterType = 1
)

// Query flag bits.
const (
	// queryFlagAck asks every matching node to send an ack.
	queryFlagAck uint32 = 1 << iota
	// queryFlagNoBroadcast tells receivers not to re-gossip the query.
	queryFlagNoBroadcast
)

// The structs below are the message bodies. Their exported field names are
// the msgpack map keys real Serf puts on the wire, so they must not be
// renamed, and no field may be added unless real Serf sends it too.

// messageLeave is a leave intent (type 0), graceful or forced.
type messageLeave struct {
	LTime LamportTime
	Node  string
	Prune bool
}

// messageJoin is a join intent (type 1).
type messageJoin struct {
	LTime LamportTime
	Node  string
}

// messagePushPull is Serf's share of memberlist's TCP state exchange (type 2).
type messagePushPull struct {
	LTime        LamportTime
	StatusLTimes map[string]LamportTime
	LeftMembers  []string
	EventLTime   LamportTime
	Events       []*userEventSlot
	QueryLTime   LamportTime
}

// userEventSlot is one slot of the recent-event ring (dedup_ring.go): the
// distinct events seen at one event-clock time. It travels verbatim inside
// push-pull, as a map with the keys LTime and Events.
type userEventSlot = dedupSlot[userEventEntry]

// userEventEntry is one remembered user event inside a slot.
type userEventEntry struct {
	Name    string
	Payload []byte
}

// messageUserEvent is a user event broadcast (type 3).
type messageUserEvent struct {
	LTime   LamportTime
	Name    string
	Payload []byte
	CC      bool // may be coalesced
}

// messageQuery is a query broadcast (type 4).
type messageQuery struct {
	LTime       LamportTime
	ID          uint32
	Addr        []byte
	Port        uint16
	SourceNode  string
	Filters     [][]byte
	Flags       uint32
	RelayFactor uint8
	Timeout     time.Duration
	Name        string
	Payload     []byte
}

func (m *messageQuery) ack() bool         { return m.Flags&queryFlagAck != 0 }
func (m *messageQuery) noBroadcast() bool { return m.Flags&queryFlagNoBroadcast != 0 }

// messageQueryResponse is an ack or a response sent straight back to the
// query's origin (type 5).
type messageQueryResponse struct {
	LTime   LamportTime
	ID      uint32
	From    string
	Flags   uint32
	Payload []byte
}

func (m *messageQueryResponse) ack() bool { return m.Flags&queryFlagAck != 0 }

// filterTag is the body of a tag filter: Expr must match the node's Tag.
type filterTag struct {
	Tag  string
	Expr string
}

// relayHeader prefixes a relayed response (type 9); the receiver forwards
// the bytes that follow it to DestAddr unchanged.
type relayHeader struct {
	DestAddr net.UDPAddr
	DestName string
}

// messageKeyRequest is the payload of the _serf_*-key queries (type 7).
type messageKeyRequest struct {
	Key []byte
}

// messageKeyResponse is a node's answer to a key query (type 8).
type messageKeyResponse struct {
	Result     bool
	Message    string
	Keys       []string
	PrimaryKey string
}

// wireCodec holds the two msgpack handles Serf's gossip uses. Encoding with
// WriteExt off makes strings and byte slices use the legacy "raw" family,
// which is what old and current Serf peers produce; decoding uses a plain
// handle, which accepts both raw and str/bin forms.
type wireCodec struct {
	enc   *codec.MsgpackHandle // message bodies
	plain *codec.MsgpackHandle // tags, filters, relay headers, and all decoding
}

func newWireCodec(useNewTimeFormat bool) *wireCodec {
	enc := &codec.MsgpackHandle{WriteExt: false}
	enc.TimeNotBuiltin = !useNewTimeFormat
	return &wireCodec{enc: enc, plain: &codec.MsgpackHandle{}}
}

// encodeMessage returns t followed by the msgpack encoding of body.
func (c *wireCodec) encodeMessage(t messageType, body interface{}) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(t))
	if err := codec.NewEncoder(&buf, c.enc).Encode(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeFilter returns t followed by the plain-handle encoding of body.
func (c *wireCodec) encodeFilter(t filterType, body interface{}) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(t))
	if err := codec.NewEncoder(&buf, c.plain).Encode(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode decodes one msgpack object from buf into out. Input comes from the
// network, so a panic inside the codec on hostile bytes is turned into an
// error instead of taking the process down.
func (c *wireCodec) decode(buf []byte, out interface{}) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed msgpack: %v", r)
		}
	}()
	return codec.NewDecoderBytes(buf, c.plain).Decode(out)
}

// encodePlain encodes v with the plain handle (no type prefix).
func (c *wireCodec) encodePlain(v interface{}) ([]byte, error) {
	var buf []byte
	if err := codec.NewEncoderBytes(&buf, c.plain).Encode(v); err != nil {
		return nil, err
	}
	return buf, nil
}

// encodeRelay builds a type-9 message: the relay header for dest followed by
// the already-encoded message inner, which the relay forwards unchanged.
func (c *wireCodec) encodeRelay(dest *net.UDPAddr, destName string, inner []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(byte(messageRelayType))
	hdr := relayHeader{DestAddr: *dest, DestName: destName}
	if err := codec.NewEncoder(&buf, c.plain).Encode(&hdr); err != nil {
		return nil, err
	}
	buf.Write(inner)
	return buf.Bytes(), nil
}

// decodeRelay splits the body of a type-9 message (type byte already
// removed) into its header and the message to forward.
func (c *wireCodec) decodeRelay(body []byte) (hdr relayHeader, inner []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed relay header: %v", r)
		}
	}()
	r := bytes.NewReader(body)
	if err = codec.NewDecoder(r, c.plain).Decode(&hdr); err != nil {
		return hdr, nil, err
	}
	// The decoder reads the header exactly, so what is left in the reader
	// is the inner message.
	return hdr, body[len(body)-r.Len():], nil
}
