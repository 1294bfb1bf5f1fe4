package serftest

import (
	"errors"
	"testing"
	"time"
)

// Eventually, Poll and Permanent mirror testutil/cluster's, which serve the
// multi-process tests: that module must stay free of this one (the interop
// module, pinned to upstream's dependency versions, uses it), so the two
// small copies are deliberate; keep their behaviour the same.

// PollInterval is the pause between two checks in Eventually and Poll. It is
// short because in-process conditions (a member list, an event channel)
// change on the scale of a gossip interval, not of a process start.
const PollInterval = 10 * time.Millisecond

// Eventually calls cond until it returns nil or timeout passes; on timeout
// it fails the test with the last error. The timeout is a deadline for a
// condition to hold, never an assertion about speed.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Poll(timeout, cond); err != nil {
		t.Fatalf("condition not met within %v: %v", timeout, err)
	}
}

// permanentError marks a condition that can never become true (a member
// shut down, a channel closed), so polling stops at once.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that Poll and Eventually give up immediately.
func Permanent(err error) error { return permanentError{err} }

// Poll is Eventually without a testing.TB: it returns nil once cond does,
// the last error when timeout passes, or at once for a Permanent error.
func Poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(PollInterval)
	}
}
