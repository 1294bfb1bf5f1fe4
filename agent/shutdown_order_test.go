package agent

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// recordingHandler remembers the events it was given. delay makes it slow,
// so that flushed events queue up in front of the event loop.
type recordingHandler struct {
	delay  time.Duration
	mu     sync.Mutex
	events []string
}

func (h *recordingHandler) HandleEvent(e serf.Event) {
	time.Sleep(h.delay)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e.String())
}

func (h *recordingHandler) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

// startHoldingAgent starts an agent whose Serf holds member and user events
// for an hour, so only Leave or Shutdown can release them.
func startHoldingAgent(t *testing.T, h EventHandler) (*Agent, *serftest.SyncBuffer) {
	t.Helper()
	conf := DefaultConfig()
	conf.NodeName = "order"
	conf.Profile = "local"
	conf.BindAddr = fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	sc := testSerfConfig(t, conf)
	sc.LeavePropagateDelay = 10 * time.Millisecond
	sc.CoalescePeriod = time.Hour
	sc.QuiescentPeriod = time.Hour
	sc.UserCoalescePeriod = time.Hour
	sc.UserQuiescentPeriod = time.Hour
	out := &serftest.SyncBuffer{}
	a, err := Create(conf, sc, out)
	if err != nil {
		t.Fatal(err)
	}
	a.RegisterEventHandler(h)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown() })
	for _, name := range []string{"u1", "u2", "u3"} {
		if err := a.UserEvent(name, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	return a, out
}

// checkDelivered checks that h got exactly want and that each was logged
// before the line before (which must be in the log).
func checkDelivered(t *testing.T, h *recordingHandler, out *serftest.SyncBuffer, want []string, before string) {
	t.Helper()
	got := h.seen()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("handler saw %q, want %q\n%s", got, want, out)
	}
	logs := out.String()
	limit := strings.Index(logs, before)
	for _, e := range want {
		received := strings.Index(logs, "[INFO] agent: Received event: "+e)
		if received < 0 || limit < 0 || received > limit {
			t.Fatalf("want %q logged before %q:\n%s", e, before, logs)
		}
	}
}

// A graceful leave hands the held events (our own member-leave among them)
// to the handlers before Leave returns, so they are logged before
// "requesting serf shutdown", as Serf v0.10.2 usually logs them.
func TestLeaveDeliversHeldEvents(t *testing.T) {
	h := &recordingHandler{delay: 20 * time.Millisecond}
	a, out := startHoldingAgent(t, h)
	if err := a.Leave(); err != nil {
		t.Fatal(err)
	}
	want := []string{"member-leave", "user-event: u1", "user-event: u2", "user-event: u3"}
	got := h.seen()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("after Leave the handler saw %q, want %q\n%s", got, want, out)
	}
	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, h, out, want, "[INFO] agent: requesting serf shutdown")
	logs := out.String()
	if strings.Index(logs, "Received event: member-leave") < strings.Index(logs, "requesting graceful leave") {
		t.Fatalf("event logged before the leave began:\n%s", logs)
	}
}

// Events that Serf flushes while shutting down are delivered to handlers
// and logged before "shutdown complete", never after it, and none is lost.
func TestShutdownDeliversFlushedEventsFirst(t *testing.T) {
	for i := 0; i < 3; i++ {
		h := &recordingHandler{delay: 20 * time.Millisecond}
		a, out := startHoldingAgent(t, h)
		if err := a.Shutdown(); err != nil {
			t.Fatal(err)
		}
		want := []string{"member-join", "user-event: u1", "user-event: u2", "user-event: u3"}
		checkDelivered(t, h, out, want, "[INFO] agent: shutdown complete")
	}
}
