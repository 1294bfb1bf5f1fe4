package serf

import (
	"runtime"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

// Everything Serf starts must be gone after Shutdown.
func TestNoGoroutinesOutliveShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		net := newMemNetwork()
		var serfs []*Serf
		for i := 0; i < 3; i++ {
			name := string(rune('a' + i))
			conf := testConfig(name, net.newTransport(name), &serftest.SyncBuffer{}, make(chan Event, 1024))
			conf.CoalescePeriod, conf.QuiescentPeriod = 50*time.Millisecond, 10*time.Millisecond
			conf.UserCoalescePeriod, conf.UserQuiescentPeriod = 50*time.Millisecond, 10*time.Millisecond
			s, err := Create(conf)
			if err != nil {
				t.Fatal(err)
			}
			serfs = append(serfs, s)
		}
		for _, s := range serfs[1:] {
			if _, err := s.Join([]string{serfs[0].memberlist.LocalNode().Address()}, false); err != nil {
				t.Fatal(err)
			}
		}
		_ = serfs[0].UserEvent("e", nil, true)
		if _, err := serfs[0].Query("q", nil, &QueryParam{Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
		_ = serfs[2].Leave()
		for _, s := range serfs {
			if err := s.Shutdown(); err != nil {
				t.Fatal(err)
			}
		}
	}()
	waitUntil(t, 5*time.Second, "goroutines to wind down", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
