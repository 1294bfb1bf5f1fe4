package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestTwoAgentsJoinEventsAndHandlerQuery(t *testing.T) {
	dir := t.TempDir()
	userOut := filepath.Join(dir, "user.out")
	a := startNode(t, "alpha", nil)
	b := startNode(t, "beta", func(c *Config) {
		c.Tags = map[string]string{"role": "db"}
		c.EventHandlers = []string{
			"user:deploy=(env | grep '^SERF_' | sort; cat) > " + userOut,
			"query:up=echo resp-from-$SERF_SELF_NAME",
		}
	})

	ca := dialRaw(t, a.rpcAddr)
	ca.handshake()
	if e := ca.call(client.JoinCommand, &client.JoinRequest{Existing: []string{b.bind}}); e != "" {
		t.Fatal(e)
	}
	var jr client.JoinResponse
	ca.body(&jr)
	if jr.Num != 1 {
		t.Fatalf("joined %d", jr.Num)
	}
	waitFor(t, 10*time.Second, func() bool { return len(membersOf(t, b.rpcAddr)) == 2 })

	// A failed join still sends a body and keeps the connection in sync.
	if e := ca.call(client.JoinCommand, &client.JoinRequest{Existing: []string{"127.0.0.1:1"}}); e == "" {
		t.Fatal("join to a closed port succeeded")
	}
	ca.body(&jr)

	if e := ca.call(client.EventCommand, &client.EventRequest{Name: "deploy", Payload: []byte("v1.2")}); e != "" {
		t.Fatal(e)
	}
	waitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(userOut)
		return strings.HasSuffix(string(b), "v1.2\n")
	})
	got := readFileString(t, userOut)
	for _, want := range []string{"SERF_EVENT=user\n", "SERF_SELF_NAME=beta\n", "SERF_SELF_ROLE=db\n",
		"SERF_TAG_ROLE=db\n", "SERF_USER_EVENT=deploy\n", "SERF_USER_LTIME="} {
		if !strings.Contains(got, want) {
			t.Errorf("handler env lacks %q:\n%s", want, got)
		}
	}

	qseq := ca.send(client.QueryCommand, &client.QueryRequest{Name: "up", RequestAck: true, Timeout: int64(3 * time.Second)})
	if h := ca.header(); h.Error != "" || h.Seq != qseq {
		t.Fatalf("query ack %+v", h)
	}
	acks, responses := map[string]bool{}, map[string]string{}
	for {
		h := ca.header()
		var r client.QueryRecord
		ca.body(&r)
		if h.Seq != qseq {
			continue
		}
		if r.Type == client.QueryRecordDone {
			break
		}
		if r.Type == client.QueryRecordAck {
			acks[r.From] = true
		} else {
			responses[r.From] = string(r.Payload)
		}
	}
	if !acks["alpha"] || !acks["beta"] || responses["beta"] != "resp-from-beta\n" {
		t.Fatalf("acks %v responses %v", acks, responses)
	}
	if !strings.Contains(b.console.String(), "[INFO] agent: Received event: query: up") {
		t.Error("no Received event line for the query")
	}

	// Graceful leave through RPC shuts the agent down after replying.
	cb := dialRaw(t, b.rpcAddr)
	cb.handshake()
	if e := cb.call(client.LeaveCommand, nil); e != "" {
		t.Fatal(e)
	}
	select {
	case <-b.agent.ShutdownCh():
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not shut down after leave")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status := ""
		for _, m := range membersOf(t, a.rpcAddr) {
			if m.Name == "beta" {
				status = m.Status
			}
		}
		if status == "left" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("beta is %q on alpha\nalpha:\n%s\nbeta:\n%s", status, a.console.String(), b.console.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAgentCreateFileErrors(t *testing.T) {
	dir := t.TempDir()
	conf := DefaultConfig()
	conf.TagsFile = filepath.Join(dir, "tags.json")
	conf.Tags = map[string]string{"a": "b"}
	if _, err := Create(conf, testSerfConfig(t, DefaultConfig()), nil); err == nil || err.Error() != "Tags config not allowed while using tag files" {
		t.Errorf("tags: %v", err)
	}
	conf = DefaultConfig()
	conf.KeyringFile = filepath.Join(dir, "nokeyring.json")
	if _, err := Create(conf, testSerfConfig(t, DefaultConfig()), nil); err == nil || !strings.HasPrefix(err.Error(), "stat ") {
		t.Errorf("keyring: %v", err)
	}
	empty := writeFile(t, dir, "empty.json", "[]")
	conf.KeyringFile = empty
	if _, err := Create(conf, testSerfConfig(t, DefaultConfig()), nil); err == nil || err.Error() != "Keyring file contains no keys" {
		t.Errorf("empty keyring: %v", err)
	}
	good := writeFile(t, dir, "good.json", `["UEGYnqFO7ybeecr6h3CQ6HVK1ztGTTThRWpioBXoSD4="]`)
	conf.KeyringFile = good
	sc := testSerfConfig(t, DefaultConfig())
	if _, err := Create(conf, sc, nil); err != nil || sc.MemberlistConfig.Keyring == nil {
		t.Errorf("good keyring: %v", err)
	}
	conf.EncryptKey = "x"
	if _, err := Create(conf, testSerfConfig(t, DefaultConfig()), nil); err == nil || err.Error() != "Encryption key not allowed while using a keyring" {
		t.Errorf("key+keyring: %v", err)
	}
	tf := writeFile(t, dir, "t2.json", `{"a":"1","b":"2"}`)
	conf = DefaultConfig()
	conf.TagsFile = tf
	sc = testSerfConfig(t, DefaultConfig())
	if _, err := Create(conf, sc, nil); err != nil || sc.Tags["b"] != "2" {
		t.Errorf("tags file restore: %v %v", err, sc.Tags)
	}
}

func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		n := startNode(t, "leak", func(c *Config) { c.EventHandlers = []string{"sleep 30"} })
		c := dialRaw(t, n.rpcAddr)
		c.handshake()
		c.call(client.MonitorCommand, &client.MonitorRequest{LogLevel: "debug"})
		c.send(client.StreamCommand, &client.StreamRequest{Type: "*"})
		c.send(client.QueryCommand, &client.QueryRequest{Name: "q", Timeout: int64(time.Minute)})
		c.send(client.EventCommand, &client.EventRequest{Name: "e"})
		time.Sleep(200 * time.Millisecond) // let the handler script start (not an assertion)
		done := make(chan struct{})
		go func() { n.stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("shutdown hung (running handler script?)")
		}
		n.stop() // idempotent
	}()
	waitFor(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestHandlerQueryResponseTooLarge(t *testing.T) {
	n := startNode(t, "big", func(c *Config) {
		c.EventHandlers = []string{"query:big=head -c 2000 /dev/zero | tr '\\0' a", "query:fail=echo no; exit 2"}
	})
	c := dialRaw(t, n.rpcAddr)
	c.handshake()
	for _, name := range []string{"big", "fail"} {
		seq := c.send(client.QueryCommand, &client.QueryRequest{Name: name, Timeout: int64(time.Second)})
		if h := c.header(); h.Seq != seq || h.Error != "" {
			t.Fatalf("query ack %+v", h)
		}
		for {
			h := c.header()
			if h.Seq != seq {
				t.Fatalf("unexpected %+v", h)
			}
			if h.Error != "" {
				t.Fatal(h.Error)
			}
			var r client.QueryRecord
			if err := c.dec.Decode(&r); err != nil {
				t.Fatal(err)
			}
			if r.Type == client.QueryRecordResponse {
				t.Fatalf("unexpected response %q", r.Payload)
			}
			if r.Type == client.QueryRecordDone {
				break
			}
		}
	}
	waitFor(t, 5*time.Second, func() bool {
		out := n.console.String()
		return strings.Contains(out, "[WARN] agent: Failed to respond to query 'query: big': ") &&
			strings.Contains(out, "[ERR] agent: Error invoking script 'echo no; exit 2': exit status 2")
	})
}

func TestMemberStreamForceLeaveAndKeyBodies(t *testing.T) {
	a := startNode(t, "fa", nil)
	b := startNode(t, "fb", func(c *Config) { c.Tags = map[string]string{"k": "v"} })
	c := dialRaw(t, a.rpcAddr)
	c.handshake()
	sseq := c.send(client.StreamCommand, &client.StreamRequest{Type: "member-join,member-failed,member-leave"})
	if h := c.header(); h.Seq != sseq || h.Error != "" {
		t.Fatalf("stream ack %+v", h)
	}
	// nextMember reads until a member record for node arrives.
	nextMember := func(event, node string) client.MemberEventRecord {
		t.Helper()
		for {
			h := c.header()
			if h.Seq != sseq {
				continue // a reply without body
			}
			var rec client.MemberEventRecord
			c.body(&rec)
			for _, m := range rec.Members {
				if rec.Event == event && m.Name == node {
					return rec
				}
			}
		}
	}
	if _, err := a.agent.Join([]string{b.bind}, false); err != nil {
		t.Fatal(err)
	}
	rec := nextMember("member-join", "fb")
	for _, m := range rec.Members {
		if m.Name == "fb" && (m.Tags["k"] != "v" || m.Status != "alive" || len(m.Addr) != 4 || m.DelegateCur != 5) {
			t.Fatalf("member record %+v", m)
		}
	}

	// b dies without leaving; a sees it fail, then force-leaves it.
	b.rpc.Shutdown()
	b.agent.Shutdown()
	nextMember("member-failed", "fb")
	fl := dialRaw(t, a.rpcAddr)
	fl.handshake()
	if e := fl.call(client.ForceLeaveCommand, &client.ForceLeaveRequest{Node: "fb"}); e != "" {
		t.Fatal(e)
	}
	nextMember("member-leave", "fb")
	if e := fl.call(client.ForceLeaveCommand, &client.ForceLeaveRequest{Node: "fb", Prune: true}); e != "" {
		t.Logf("prune: %s", e)
	}
	if !strings.Contains(a.console.String(), "[INFO] agent: Force leaving node: fb") ||
		!strings.Contains(a.console.String(), "[INFO] agent: Force leaving node (prune): fb") {
		t.Error("force-leave log lines missing")
	}

	// Key commands answer with a body whether or not they succeed.
	for _, cmd := range []string{client.InstallKeyCommand, client.UseKeyCommand, client.RemoveKeyCommand} {
		fl.call(cmd, &client.KeyRequest{Key: "UEGYnqFO7ybeecr6h3CQ6HVK1ztGTTThRWpioBXoSD4="})
		var kr client.KeyResponse
		fl.body(&kr)
	}
	if got := membersOf(t, a.rpcAddr); len(got) < 1 {
		t.Fatal("members after key commands")
	}
}

func TestReloadedScriptsApplyToNextEvent(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	n := startNode(t, "reload", func(c *Config) { c.EventHandlers = []string{"user=touch " + first} })
	if err := n.agent.UserEvent("one", nil, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { _, err := os.Stat(first); return err == nil })
	n.agent.UpdateEventScripts(ParseEventScript("user=touch " + second))
	if got := n.agent.EventScripts(); len(got) != 1 || got[0].Script != "touch "+second {
		t.Fatalf("scripts %v", got)
	}
	os.Remove(first)
	if err := n.agent.UserEvent("two", nil, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { _, err := os.Stat(second); return err == nil })
	if _, err := os.Stat(first); err == nil {
		t.Fatal("old script ran after reload")
	}
	stats := n.agent.Stats()
	if stats["event_handlers"]["user:"] != "touch "+second {
		t.Fatalf("stats event_handlers %v", stats["event_handlers"])
	}
}

// The event_handler_timeout setting reaches the handler scripts: the
// agent's own member-join runs a script that would sleep far longer, and the
// agent kills it and says so.
func TestAgentEventHandlerTimeout(t *testing.T) {
	n := startNode(t, "timeout", func(c *Config) {
		c.EventHandlers = []string{"member-join=sleep 60"}
		c.EventHandlerTimeout = 200 * time.Millisecond
	})
	defer n.stop()
	want := "[ERR] agent: Error invoking script 'sleep 60': timed out after 200ms (event handler timeout), killed"
	serftest.Eventually(t, 20*time.Second, func() error {
		if !strings.Contains(n.console.String(), want) {
			return fmt.Errorf("no timeout line in log yet")
		}
		return nil
	})
}
