package agent

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

const (
	mdnsPollInterval  = 60 * time.Second
	mdnsQuietInterval = 100 * time.Millisecond
)

// MDNS advertises this agent as "_serf_<cluster>._tcp" and periodically
// looks for peers advertising the same name, joining each new one once.
// The agent that started it (StartMDNS) stops it on Shutdown.
type MDNS struct {
	agent    *Agent
	logger   *log.Logger
	service  string
	replay   bool
	iface    *net.Interface
	v4, v6   bool
	server   *mdns.Server
	quit     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// StartMDNS starts mDNS discovery for the cluster named by the discover
// setting, on the mdns.interface (or interface) setting, advertising the
// address memberlist listens on. It logs to logOutput; the agent owns the
// result and stops it in Shutdown. Call it once, after Start.
func (a *Agent) StartMDNS(logOutput io.Writer) (*MDNS, error) {
	conf := a.conf
	iface, _ := conf.MDNSNetworkInterface()
	ifaceName := "<nil>"
	if iface != nil {
		ifaceName = iface.Name
	}
	a.logger.Printf("[INFO] agent: Starting mDNS listener on interface %s", ifaceName)

	local := a.serf.Memberlist().LocalNode()
	service := fmt.Sprintf("_serf_%s._tcp", conf.Discover)
	info := []string{fmt.Sprintf("Serf '%s' cluster", conf.Discover)}
	zone, err := mdns.NewMDNSService(conf.NodeName, service, "", "", int(local.Port), []net.IP{local.Addr}, info)
	if err != nil {
		return nil, err
	}
	server, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: iface})
	if err != nil {
		return nil, err
	}
	m := &MDNS{
		agent:   a,
		logger:  log.New(logOutput, "", log.LstdFlags),
		service: service,
		replay:  conf.ReplayOnJoin,
		iface:   iface,
		v4:      !conf.MDNS.DisableIPv4,
		v6:      !conf.MDNS.DisableIPv6,
		server:  server,
		quit:    make(chan struct{}),
	}
	a.shutdownMu.Lock()
	a.mdns = m
	a.shutdownMu.Unlock()
	m.wg.Add(1)
	go m.run()
	return m, nil
}

// Shutdown stops discovery and the responder. Idempotent.
func (m *MDNS) Shutdown() {
	m.stopOnce.Do(func() {
		close(m.quit)
		_ = m.server.Shutdown()
	})
	m.wg.Wait()
}

// discovered remembers which peer addresses have been handed to a join
// and collects the new ones until discovery has been quiet for a moment.
type discovered struct {
	joined map[string]bool
	batch  []string
}

// add queues addr unless it was joined before; it reports whether it did.
func (d *discovered) add(addr string) bool {
	if d.joined[addr] {
		return false
	}
	d.batch = append(d.batch, addr)
	return true
}

// take returns the queued batch and marks it joined.
func (d *discovered) take() []string {
	b := d.batch
	for _, addr := range b {
		d.joined[addr] = true
	}
	d.batch = nil
	return b
}

func (m *MDNS) run() {
	defer m.wg.Done()
	hosts := make(chan *mdns.ServiceEntry, 32)
	found := &discovered{joined: make(map[string]bool)}
	var quiet <-chan time.Time
	poll := time.NewTimer(0)
	defer poll.Stop()
	var polls sync.WaitGroup
	defer polls.Wait()

	for {
		select {
		case <-m.quit:
			return
		case h := <-hosts:
			if found.add((&net.TCPAddr{IP: h.Addr, Port: h.Port}).String()) {
				quiet = time.After(mdnsQuietInterval)
			}
		case <-quiet:
			m.join(found.take())
		case <-poll.C:
			poll.Reset(mdnsPollInterval)
			polls.Add(1)
			go func() {
				defer polls.Done()
				m.poll(hosts)
			}()
		}
	}
}

// join joins a batch of discovered peers and logs the outcome.
func (m *MDNS) join(addrs []string) {
	n, err := m.agent.Join(addrs, m.replay)
	if err != nil {
		m.logger.Printf("[ERR] agent.mdns: Failed to join: %v", err)
	}
	if n > 0 {
		m.logger.Printf("[INFO] agent.mdns: Joined %d hosts", n)
	}
}

// poll runs one mDNS query; found entries are offered to run without
// blocking once we are shutting down.
func (m *MDNS) poll(out chan<- *mdns.ServiceEntry) {
	entries := make(chan *mdns.ServiceEntry, 32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range entries {
			select {
			case out <- e:
			case <-m.quit:
			}
		}
	}()
	params := &mdns.QueryParam{
		Service:     m.service,
		Interface:   m.iface,
		Entries:     entries,
		Timeout:     time.Second,
		DisableIPv4: !m.v4,
		DisableIPv6: !m.v6,
	}
	// Cancel the lookup as soon as we shut down.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-m.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := mdns.QueryContext(ctx, params); err != nil && ctx.Err() == nil {
		m.logger.Printf("[ERR] agent.mdns: Failed to poll for new hosts: %v", err)
	}
	close(entries)
	<-done
}
