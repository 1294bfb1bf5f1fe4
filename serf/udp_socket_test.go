package serf

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// socketKinds are the udpSocket implementations under test: the portable
// one and this platform's (the raw one on Linux), which must behave alike.
var socketKinds = []struct {
	name string
	make func(*net.UDPConn) udpSocket
}{
	{"std", func(c *net.UDPConn) udpSocket { return stdUDPSocket{c} }},
	{"platform", newUDPSocket},
}

// listenUDP binds network ("udp", "udp4" or "udp6") on ip with a free
// port, closed when the test ends; it skips when the host cannot.
func listenUDP(t *testing.T, network string, ip net.IP) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Skipf("cannot listen on %s %v: %v", network, ip, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readOne reads one datagram through sock within a few seconds.
func readOne(t *testing.T, c *net.UDPConn, sock udpSocket) ([]byte, *net.UDPAddr) {
	t.Helper()
	type result struct {
		n    int
		from *net.UDPAddr
		err  error
	}
	buf := make([]byte, maxPacketSize)
	done := make(chan result, 1)
	go func() {
		n, from, err := sock.readFrom(buf)
		done <- result{n, from, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("read: %v", r.err)
		}
		return buf[:r.n], r.from
	case <-time.After(5 * time.Second):
		_ = c.Close() // ends the reader
		t.Fatal("no datagram within 5 s")
		return nil, nil
	}
}

func TestUDPSocketDeliversWithTheSendersAddress(t *testing.T) {
	loop4, loop6 := net.IPv4(127, 0, 0, 1), net.IPv6loopback
	for _, kind := range socketKinds {
		for _, tc := range []struct {
			name                 string
			sendNet, recvNet     string
			sendBind, recvBind   net.IP
			dest                 net.IP // the receiver's address as the sender writes it
			wantFrom             string // the sender as the receiver reads it
			wantFromIsSenderPort bool
		}{
			{name: "ipv4", sendNet: "udp4", recvNet: "udp4", sendBind: loop4, recvBind: loop4, dest: loop4, wantFrom: "127.0.0.1"},
			// Bound to 0.0.0.0 with network "udp", Go makes a dual-stack
			// AF_INET6 socket, as the agent's default bind does: IPv4
			// peers are written and read as ::ffff:a.b.c.d.
			{name: "dual stack to ipv4", sendNet: "udp", recvNet: "udp4", sendBind: net.IPv4zero, recvBind: loop4, dest: loop4, wantFrom: "127.0.0.1"},
			{name: "ipv4 to dual stack", sendNet: "udp4", recvNet: "udp", sendBind: loop4, recvBind: net.IPv4zero, dest: loop4, wantFrom: "127.0.0.1"},
			{name: "ipv6", sendNet: "udp6", recvNet: "udp6", sendBind: loop6, recvBind: loop6, dest: loop6, wantFrom: "::1"},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				sc := listenUDP(t, tc.sendNet, tc.sendBind)
				rc := listenUDP(t, tc.recvNet, tc.recvBind)
				send, recv := kind.make(sc), kind.make(rc)
				payload := []byte("ping from " + tc.name)
				to := &net.UDPAddr{IP: tc.dest, Port: rc.LocalAddr().(*net.UDPAddr).Port}
				if err := send.writeTo(payload, to); err != nil {
					t.Fatalf("write to %v: %v", to, err)
				}
				got, from := readOne(t, rc, recv)
				if !bytes.Equal(got, payload) {
					t.Errorf("read %q, want %q", got, payload)
				}
				wantPort := sc.LocalAddr().(*net.UDPAddr).Port
				if !from.IP.Equal(net.ParseIP(tc.wantFrom)) || from.Port != wantPort {
					t.Errorf("from %v, want %s port %d", from, tc.wantFrom, wantPort)
				}
			})
		}
	}
}

// The kinds must agree on how a sender's address looks, down to the IP's
// length (4 bytes from an IPv4 socket, 16 from a dual-stack one), since
// memberlist keeps it, logs it and compares it.
func TestUDPSocketKindsReadTheSameAddress(t *testing.T) {
	for _, recvNet := range []string{"udp4", "udp"} {
		var seen []string
		for _, kind := range socketKinds {
			sc := listenUDP(t, "udp4", net.IPv4(127, 0, 0, 1))
			rc := listenUDP(t, recvNet, net.IPv4(127, 0, 0, 1))
			if _, err := sc.WriteToUDP([]byte("x"), rc.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
			_, from := readOne(t, rc, kind.make(rc))
			seen = append(seen, fmt.Sprintf("%s (%d bytes) zone %q", from.IP, len(from.IP), from.Zone))
		}
		if seen[0] != seen[1] {
			t.Errorf("receiving on %s: std reads %s, platform reads %s", recvNet, seen[0], seen[1])
		}
	}
}

func TestUDPSocketErrorsReadAsNetsOwn(t *testing.T) {
	for _, kind := range socketKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := listenUDP(t, "udp4", net.IPv4(127, 0, 0, 1))
			sock := kind.make(c)

			// memberlist's failedRemote looks for *net.OpError, Op "write",
			// Net "udp...".
			err := sock.writeTo([]byte("x"), &net.UDPAddr{IP: net.IPv6loopback, Port: 9})
			var oe *net.OpError
			if !errors.As(err, &oe) || oe.Op != "write" || oe.Net[:3] != "udp" {
				t.Errorf("write to IPv6 from an IPv4 socket: %#v, want a *net.OpError writing udp", err)
			}

			// A read in progress ends with an error when the socket closes.
			done := make(chan error, 1)
			go func() {
				_, _, err := sock.readFrom(make([]byte, 16))
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			_ = c.Close()
			select {
			case err := <-done:
				if !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, net.ErrClosed) {
					t.Errorf("read after close: %v, want a *net.OpError reading, net.ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("read still blocked 5 s after close")
			}
		})
	}
}
