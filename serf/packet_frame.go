package serf

import (
	"encoding/binary"
	"hash/crc32"
)

// memberlist's framing of a packet, as the transport reads it: an
// optional label header, an optional CRC header, then one message, which
// may be a compound of several (memberlist's net.go and label.go).

// splitLabel splits a packet into memberlist's label header (empty when
// there is none) and the rest; ok is false for a truncated header.
func splitLabel(p []byte) (label, rest []byte, ok bool) {
	if len(p) == 0 || p[0] != mlHasLabelMsg {
		return nil, p, true
	}
	if len(p) < 2 || len(p) < 2+int(p[1]) {
		return nil, p, false
	}
	n := 2 + int(p[1])
	return p[:n], p[n:], true
}

// receivedMessage splits a received packet into its label header (empty
// when there is none) and the message it carries, with the CRC header,
// when there is one, checked and taken off. ok is false for a truncated
// label or a CRC that does not match.
func receivedMessage(p []byte) (label, msg []byte, ok bool) {
	label, msg, ok = splitLabel(p)
	if !ok || len(msg) < mlCRCHeaderLen || msg[0] != mlHasCrcMsg {
		return label, msg, ok
	}
	crc, body := binary.BigEndian.Uint32(msg[1:mlCRCHeaderLen]), msg[mlCRCHeaderLen:]
	if crc32.ChecksumIEEE(body) != crc {
		return nil, nil, false
	}
	return label, body, true
}

// splitCompound appends to parts the messages of memberlist's compound
// message whose body (after the type byte) is b: a count byte, a
// big-endian uint16 length per part, then the parts. ok is false when the
// lengths run past the end; bytes after the last part are ignored, as
// memberlist ignores them.
func splitCompound(b []byte, parts [][]byte) (_ [][]byte, ok bool) {
	if len(b) < 1 {
		return parts, false
	}
	n := int(b[0])
	if len(b) < 1+2*n {
		return parts, false
	}
	lengths, rest := b[1:1+2*n], b[1+2*n:]
	for i := range n {
		size := int(binary.BigEndian.Uint16(lengths[2*i:]))
		if len(rest) < size {
			return parts, false
		}
		parts, rest = append(parts, rest[:size]), rest[size:]
	}
	return parts, true
}

// appendCompound appends memberlist's compound message of parts (at most
// 255) to out.
func appendCompound(out []byte, parts [][]byte) []byte {
	out = append(out, mlCompoundMsg, byte(len(parts)))
	for _, part := range parts {
		out = binary.BigEndian.AppendUint16(out, uint16(len(part)))
	}
	for _, part := range parts {
		out = append(out, part...)
	}
	return out
}

// eachSentMessage calls fn with every message in the packet p that
// memberlist is sending (the parts of a compound one by one), the label
// header in front of it, and whether a CRC header came off. A packet it
// cannot read is skipped.
func eachSentMessage(p []byte, fn func(label []byte, withCRC bool, msg []byte)) {
	label, msg, ok := receivedMessage(p)
	if !ok || len(msg) == 0 {
		return
	}
	withCRC := len(label)+len(msg) < len(p)
	if msg[0] != mlCompoundMsg {
		fn(label, withCRC, msg)
		return
	}
	parts, ok := splitCompound(msg[1:], nil)
	if !ok {
		return
	}
	for _, part := range parts {
		if len(part) > 0 {
			fn(label, withCRC, part)
		}
	}
}

// packetAlone frames msg in a packet of its own: label, then a CRC header
// when withCRC, then msg.
func packetAlone(label []byte, withCRC bool, msg []byte) []byte {
	packet := append(make([]byte, 0, len(label)+mlCRCHeaderLen+len(msg)), label...)
	if withCRC {
		packet = append(packet, mlHasCrcMsg)
		packet = binary.BigEndian.AppendUint32(packet, crc32.ChecksumIEEE(msg))
	}
	return append(packet, msg...)
}

// withoutMessages returns the packet p without the messages drop picks (a
// compound's parts one by one, or p's one message): p itself when drop
// picks none, nil when it picks all, else a packet of the rest, with p's
// label and, when sealCRC, a CRC header if p had one (a received packet
// needs none). It also returns how many messages were dropped. A packet
// it cannot read is returned as it is. parts is scratch space, kept
// between calls.
func withoutMessages(p []byte, parts *[][]byte, sealCRC bool, drop func(label, msg []byte) bool) ([]byte, int) {
	label, msg, ok := receivedMessage(p)
	if !ok || len(msg) == 0 {
		return p, 0
	}
	if msg[0] != mlCompoundMsg {
		if drop(label, msg) {
			return nil, 1
		}
		return p, 0
	}
	all, ok := splitCompound(msg[1:], (*parts)[:0])
	*parts = all[:0]
	if !ok {
		return p, 0
	}
	kept := all[:0]
	for _, part := range all {
		if len(part) == 0 || !drop(label, part) {
			kept = append(kept, part)
		}
	}
	dropped := len(all) - len(kept)
	switch {
	case dropped == 0:
		return p, 0
	case len(kept) == 0:
		return nil, dropped
	}
	withCRC := sealCRC && len(label)+len(msg) < len(p)
	return packetAlone(label, withCRC, appendCompound(nil, kept)), dropped
}
