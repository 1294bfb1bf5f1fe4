package library

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
)

// TestSerfWithRealAgent: one of our serf.Serf members joins a real agent and
// they exchange membership, tags, user events (one sent before we joined,
// replayed by push/pull), queries both ways (our query relayed through us
// by the real agent), coordinates and a graceful leave.
func TestSerfWithRealAgent(t *testing.T) {
	t.Parallel()
	real := startReal(t, "real", realOpts{tags: []string{"role=real"}})

	if out := realCLI(t, real, "event", "-coalesce=false", "early", "e"); !strings.Contains(out, "dispatched") {
		t.Fatalf("serf event: %s", out)
	}

	events := make(chan serf.Event, 1024)
	s, logs := startOurs(t, "clone", func(conf *serf.Config) {
		conf.Tags = map[string]string{"role": "clone", "dc": "x"}
		conf.EventCh = events
	})
	if _, err := s.Join([]string{real.BindAddr}, false); err != nil {
		t.Fatal(err)
	}

	until(t, settle, "the real agent to list us with our tags", func() bool {
		return containsAll(realCLI(t, real, "members", "-detailed"), "clone", "role=clone", "alive")
	})
	until(t, settle, "us to see the real agent", func() bool {
		m, ok := member(s, "real")
		return ok && m.Status == serf.StatusAlive && m.Tags["role"] == "real" && m.DelegateCur == 5
	})
	isUser := func(name, payload string) func(serf.Event) bool {
		return func(e serf.Event) bool {
			ue, ok := e.(serf.UserEvent)
			return ok && ue.Name == name && string(ue.Payload) == payload
		}
	}
	awaitEvent(t, events, "the replayed early event", isUser("early", "e"))

	if err := s.SetTags(map[string]string{"role": "changed"}); err != nil {
		t.Fatal(err)
	}
	until(t, settle, "the real agent to see our new tags", func() bool {
		return strings.Contains(realCLI(t, real, "members", "-detailed"), "role=changed")
	})

	if err := s.UserEvent("from-clone", []byte("p1"), false); err != nil {
		t.Fatal(err)
	}
	until(t, settle, "the real agent to receive our event", func() bool {
		return strings.Contains(real.Output(), "user-event: from-clone")
	})

	if out := realCLI(t, real, "event", "from-real", "p2"); !strings.Contains(out, "Event 'from-real' dispatched") {
		t.Fatalf("serf event: %s", out)
	}
	awaitEvent(t, events, "the real agent's event", isUser("from-real", "p2"))

	// A query from the real CLI, answered by us.
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		for e := range events {
			if q, ok := e.(*serf.Query); ok && q.Name == "ask" {
				_ = q.Respond([]byte("answer-from-clone"))
				return
			}
		}
	}()
	out := realCLI(t, real, "query", "-timeout", "3s", "-node", "clone", "ask")
	if !containsAll(out, "answer-from-clone", "Total Acks: 1") {
		t.Fatalf("real query output: %q", out)
	}
	<-answered

	// Our query, acked by both. With a relay factor the real agent also
	// sends its ack through a member, which can only be us: that decodes
	// upstream's relay message. Upstream picks relays by drawing members
	// at random six times here, skipping itself, so one query in 64 is
	// relayed by nobody; a few queries make that one in millions.
	for try := 1; !logs.Contains("[DEBUG] serf: Relaying response to addr: 127.0.0.1:"); try++ {
		if try > 4 {
			t.Fatal("the real agent's relayed ack never came through us")
		}
		resp, err := s.Query(serf.InternalQueryPrefix+"ping", nil,
			&serf.QueryParam{RequestAck: true, RelayFactor: 1, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var acks []string
		for a := range resp.AckCh() {
			acks = append(acks, a)
		}
		if len(acks) != 2 || !hasString(acks, "real") || !hasString(acks, "clone") {
			t.Fatalf("acks %v", acks)
		}
	}

	// Coordinates travel both ways in ping acks.
	until(t, settle, "coordinates exchanged", func() bool {
		_, ok := s.GetCachedCoordinate("real")
		return ok && strings.Contains(realCLI(t, real, "rtt", "clone"), "Estimated clone <-> real rtt")
	})

	if err := s.Leave(); err != nil {
		t.Fatal(err)
	}
	until(t, settle, "the real agent to see us left", func() bool {
		return strings.Contains(realCLI(t, real, "members"), "left")
	})
}

// TestSerfFailureAndForceLeaveWithRealAgent: failures are detected and
// force-leave works across the two implementations in both directions.
func TestSerfFailureAndForceLeaveWithRealAgent(t *testing.T) {
	t.Parallel()
	real := startReal(t, "real", realOpts{})
	a, _ := startOurs(t, "cloneA", nil)
	b, _ := startOurs(t, "cloneB", nil)
	for _, s := range []*serf.Serf{a, b} {
		if _, err := s.Join([]string{real.BindAddr}, false); err != nil {
			t.Fatal(err)
		}
	}
	until(t, settle, "3 alive", func() bool { return numWithStatus(a, serf.StatusAlive) == 3 })

	// Our member dies: the real agent sees it fail and prunes it on request.
	_ = b.Shutdown()
	until(t, failDetect, "the real agent to see cloneB failed", func() bool {
		return strings.Contains(realCLI(t, real, "members"), "failed")
	})
	until(t, failDetect, "cloneA to see cloneB failed", func() bool {
		m, _ := member(a, "cloneB")
		return m.Status == serf.StatusFailed
	})
	if out := realCLI(t, real, "force-leave", "-prune", "cloneB"); strings.TrimSpace(out) != "" {
		t.Fatalf("force-leave: %s", out)
	}
	until(t, settle, "cloneA to erase cloneB", func() bool {
		_, ok := member(a, "cloneB")
		return !ok
	})

	// The real agent dies: we force it out and it is left. memberlist still
	// counts the dead cloneB, so it waits for a confirmation nobody can
	// give and sits out the longest suspicion timeout (about 20 s with the
	// local profile); the bound leaves room for a loaded machine.
	real.Kill()
	until(t, failDetect, "cloneA to see the real agent failed", func() bool {
		m, _ := member(a, "real")
		return m.Status == serf.StatusFailed
	})
	if err := a.RemoveFailedNode("real"); err != nil {
		t.Fatal(err)
	}
	if m, _ := member(a, "real"); m.Status != serf.StatusLeft {
		t.Fatalf("real is %v after force-leave", m.Status)
	}
}

// TestSerfKeyRotationWithRealAgent: key rotation driven from either side
// reaches both implementations.
func TestSerfKeyRotationWithRealAgent(t *testing.T) {
	t.Parallel()
	key := func(b byte) []byte {
		k := make([]byte, 16)
		for i := range k {
			k[i] = b
		}
		return k
	}
	k1 := base64.StdEncoding.EncodeToString(key(1))
	k2 := base64.StdEncoding.EncodeToString(key(2))
	real := startReal(t, "real", realOpts{args: []string{"-encrypt", k1}})
	s, _ := startOurs(t, "clone", func(conf *serf.Config) {
		kr, err := memberlist.NewKeyring(nil, key(1))
		if err != nil {
			t.Fatal(err)
		}
		conf.MemberlistConfig.Keyring = kr
	})
	if _, err := s.Join([]string{real.BindAddr}, false); err != nil {
		t.Fatal(err)
	}
	until(t, settle, "2 alive", func() bool { return numWithStatus(s, serf.StatusAlive) == 2 })

	// Installed from our side, on both.
	if resp, err := s.KeyManager().InstallKey(k2); err != nil || resp.NumResp != 2 {
		t.Fatalf("install: %v %+v", err, resp)
	}
	// The real CLI's list has our answer too.
	if out := realCLI(t, real, "keys", "-list"); !containsAll(out, k2+"  [2/2]", k1+"  [2/2]") {
		t.Fatalf("real keys -list: %q", out)
	}
	// The primary switched from the real CLI; ours agrees.
	if out := realCLI(t, real, "keys", "-use", k2); !strings.Contains(out, "Successfully changed primary key!") {
		t.Fatalf("real keys -use:\n%s", out)
	}
	resp, err := s.KeyManager().ListKeys()
	if err != nil || resp.PrimaryKeys[k2] != 2 {
		t.Fatalf("list: %v %+v", err, resp)
	}
}
