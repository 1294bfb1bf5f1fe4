package cluster

import (
	"fmt"
	"net"
	"strconv"
)

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may still grab it; Start retries on "address already in use".
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("reserve tcp port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeGossipPort returns a port free for both TCP and UDP on 127.0.0.1, as
// memberlist binds both on the same number.
func FreeGossipPort() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("reserve tcp port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue // UDP side taken; try another number
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both tcp and udp after 50 tries")
}
