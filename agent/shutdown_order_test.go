package agent

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
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

// Events that Serf flushes while shutting down (the coalesced member-leave
// of a graceful leave, coalesced user events) are delivered to handlers and
// logged before "shutdown complete", never after it, and none is lost.
func TestShutdownDeliversFlushedEventsFirst(t *testing.T) {
	for i := 0; i < 3; i++ {
		sc := testSerfConfig()
		sc.NodeName = "order"
		sc.MemberlistConfig.BindAddr = "127.0.0.1"
		sc.MemberlistConfig.BindPort = freePort(t)
		sc.LeavePropagateDelay = 10 * time.Millisecond
		// Hold member and user events until shutdown flushes them.
		sc.CoalescePeriod = time.Hour
		sc.QuiescentPeriod = time.Hour
		sc.UserCoalescePeriod = time.Hour
		sc.UserQuiescentPeriod = time.Hour
		out := &syncBuffer{}
		a, err := Create(DefaultConfig(), sc, out)
		if err != nil {
			t.Fatal(err)
		}
		h := &recordingHandler{delay: 20 * time.Millisecond}
		a.RegisterEventHandler(h)
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"u1", "u2", "u3"} {
			if err := a.UserEvent(name, nil, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Leave(); err != nil {
			t.Fatal(err)
		}
		if err := a.Shutdown(); err != nil {
			t.Fatal(err)
		}

		want := []string{"member-leave", "user-event: u1", "user-event: u2", "user-event: u3"}
		got := h.seen()
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Fatalf("handler saw %q, want %q\n%s", got, want, out.String())
		}
		logs := out.String()
		complete := strings.Index(logs, "[INFO] agent: shutdown complete")
		for _, e := range want {
			received := strings.Index(logs, "[INFO] agent: Received event: "+e)
			if received < 0 || complete < 0 || received > complete {
				t.Fatalf("want %q logged before shutdown complete:\n%s", e, logs)
			}
		}
	}
}
