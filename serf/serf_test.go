package serf_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Cross-cutting scenarios: whole members on serftest's network.

const waitFor = 5 * time.Second

// hasAll is a condition that list holds every name.
func hasAll(what string, list func() []string, names ...string) func() error {
	return func() error {
		got := list()
		for _, n := range names {
			if !serftest.Contains(got, n) {
				return fmt.Errorf("%s: %v lacks %s", what, got, n)
			}
		}
		return nil
	}
}

func memberEvents(m *serftest.Member, t serf.EventType) func() []string {
	return func() []string { return m.Events.MemberEvents(t) }
}

// A node restarted on its snapshot rejoins the cluster by itself and does
// not see again the user events its previous incarnation handled.
func TestRestartFromSnapshotRejoinsWithoutReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		if i == 1 {
			conf.SnapshotPath = path
		}
	})
	c.JoinAll()
	if err := c.Members[0].Serf.UserEvent("before", nil, false); err != nil {
		t.Fatal(err)
	}
	// The event clock moves before the event enters n1's pipeline, so wait
	// for the event itself: the snapshotter queues an event for recording
	// before passing it on, and shutdown records what is queued.
	names := func(m *serftest.Member) func() []string {
		return func() []string {
			var out []string
			for _, e := range m.Events.UserEvents() {
				out = append(out, e.Name)
			}
			return out
		}
	}
	serftest.Eventually(t, waitFor, hasAll("user events on n1", names(c.Members[1]), "before"))

	// Same name, address and snapshot; new process.
	n1 := c.Restart(1)
	serftest.Eventually(t, 10*time.Second, func() error {
		if serftest.CountStatus(n1.Serf, serf.StatusAlive) != 2 || !n1.Logs.Contains("[INFO] serf: Re-joined to previously known node: n0: ") {
			return errors.New("restarted n1 has not re-joined n0 from its snapshot")
		}
		return nil
	})
	if err := c.Members[0].Serf.UserEvent("after", nil, false); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, waitFor, hasAll("user events on restarted n1", names(n1), "after"))
	if serftest.Contains(names(n1)(), "before") {
		t.Fatal("old event replayed after restart")
	}
}

// A node that crashes right after handling user events and a query, and
// restarts on its snapshot as the crash left it (nothing flushed at
// shutdown), is not handed any of them again, though its peer offers the
// events again in push/pull.
func TestCrashRestartFromSnapshotDoesNotReplay(t *testing.T) {
	dir := t.TempDir()
	snapPath := filepath.Join(dir, "snap")
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		if i == 1 {
			conf.SnapshotPath = snapPath
		}
	})
	c.JoinAll()
	n0 := c.Members[0].Serf
	for _, name := range []string{"a", "b", "c"} {
		if err := n0.UserEvent(name, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n0.Query("q", nil, &serf.QueryParam{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	handled := func(m *serftest.Member) func() []string {
		return func() []string {
			var out []string
			for _, e := range m.Events.All() {
				switch e := e.(type) {
				case serf.UserEvent:
					out = append(out, e.Name)
				case *serf.Query:
					out = append(out, "query "+e.Name)
				}
			}
			return out
		}
	}
	serftest.Eventually(t, waitFor, hasAll("n1 handled", handled(c.Members[1]), "a", "b", "c", "query q"))

	// The crash: the file as it is on disk now, whatever n1 does later.
	data, err := os.ReadFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	snapPath = filepath.Join(dir, "crashed")
	if err := os.WriteFile(snapPath, data, 0600); err != nil {
		t.Fatal(err)
	}
	n1 := c.Restart(1)
	serftest.Eventually(t, 10*time.Second, func() error {
		if serftest.CountStatus(n1.Serf, serf.StatusAlive) != 2 {
			return errors.New("restarted n1 has not re-joined n0")
		}
		return nil
	})
	if err := n0.UserEvent("after", nil, false); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, waitFor, hasAll("restarted n1 handled", handled(n1), "after"))
	for _, old := range []string{"a", "b", "c", "query q"} {
		if serftest.Contains(handled(n1)(), old) {
			t.Fatalf("%q handled again after the crash: %v", old, handled(n1)())
		}
	}
}

func TestShutdownIsIdempotentAndClosesCh(t *testing.T) {
	s := serftest.NewCluster(t, 1, nil).Members[0].Serf
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ShutdownCh():
	default:
		t.Fatal("ShutdownCh not closed")
	}
	if _, err := s.Join([]string{"127.0.0.1:1"}, false); err == nil {
		t.Fatal("join after shutdown worked")
	}
}

// Everything Serf starts must be gone after Shutdown.
func TestNoGoroutinesOutliveShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		net := serftest.NewNetwork(1)
		defer net.Close()
		var serfs []*serf.Serf
		var addrs []string
		for i := 0; i < 3; i++ {
			name := string(rune('a' + i))
			tr := net.NewTransport(name)
			conf := serftest.TestConfig(name, tr, io.Discard)
			conf.EventCh = make(chan serf.Event, 1024)
			conf.CoalescePeriod, conf.QuiescentPeriod = 50*time.Millisecond, 10*time.Millisecond
			conf.UserCoalescePeriod, conf.UserQuiescentPeriod = 50*time.Millisecond, 10*time.Millisecond
			s, err := serf.Create(conf)
			if err != nil {
				t.Fatal(err)
			}
			serfs = append(serfs, s)
			addrs = append(addrs, tr.Addr())
		}
		for _, s := range serfs[1:] {
			if _, err := s.Join(addrs[:1], false); err != nil {
				t.Fatal(err)
			}
		}
		_ = serfs[0].UserEvent("e", nil, true)
		if _, err := serfs[0].Query("q", nil, &serf.QueryParam{Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		_ = serfs[2].Leave()
		for _, s := range serfs {
			if err := s.Shutdown(); err != nil {
				t.Fatal(err)
			}
		}
	}()
	serftest.Eventually(t, waitFor, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before", n, before)
		}
		return nil
	})
}

// A 64-node cluster converges, spreads a user event to everyone and
// answers a query from everyone. Skipped with -short and under the race
// detector, which makes 64 nodes too slow for a shared 2-core machine.
func TestCluster64(t *testing.T) {
	if testing.Short() || serf.RaceEnabled {
		t.Skip("64 nodes")
	}
	const n = 64
	start := time.Now()
	c := serftest.NewCluster(t, n, func(_ int, conf *serf.Config) {
		conf.Logger.SetOutput(io.Discard)
		ml := conf.MemberlistConfig
		ml.GossipInterval = 50 * time.Millisecond
		ml.ProbeInterval = 200 * time.Millisecond
		ml.ProbeTimeout = 100 * time.Millisecond
		ml.PushPullInterval = 2 * time.Second
		ml.SuspicionMult = 4
	})
	for i := 1; i < n; i++ {
		c.Join(i, i/2) // a tree of introductions, not a star
	}
	c.WaitMembers(n)
	t.Logf("converged in %v", time.Since(start))

	for _, m := range c.Members[1:] {
		respondAll(m)
	}
	start = time.Now()
	resp, err := c.Members[0].Serf.Query("all", nil, &serf.QueryParam{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for range resp.ResponseCh() {
		got++
		if got == n-1 {
			resp.Close()
		}
	}
	if got != n-1 {
		t.Fatalf("%d of %d responses", got, n-1)
	}
	t.Logf("all %d responses in %v", got, time.Since(start))
}

func TestCreateValidation(t *testing.T) {
	for _, tc := range []struct {
		tweak func(*serf.Config)
		want  string
	}{
		{func(c *serf.Config) { c.ProtocolVersion = 1 }, "Protocol version '1' too low. Must be in range: [2, 5]"},
		{func(c *serf.Config) { c.ProtocolVersion = 6 }, "Protocol version '6' too high. Must be in range: [2, 5]"},
		{func(c *serf.Config) { c.UserEventSizeLimit = 9217 }, "user event size limit exceeds limit of 9216 bytes"},
		{func(c *serf.Config) { c.Tags = map[string]string{"x": string(make([]byte, 600))} }, "Encoded length of tags exceeds limit of 512 bytes"},
	} {
		conf := serf.DefaultConfig()
		tc.tweak(conf)
		_, err := serf.Create(conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestStatsKeys(t *testing.T) {
	st := serftest.NewCluster(t, 1, nil).Members[0].Serf.Stats()
	for _, k := range []string{"members", "failed", "left", "health_score", "member_time", "event_time",
		"query_time", "intent_queue", "event_queue", "query_queue", "encrypted", "coordinate_resets"} {
		if _, ok := st[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
	if st["encrypted"] != "false" {
		t.Errorf("encrypted %q", st["encrypted"])
	}
}
