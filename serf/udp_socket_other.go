//go:build !linux

package serf

import "net"

// newUDPSocket is net.UDPConn's own methods where there is no raw
// alternative (udp_socket_linux.go).
func newUDPSocket(c *net.UDPConn) udpSocket { return stdUDPSocket{c} }
