package serf

import "net"

// udpSocket is how the transport reads and writes its datagrams. Errors
// are *net.OpError with Op "read" or "write" and Net "udp", as the
// net.UDPConn methods return them: memberlist tells a failed send to a
// peer from other errors by that type (failedRemote in its state.go).
// writeTo may be called from any goroutine; readFrom from one at a time,
// as the transport's one reader does.
type udpSocket interface {
	readFrom(b []byte) (int, *net.UDPAddr, error)
	writeTo(b []byte, to *net.UDPAddr) error
}

// stdUDPSocket is the portable udpSocket: net.UDPConn's own methods.
type stdUDPSocket struct{ c *net.UDPConn }

func (s stdUDPSocket) readFrom(b []byte) (int, *net.UDPAddr, error) {
	return s.c.ReadFromUDP(b)
}

func (s stdUDPSocket) writeTo(b []byte, to *net.UDPAddr) error {
	_, err := s.c.WriteToUDP(b, to)
	return err
}
