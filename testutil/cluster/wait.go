package cluster

import (
	"testing"
	"time"
)

// PollInterval is the pause between two checks in Eventually.
const PollInterval = 100 * time.Millisecond

// Eventually calls cond until it returns nil or timeout passes; on timeout it
// fails the test with the last error. The timeout is a deadline for a
// condition, never an assertion about speed.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(timeout, cond); err != nil {
		t.Fatalf("condition not met within %v: %v", timeout, err)
	}
}

// Poll is Eventually without a testing.TB: it returns the last error on timeout.
func Poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(PollInterval)
	}
}
