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

// NewMDNS starts the responder and the discovery loop.
func NewMDNS(a *Agent, logOutput io.Writer, replay bool, node, cluster string,
	iface *net.Interface, ip net.IP, port int, conf MDNSConfig) (*MDNS, error) {
	service := fmt.Sprintf("_serf_%s._tcp", cluster)
	zone, err := mdns.NewMDNSService(node, service, "", "", port, []net.IP{ip},
		[]string{fmt.Sprintf("Serf '%s' cluster", cluster)})
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
		replay:  replay,
		iface:   iface,
		v4:      !conf.DisableIPv4,
		v6:      !conf.DisableIPv6,
		server:  server,
		quit:    make(chan struct{}),
	}
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

func (m *MDNS) run() {
	defer m.wg.Done()
	hosts := make(chan *mdns.ServiceEntry, 32)
	seen := make(map[string]struct{})
	var pending []string
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
			addr := (&net.TCPAddr{IP: h.Addr, Port: h.Port}).String()
			if _, ok := seen[addr]; ok {
				continue
			}
			pending = append(pending, addr)
			quiet = time.After(mdnsQuietInterval)
		case <-quiet:
			n, err := m.agent.Join(pending, m.replay)
			if err != nil {
				m.logger.Printf("[ERR] agent.mdns: Failed to join: %v", err)
			}
			if n > 0 {
				m.logger.Printf("[INFO] agent.mdns: Joined %d hosts", n)
			}
			for _, a := range pending {
				seen[a] = struct{}{}
			}
			pending = nil
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
