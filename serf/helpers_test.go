package serf

import (
	"bytes"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// The internal tests' helpers. The first two are serftest's SyncBuffer
// and Eventually in miniature: a test inside package serf cannot import
// serftest, which imports serf. Tests that need more (a network, a
// cluster) are external tests, in package serf_test.

// syncBuffer is a log destination that a test reads while serf writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond until it returns nil, failing the test with its
// last error once timeout passes.
func eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// loopbackConfig is a quiet Serf config named "a" on Serf's own transport,
// bound to any free port of 127.0.0.1, for tests of what Create sets up.
func loopbackConfig() *Config {
	conf := DefaultConfig()
	conf.NodeName = "a"
	conf.Logger = log.New(io.Discard, "", 0)
	ml := memberlist.DefaultLocalConfig()
	ml.BindAddr, ml.BindPort = "127.0.0.1", 0
	ml.Logger = conf.Logger
	conf.MemberlistConfig = ml
	return conf
}
