package serf

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
)

// Joins against a busy seed (see "A join storm is queued, not refused" in
// the README).
//
// When hundreds of nodes join one seed at the same moment, the seed takes
// their connections faster than it can answer them. memberlist v0.7.0
// closes connections past 128 pending push/pulls (the joiner reads EOF),
// and our transport holds connections past 64 in the listen queue, where
// a joiner on a starved machine can wait longer than its TCPTimeout (the
// joiner's read times out). Either way the seed is alive and the same
// join succeeds a moment later, so Join tries such an address again after
// a jittered backoff instead of failing the node's start-up. An address
// that refuses the connection, cannot be dialled, or answers with a real
// error (a protocol or encryption mismatch) is not retried: it fails as
// fast, and with the same message, as in Serf.

// joinEach joins the addresses one at a time, retrying busy ones, and
// returns how many were contacted. As memberlist.Join, it fails only if
// none was, with every address's last error in one multierror.
func (s *Serf) joinEach(existing []string) (int, error) {
	joined := 0
	var errs *multierror.Error
	for _, addr := range existing {
		n, err := s.memberlistJoin([]string{addr})
		for try := 1; n == 0 && try <= s.config.JoinBusyRetries && peerWasBusy(err); try++ {
			s.logger.Printf("[INFO] serf: %s seems busy, trying again (%d of %d): %v",
				addr, try, s.config.JoinBusyRetries, err)
			if !s.sleepOrShutdown(joinBusyDelay(s.config.JoinBusyBackoff, try)) {
				break
			}
			n, err = s.memberlistJoin([]string{addr})
		}
		joined += n
		if n == 0 && err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	if joined > 0 || errs == nil {
		return joined, nil
	}
	return 0, errs
}

// joinBusyDelay is the wait before retry number try (1-based): base ×
// 2^(try-1), plus up to as much again at random, so joiners turned away
// together come back spread out.
func joinBusyDelay(base time.Duration, try int) time.Duration {
	d := base << min(try-1, 10)
	return d + rand.N(d+1)
}

// peerWasBusy reports whether every address in a failed memberlist.Join
// reached a peer that then closed the connection or did not answer in
// time. memberlist formats the network error into its text (%v, not %w),
// so the text is all there is to go by.
func peerWasBusy(err error) bool {
	if err == nil {
		return false
	}
	var each []error
	if me, ok := err.(*multierror.Error); ok {
		each = me.Errors
	} else {
		each = []error{err}
	}
	if len(each) == 0 {
		return false
	}
	for _, e := range each {
		if !busyText(e.Error()) {
			return false
		}
	}
	return true
}

// busyText classifies one "failed to join <addr>: <cause>" message. A
// dial error names the dial (": dial tcp ...", or ": dial ..." on the
// simulator's in-memory network); what fails after it ends in the OS's
// words for a connection that was closed or went quiet.
func busyText(msg string) bool {
	if strings.Contains(msg, ": dial ") {
		return false
	}
	for _, cause := range []string{": EOF", ": unexpected EOF", ": i/o timeout",
		": connection reset by peer", ": broken pipe"} {
		if strings.HasSuffix(msg, cause) {
			return true
		}
	}
	return false
}
