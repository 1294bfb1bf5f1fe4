package serf

import (
	"net"
	"testing"
)

// On Linux the transport must get the raw socket, for both families, or
// the tests of udp_socket_test.go compare the portable one with itself.
func TestUDPSocketIsRawOnLinux(t *testing.T) {
	for _, network := range []string{"udp4", "udp"} {
		c := listenUDP(t, network, net.IPv4(127, 0, 0, 1))
		if _, ok := newUDPSocket(c).(*rawUDPSocket); !ok {
			t.Errorf("%s: newUDPSocket gave %T, want *rawUDPSocket", network, newUDPSocket(c))
		}
	}
}
