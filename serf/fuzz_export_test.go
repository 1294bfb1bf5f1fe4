package serf

// The package's own encoders, exported to the fuzz targets (fuzz_test.go,
// package serf_test) so that their seed corpora are real messages as this
// package puts them on the wire. Compiled only into the tests.

import (
	"bytes"
	"net"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/serf/coordinate"
)

// Wire message bodies under exported names.
type (
	WireLeave          = messageLeave
	WireJoin           = messageJoin
	WirePushPull       = messagePushPull
	WireUserEvent      = messageUserEvent
	WireQuery          = messageQuery
	WireQueryResponse  = messageQueryResponse
	WireUserEventSlot  = userEventSlot
	WireUserEventEntry = userEventEntry
	WireFilterTag      = filterTag
	WireKeyRequest     = messageKeyRequest
	WireKeyResponse    = messageKeyResponse
)

// The first byte of each gossip message type.
const (
	MsgLeave            = byte(messageLeaveType)
	MsgJoin             = byte(messageJoinType)
	MsgPushPull         = byte(messagePushPullType)
	MsgUserEvent        = byte(messageUserEventType)
	MsgQuery            = byte(messageQueryType)
	MsgQueryResponse    = byte(messageQueryResponseType)
	MsgConflictResponse = byte(messageConflictResponseType)
	MsgKeyRequest       = byte(messageKeyRequestType)
	MsgKeyResponse      = byte(messageKeyResponseType)
	MsgRelay            = byte(messageRelayType)

	FilterNode = byte(filterNodeType)
	FilterTag  = byte(filterTagType)

	QueryFlagAck         = queryFlagAck
	QueryFlagNoBroadcast = queryFlagNoBroadcast
)

// WireEncoder is the package's gossip codec.
type WireEncoder struct{ c *wireCodec }

func NewWireEncoder() WireEncoder { return WireEncoder{newWireCodec(false)} }

// Message is t followed by body, as Serf broadcasts it.
func (w WireEncoder) Message(t byte, body interface{}) ([]byte, error) {
	return w.c.encodeMessage(messageType(t), body)
}

// Filter is one element of a query's Filters.
func (w WireEncoder) Filter(t byte, body interface{}) ([]byte, error) {
	return w.c.encodeFilter(filterType(t), body)
}

// Relay wraps an encoded message for forwarding to dest.
func (w WireEncoder) Relay(dest *net.UDPAddr, destName string, inner []byte) ([]byte, error) {
	return w.c.encodeRelay(dest, destName, inner)
}

// TagsMeta is tags as node metadata of protocol 3 and later.
func (w WireEncoder) TagsMeta(tags map[string]string) ([]byte, error) {
	body, err := w.c.encodePlain(tags)
	if err != nil {
		return nil, err
	}
	return append([]byte{tagMagicByte}, body...), nil
}

// PingPayload is c as a probe ack carries it.
func (w WireEncoder) PingPayload(c *coordinate.Coordinate) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(PingVersion)
	if err := codec.NewEncoder(&buf, w.c.enc).Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WireCompressor is the transport's compressor (wire_compression.go).
type WireCompressor struct{ z *wireCompressor }

func NewWireCompressor() WireCompressor {
	return WireCompressor{newWireCompressor(newWireCodec(false))}
}

// Pack is what the transport sends for packet p.
func (c WireCompressor) Pack(p []byte) []byte { return c.z.packPacket(p) }

// Unpack is what the transport hands memberlist for a received packet p.
func (c WireCompressor) Unpack(p []byte) []byte { return c.z.unpackPacket(p) }

// MaxUnpacked bounds what one received packet unpacks to.
const MaxUnpacked = maxUnpacked

// GossipCopies is the transport's filter of gossip copies
// (gossip_copies.go).
type GossipCopies struct{ c *gossipCopies }

func NewGossipCopies() GossipCopies { return GossipCopies{newGossipCopies(0)} }

// Filter is what the transport hands memberlist of packet p received at
// now (nil: nothing).
func (g GossipCopies) Filter(p []byte, now time.Time) []byte { return g.c.filter(p, now) }
