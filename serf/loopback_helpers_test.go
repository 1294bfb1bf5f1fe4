package serf_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Helpers of the external tests that run Serf on memberlist's real
// transport, on 127.0.0.1.

// onLoopback is a Serf config on memberlist's real UDP/TCP transport,
// bound to 127.0.0.1:port (0 for any free port).
func onLoopback(name string, port int, logs io.Writer) *serf.Config {
	conf := serftest.TestConfig(name, nil, logs)
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = port
	return conf
}

// createWithEvents creates a Serf from conf, shut down at the end of the
// test, whose events arrive on the returned channel.
func createWithEvents(t *testing.T, conf *serf.Config) (*serf.Serf, chan serf.Event) {
	t.Helper()
	events := make(chan serf.Event, 256)
	conf.EventCh = events
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	return s, events
}

// awaitUserEvent waits up to 10 s on events for the user event name, which
// must carry payload.
func awaitUserEvent(t *testing.T, events <-chan serf.Event, name string, payload []byte) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if u, ok := e.(serf.UserEvent); ok && u.Name == name {
				if !bytes.Equal(u.Payload, payload) {
					t.Fatalf("%s: payload %q", name, u.Payload)
				}
				return
			}
		case <-deadline:
			t.Fatalf("%s did not arrive", name)
		}
	}
}
