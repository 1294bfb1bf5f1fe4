package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
}

func TestRetryJoinGivesUpAfterMaxAttempts(t *testing.T) {
	dead := deadAddr(t)
	n := startNode(t, "retry", func(c *Config) {
		c.RetryJoin = []string{dead}
		c.RetryMaxAttempts = 2
		c.RetryInterval = 10 * time.Millisecond
	})
	err := n.agent.RetryJoin(context.Background())
	if !errors.Is(err, ErrRetryJoinExhausted) {
		t.Fatalf("got %v, want ErrRetryJoinExhausted", err)
	}
	log := n.console.String()
	// The first attempt plus two retries.
	if got := strings.Count(log, "[INFO] agent: Joining cluster...(replay: false)"); got != 3 {
		t.Errorf("%d attempts logged, want 3:\n%s", got, log)
	}
	if got := strings.Count(log, "[WARN] agent: Join failed: "); got != 2 {
		t.Errorf("%d retries logged, want 2:\n%s", got, log)
	}
	if !strings.Contains(log, ", retrying in 10ms") || !strings.Contains(log, "[ERR] agent: maximum retry join attempts made, exiting") {
		t.Errorf("log:\n%s", log)
	}
}

func TestRetryJoinStopsWithContext(t *testing.T) {
	dead := deadAddr(t)
	n := startNode(t, "retry-forever", func(c *Config) {
		c.RetryJoin = []string{dead}
		c.RetryInterval = time.Hour
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.agent.RetryJoin(ctx) }()
	serftest.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(n.console.String(), "retrying in 1h0m0s") {
			return errors.New("no failed attempt yet")
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("cancelled retry join: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RetryJoin did not return after cancel")
	}
}

func TestRetryJoinJoins(t *testing.T) {
	a := startNode(t, "ra", nil)
	b := startNode(t, "rb", func(c *Config) {
		c.RetryJoin = []string{a.bind}
		c.RetryMaxAttempts = 1
	})
	if err := b.agent.RetryJoin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.console.String(), "[INFO] agent: Join completed. Synced with 1 initial agents") {
		t.Errorf("log:\n%s", b.console.String())
	}
	// Nothing to do without retry_join.
	if err := a.agent.RetryJoin(context.Background()); err != nil {
		t.Error(err)
	}
}
