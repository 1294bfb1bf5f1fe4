package serf

import (
	"bytes"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf/coordinate"
)

// PingVersion is the first byte of the ping-ack payload; it versions the
// coordinate that follows.
const PingVersion = 1

// pingDelegate piggy-backs our network coordinate on memberlist's probe
// acks and feeds the measured round-trip times into the Vivaldi client.
type pingDelegate struct {
	serf *Serf
}

var _ memberlist.PingDelegate = (*pingDelegate)(nil)

func (p *pingDelegate) AckPayload() []byte {
	var buf bytes.Buffer
	buf.WriteByte(PingVersion)
	if err := codec.NewEncoder(&buf, p.serf.codec.enc).Encode(p.serf.coordClient.GetCoordinate()); err != nil {
		p.serf.logger.Printf("[ERR] serf: Failed to encode coordinate: %v", err)
	}
	return buf.Bytes()
}

func (p *pingDelegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	if len(payload) == 0 {
		return
	}
	s := p.serf
	if payload[0] != PingVersion {
		s.logger.Printf("[ERR] serf: Unsupported ping version: %v", payload[0])
		return
	}
	var coord coordinate.Coordinate
	if err := s.codec.decode(payload[1:], &coord); err != nil {
		s.logger.Printf("[ERR] serf: Failed to decode coordinate from ping: %v", err)
		return
	}
	before := s.coordClient.GetCoordinate()
	after, err := s.coordClient.Update(other.Name, &coord, rtt)
	if err != nil {
		s.metrics.coordinateRejected()
		s.logger.Printf("[TRACE] serf: Rejected coordinate from %s: %v", other.Name, err)
		return
	}
	if rtt == 0 {
		s.metrics.coordinateZeroRTT()
	}
	s.metrics.coordinateAdjustment(before.DistanceTo(after))
	s.coordCacheLock.Lock()
	s.coordCache[other.Name] = &coord
	s.coordCache[s.config.NodeName] = s.coordClient.GetCoordinate()
	s.coordCacheLock.Unlock()
}
