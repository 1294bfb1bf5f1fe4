package serf

import (
	"fmt"
	"maps"

	"github.com/hashicorp/memberlist"
)

// tagMagicByte marks node metadata that holds a msgpack map of tags.
// Metadata without it is the protocol-2 form: the bare "role" tag.
const tagMagicByte byte = 0xff

// encodeTags renders tags as memberlist node metadata for our protocol.
func (s *Serf) encodeTags(tags map[string]string) []byte {
	if s.config.ProtocolVersion < 3 {
		return []byte(tags["role"])
	}
	body, err := s.codec.encodePlain(tags)
	if err != nil {
		// A map of strings always encodes; keep the node announceable anyway.
		s.logger.Printf("[ERR] serf: Failed to encode tags: %v", err)
		return []byte{tagMagicByte, 0x80}
	}
	return append([]byte{tagMagicByte}, body...)
}

// decodeTags reads tags from a peer's node metadata, in either form.
func (s *Serf) decodeTags(meta []byte) map[string]string {
	if len(meta) == 0 || meta[0] != tagMagicByte {
		return map[string]string{"role": string(meta)}
	}
	tags := make(map[string]string)
	if err := s.codec.decode(meta[1:], &tags); err != nil {
		s.logger.Printf("[ERR] serf: Failed to decode tags: %v", err)
	}
	return tags
}

// SetTags replaces this node's tags with a copy of tags and gossips them.
// Peers see a member-update event.
func (s *Serf) SetTags(tags map[string]string) error {
	if n := len(s.encodeTags(tags)); n > memberlist.MetaMaxSize {
		return fmt.Errorf("Encoded length of tags exceeds limit of %d bytes", memberlist.MetaMaxSize)
	}
	own := maps.Clone(tags)
	if own == nil {
		own = make(map[string]string)
	}
	s.tagLock.Lock()
	s.tags = own
	s.tagLock.Unlock()
	return s.memberlist.UpdateNode(s.config.BroadcastTimeout)
}

// localTags returns this node's live tags. The map is never changed after
// it is installed, so callers may read it without the lock but must not
// write to it.
func (s *Serf) localTags() map[string]string {
	s.tagLock.RLock()
	defer s.tagLock.RUnlock()
	return s.tags
}
