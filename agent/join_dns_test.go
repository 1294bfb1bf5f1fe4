package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/serf-clone/serf/serf/serftest"
)

// testDNS is a real DNS server on 127.0.0.1 (UDP) serving A and SRV
// records that a test can add while it runs.
type testDNS struct {
	addr string
	srv  *dns.Server

	mu      sync.Mutex
	a       map[string][]string // name -> IPv4s
	srvs    map[string][]*dns.SRV
	queries map[string]int // "name type" -> count
}

func startTestDNS(t *testing.T) *testDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &testDNS{
		addr:    pc.LocalAddr().String(),
		a:       make(map[string][]string),
		srvs:    make(map[string][]*dns.SRV),
		queries: make(map[string]int),
	}
	started := make(chan struct{})
	d.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.srv.ActivateAndServe()
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("DNS server did not start")
	}
	t.Cleanup(func() {
		_ = d.srv.Shutdown()
		<-done
	})
	return d
}

func (d *testDNS) addA(name string, ips ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.a[dns.Fqdn(name)] = append(d.a[dns.Fqdn(name)], ips...)
}

func (d *testDNS) addSRV(name, target string, port int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.srvs[dns.Fqdn(name)] = append(d.srvs[dns.Fqdn(name)], &dns.SRV{
		Hdr:    dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 0},
		Target: dns.Fqdn(target), Port: uint16(port), Priority: 1, Weight: 1,
	})
}

func (d *testDNS) count(name string, qtype uint16) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries[dns.Fqdn(name)+" "+dns.TypeToString[qtype]]
}

func (d *testDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	known := false
	for _, q := range req.Question {
		d.queries[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]++
		name := strings.ToLower(q.Name)
		if ips, ok := d.a[name]; ok {
			known = true
			if q.Qtype == dns.TypeA {
				for _, ip := range ips {
					m.Answer = append(m.Answer, &dns.A{
						Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
						A:   net.ParseIP(ip),
					})
				}
			}
		}
		if rrs, ok := d.srvs[name]; ok {
			known = true
			if q.Qtype == dns.TypeSRV {
				for _, rr := range rrs {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
	}
	d.mu.Unlock()
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

func TestExpandJoinAddrEveryAddress(t *testing.T) {
	d := startTestDNS(t)
	d.addA("multi.serf.test", "127.0.0.1", "127.0.0.2")
	d.addA("one.serf.test", "127.0.0.3")
	d.addSRV("_serf._udp.serf.test", "one.serf.test", 7001)
	d.addSRV("_serf._udp.serf.test", "multi.serf.test", 7002)
	r := (&Config{DNSResolver: d.addr}).joinResolver()

	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"multi.serf.test:7946", []string{"127.0.0.1:7946", "127.0.0.2:7946"}},
		{"multi.serf.test", []string{"127.0.0.1", "127.0.0.2"}},
		{"node-x/one.serf.test:8000", []string{"node-x/127.0.0.3:8000"}},
		{"127.0.0.9:1234", []string{"127.0.0.9:1234"}},
		{"dns+srv://_serf._udp.serf.test", []string{"127.0.0.1:7002", "127.0.0.2:7002", "127.0.0.3:7001"}},
	} {
		got, err := expandJoinAddr(context.Background(), r, tc.in, true)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, got, tc.want)
		}
	}
	if _, err := expandJoinAddr(context.Background(), r, "missing.serf.test:1", true); err == nil {
		t.Error("a name without records resolved")
	}
}

func TestResolveJoinAddrsUnchangedWithoutDNSSettings(t *testing.T) {
	n := startNode(t, "plain", nil)
	in := []string{"some-host.invalid:7946", "127.0.0.1"}
	got, err := n.agent.resolveJoinAddrs(in)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(in) {
		t.Fatalf("got %v, %v; want %v unchanged", got, err, in)
	}
}

// retryJoinUntilMember runs b's retry-join and waits for b to see a.
func retryJoinUntilMember(t *testing.T, b, a *testNode, before func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.agent.RetryJoin(ctx) }()
	returned := false
	defer func() {
		cancel()
		if !returned {
			if err := <-done; err != nil {
				t.Logf("retry join: %v", err)
			}
		}
	}()
	before()
	serftest.Eventually(t, 30*time.Second, func() error {
		for _, m := range b.agent.Serf().Members() {
			if m.Name == a.name {
				return nil
			}
		}
		return errors.New("not joined yet")
	})
	select {
	case err := <-done:
		returned = true
		if err != nil {
			t.Fatalf("retry join: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("retry join did not return after the join")
	}
}

func TestRetryJoinBySRVKeepsResolving(t *testing.T) {
	d := startTestDNS(t)
	a := startNode(t, "srv-a", nil)
	_, aPort, _ := net.SplitHostPort(a.bind)
	const name = "_serf._udp.cluster.serf.test"
	b := startNode(t, "srv-b", func(c *Config) {
		c.DNSResolver = d.addr
		c.RetryJoin = []string{SRVPrefix + name}
		c.RetryInterval = 50 * time.Millisecond
	})
	port, err := strconv.Atoi(aPort)
	if err != nil {
		t.Fatal(err)
	}
	retryJoinUntilMember(t, b, a, func() {
		// No record yet: the agent must fail, and ask again.
		serftest.Eventually(t, 30*time.Second, func() error {
			if d.count(name, dns.TypeSRV) < 2 {
				return errors.New("SRV name not asked twice yet")
			}
			return nil
		})
		d.addA("srv-a.serf.test", "127.0.0.1")
		d.addSRV(name, "srv-a.serf.test", port)
	})
	if !strings.Contains(b.console.String(), "[WARN] agent: Failed to resolve "+SRVPrefix+name) {
		t.Errorf("no resolution failure logged:\n%s", b.console.String())
	}
}

func TestRetryJoinByNameKeepsResolving(t *testing.T) {
	d := startTestDNS(t)
	a := startNode(t, "name-a", nil)
	_, aPort, _ := net.SplitHostPort(a.bind)
	const host = "serf-1.serf.test"
	b := startNode(t, "name-b", func(c *Config) {
		c.DNSResolver = d.addr
		c.RetryJoin = []string{net.JoinHostPort(host, aPort)}
		c.RetryInterval = 50 * time.Millisecond
	})
	retryJoinUntilMember(t, b, a, func() {
		serftest.Eventually(t, 30*time.Second, func() error {
			if d.count(host, dns.TypeA) < 2 {
				return errors.New("name not asked twice yet")
			}
			return nil
		})
		// The first address is dead; the agent must try the second too.
		d.addA(host, "127.0.0.2", "127.0.0.1")
	})
}
