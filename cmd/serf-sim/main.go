// Command serf-sim runs N real serf.Serf members of this module in one
// process on the in-memory network of serf/serftest and measures, in
// gossip rounds and probe periods, how membership, user events, queries,
// failures and partitions spread through them, next to Serf's epidemic
// model and the SWIM/Lifeguard expectations. The scenarios are those of
// package engine; interop/sim runs the same ones on upstream Serf. See
// `serf-sim -h` and `make sim`.
package main

import (
	"log"
	"os"
	"time"

	"github.com/serf-clone/serf/cmd/serf-sim/engine"
	"github.com/serf-clone/serf/serf"
)

func main() {
	os.Exit(engine.Main(ours{}, os.Args[1:], os.Stdout, os.Stderr))
}

// ours is this module's serf.Serf as an engine.Impl.
type ours struct{}

func (ours) Name() string { return "github.com/serf-clone/serf" }

// StreamLimit: serf.Create's own transport queues connections past it.
func (ours) StreamLimit() int { return serf.MaxStreamsInFlight }

func (ours) Start(spec engine.Spec) (engine.Member, error) {
	conf := Profile(spec)
	events := make(chan serf.Event, 64)
	conf.EventCh = events
	s, err := serf.Create(conf)
	if err != nil {
		return nil, err
	}
	go forward(s, events, spec.Events)
	return &member{s: s}, nil
}

// Profile is Serf's library defaults with every interval and timeout
// (every time.Duration field, AntiEntropyInterval and the rejoin retries
// included) scaled by the time-dilation factor, on the engine's memberlist profile.
func Profile(spec engine.Spec) *serf.Config {
	conf := serf.DefaultConfig()
	conf.NodeName = spec.Name
	conf.Logger = log.New(spec.Logs, "", log.LstdFlags)
	spec.Opt.DilateDurations(conf)
	spec.Memberlist.Logger = conf.Logger
	conf.MemberlistConfig = spec.Memberlist
	return conf
}

// forward converts the member's events for the engine until it shuts down.
func forward(s *serf.Serf, in <-chan serf.Event, out chan<- engine.Event) {
	for {
		var e serf.Event
		select {
		case e = <-in:
		case <-s.ShutdownCh():
			return
		}
		var ev engine.Event
		switch e := e.(type) {
		case serf.MemberEvent:
			ev = memberEvent(e)
		case *serf.MemberEvent:
			ev = memberEvent(*e)
		case serf.UserEvent:
			ev = engine.Event{Kind: engine.UserEvent, Name: e.Name}
		case *serf.Query:
			ev = engine.Event{Kind: engine.QueryEvent, Name: e.Name}
		default:
			continue
		}
		select {
		case out <- ev:
		case <-s.ShutdownCh():
			return
		}
	}
}

func memberEvent(e serf.MemberEvent) engine.Event {
	ev := engine.Event{Kind: engine.MemberOther, Members: make([]string, len(e.Members))}
	switch e.Type {
	case serf.EventMemberJoin:
		ev.Kind = engine.MemberJoin
	case serf.EventMemberLeave:
		ev.Kind = engine.MemberLeave
	case serf.EventMemberFailed:
		ev.Kind = engine.MemberFailed
	case serf.EventMemberReap:
		ev.Kind = engine.MemberReap
	}
	for i, m := range e.Members {
		ev.Members[i] = m.Name
	}
	return ev
}

type member struct{ s *serf.Serf }

func (m *member) LocalName() string { return m.s.LocalMember().Name }

func (m *member) Join(addrs []string) (int, error) { return m.s.Join(addrs, false) }

func (m *member) UserEvent(name string, payload []byte) error {
	return m.s.UserEvent(name, payload, false)
}

func (m *member) Query(name string, payload []byte) (<-chan string, func(), error) {
	resp, err := m.s.Query(name, payload, &serf.QueryParam{RequestAck: true})
	if err != nil {
		return nil, nil, err
	}
	return resp.AckCh(), func() {
		resp.Close()
		for range resp.ResponseCh() {
		}
	}, nil
}

func (m *member) Members() int {
	alive := 0
	for _, x := range m.s.Members() {
		if x.Status == serf.StatusAlive {
			alive++
		}
	}
	return alive
}

func (m *member) DefaultQueryTimeout() time.Duration { return m.s.DefaultQueryTimeout() }

func (m *member) Shutdown() error { return m.s.Shutdown() }
