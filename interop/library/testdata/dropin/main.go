// Command dropin is written against HashiCorp's packages
// (github.com/hashicorp/serf/serf, /client and /coordinate, v0.10.2) and
// uses their API broadly. TestDropIn builds it unchanged against upstream
// and, with only the import paths rewritten, against this repository's
// packages, then runs both: two members on 127.0.0.1 join, exchange a user
// event and a query, change keys, and leave. It prints "ok" on success.
package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/hashicorp/logutils"
	"github.com/hashicorp/serf/client"
	"github.com/hashicorp/serf/coordinate"
	"github.com/hashicorp/serf/serf"
)

const wait = 30 * time.Second

// mergeSeen records that the Merge delegate was consulted.
type mergeSeen chan []*serf.Member

func (m mergeSeen) NotifyMerge(members []*serf.Member) error {
	select {
	case m <- members:
	default:
	}
	return nil
}

// doubleTimeout keeps failed members twice as long as configured.
type doubleTimeout struct{}

func (doubleTimeout) ReconnectTimeout(m *serf.Member, timeout time.Duration) time.Duration {
	return 2 * timeout
}

func config(name string, key []byte, events chan<- serf.Event, merge serf.MergeDelegate) *serf.Config {
	conf := serf.DefaultConfig()
	conf.Init()
	conf.NodeName = name
	conf.Tags["role"] = "dropin"
	conf.EventCh = events
	conf.LogOutput = io.Discard
	conf.FlapTimeout = 30 * time.Second
	conf.Merge = merge
	conf.ReconnectTimeoutOverride = doubleTimeout{}
	conf.ValidateNodeNames = true
	conf.MsgpackUseNewTimeFormat = true
	conf.MetricLabels = nil
	conf.CoalescePeriod, conf.QuiescentPeriod = 0, 0
	conf.ProtocolVersion = serf.ProtocolVersionMax
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = 0
	conf.MemberlistConfig.SecretKey = key
	conf.MemberlistConfig.LogOutput = io.Discard
	return conf
}

// node is one member and the loop that reads its events.
type node struct {
	s       *serf.Serf
	events  chan serf.Event
	joined  chan string // names from EventMemberJoin
	users   chan serf.UserEvent
	unknown chan string
	done    chan struct{}
	stopped chan struct{}
}

func start(name string, key []byte, merge serf.MergeDelegate) (*node, error) {
	n := &node{
		events:  make(chan serf.Event, 64),
		joined:  make(chan string, 16),
		users:   make(chan serf.UserEvent, 16),
		unknown: make(chan string, 16),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s, err := serf.Create(config(name, key, n.events, merge))
	if err != nil {
		return nil, err
	}
	n.s = s
	go n.loop()
	return n, nil
}

func (n *node) loop() {
	defer close(n.stopped)
	for {
		select {
		case <-n.done:
			return
		case e := <-n.events:
			switch ev := e.(type) {
			case serf.MemberEvent:
				if ev.Type == serf.EventMemberJoin {
					for _, m := range ev.Members {
						n.joined <- m.Name
					}
				}
			case serf.UserEvent:
				n.users <- ev
			case *serf.Query:
				if ev.Name == "ping" {
					ev.Respond([]byte("pong from " + n.s.LocalMember().Name))
				}
			default:
				n.unknown <- fmt.Sprintf("%T", e)
			}
		}
	}
}

func (n *node) stop() error {
	err := n.s.Leave()
	if e := n.s.Shutdown(); err == nil {
		err = e
	}
	close(n.done)
	<-n.stopped
	return err
}

func (n *node) waitJoin(name string) error {
	deadline := time.After(wait)
	for {
		select {
		case got := <-n.joined:
			if got == name {
				return nil
			}
		case t := <-n.unknown:
			return fmt.Errorf("event of unexpected type %s", t)
		case <-deadline:
			return fmt.Errorf("no member-join for %s", name)
		}
	}
}

func run() error {
	key := []byte("0123456789abcdef")
	newKey := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))

	if _, err := serf.Create(config("bad name!", key, nil, nil)); err == nil {
		return errors.New("Create accepted an invalid node name with ValidateNodeNames set")
	}

	a, err := start("dropin-a", key, nil)
	if err != nil {
		return fmt.Errorf("create a: %w", err)
	}
	merges := make(mergeSeen, 16)
	b, err := start("dropin-b", key, merges)
	if err != nil {
		a.stop()
		return fmt.Errorf("create b: %w", err)
	}
	defer a.stop()
	defer b.stop()

	if err := a.s.ValidateNodeNames(); err != nil {
		return err
	}
	self := a.s.LocalMember()
	addr := fmt.Sprintf("%s:%d", self.Addr, self.Port)
	if n, err := b.s.Join([]string{addr}, false); err != nil || n != 1 {
		return fmt.Errorf("join: %d %v", n, err)
	}
	if err := a.waitJoin("dropin-b"); err != nil {
		return fmt.Errorf("a: %w", err)
	}
	select {
	case <-merges:
	case <-time.After(wait):
		return errors.New("Merge delegate never called")
	}
	if got := len(a.s.Members()); got != 2 {
		return fmt.Errorf("a has %d members", got)
	}

	if err := b.s.UserEvent("deploy", []byte("v1"), false); err != nil {
		return err
	}
	select {
	case ev := <-a.users:
		if ev.Name != "deploy" || string(ev.Payload) != "v1" || ev.EventType() != serf.EventUser {
			return fmt.Errorf("user event %+v", ev)
		}
	case <-time.After(wait):
		return errors.New("no user event")
	}

	params := b.s.DefaultQueryParams()
	params.FilterNodes = []string{"dropin-a"}
	params.FilterTags = map[string]string{"role": "drop.*"}
	params.RequestAck = true
	params.RelayFactor = 1
	params.Timeout = wait
	qr, err := b.s.Query("ping", []byte("?"), params)
	if err != nil {
		return err
	}
	select {
	case r := <-qr.ResponseCh():
		if r.From != "dropin-a" || string(r.Payload) != "pong from dropin-a" {
			return fmt.Errorf("response %+v", r)
		}
	case <-time.After(wait):
		return errors.New("no query response")
	}
	qr.Close()

	km := b.s.KeyManager()
	opts := &serf.KeyRequestOptions{RelayFactor: 1}
	if resp, err := km.InstallKeyWithOptions(newKey, opts); err != nil {
		return fmt.Errorf("install key: %v %+v", err, resp)
	}
	if resp, err := km.UseKeyWithOptions(newKey, opts); err != nil {
		return fmt.Errorf("use key: %v %+v", err, resp)
	}
	if resp, err := km.RemoveKeyWithOptions(base64.StdEncoding.EncodeToString(key), opts); err != nil {
		return fmt.Errorf("remove key: %v %+v", err, resp)
	}
	resp, err := km.ListKeysWithOptions(opts)
	if err != nil || resp.NumNodes != 2 || resp.Keys[newKey] != 2 || len(resp.Keys) != 1 {
		return fmt.Errorf("list keys: %v %+v", err, resp)
	}

	var c *coordinate.Coordinate
	if c, err = a.s.GetCoordinate(); err != nil {
		return err
	}
	if d := c.DistanceTo(c); d < 0 {
		return fmt.Errorf("distance %v", d)
	}
	if serf.ProtocolVersionMap[serf.ProtocolVersionMax] == 0 || serf.MaxNodeNameLength != 128 {
		return errors.New("protocol constants")
	}
	return nil
}

// rpc uses the client package's API; it is compiled, not run (there is no
// agent here).
func rpc(addr string) error {
	c, err := client.ClientFromConfig(&client.Config{Addr: addr, Timeout: time.Second, MsgpackUseNewTimeFormat: true})
	if err != nil {
		if c, err = client.NewRPCClient(addr); err != nil {
			return err
		}
	}
	defer c.Close()
	logs := make(chan string, 8)
	h, err := c.Monitor(logutils.LogLevel("INFO"), logs)
	if err != nil {
		return err
	}
	defer c.Stop(h)
	var coord *coordinate.Coordinate
	if coord, err = c.GetCoordinate("node"); err != nil || coord == nil {
		return err
	}
	_ = coord.DistanceTo(coord)
	members, err := c.Members()
	if err != nil {
		return err
	}
	_ = members
	acks, resps := make(chan string, 4), make(chan client.NodeResponse, 4)
	return c.Query(&client.QueryParam{Name: "ping", RequestAck: true, AckCh: acks, RespCh: resps})
}

var _ = rpc

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
