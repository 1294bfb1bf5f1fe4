package serftest

import (
	"fmt"
	"net"
	"testing"
)

// FreePort returns a port that was free on 127.0.0.1 for both TCP and UDP
// a moment ago, for tests that must give an agent a concrete -bind or
// -rpc-addr (a gossip port needs both protocols). Another process may take
// it before the test binds it, so callers that can retry should.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP on 127.0.0.1")
	return 0
}
