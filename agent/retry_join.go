package agent

import (
	"context"
	"errors"
	"time"
)

// ErrRetryJoinExhausted is what RetryJoin returns once retry_max_attempts
// further attempts have failed; the agent command then exits with 1.
var ErrRetryJoinExhausted = errors.New("maximum retry join attempts made")

// RetryJoin joins the retry_join addresses, trying again every
// retry_interval until a join succeeds, ctx ends (both return nil) or,
// with retry_max_attempts > 0, that many retries after the first attempt
// have failed. Without retry_join addresses it returns at once.
func (a *Agent) RetryJoin(ctx context.Context) error {
	addrs, replay := a.conf.RetryJoin, a.conf.ReplayOnJoin
	if len(addrs) == 0 {
		return nil
	}
	retries := 0
	for {
		a.logger.Printf("[INFO] agent: Joining cluster...(replay: %v)", replay)
		n, err := a.Join(addrs, replay)
		if err == nil {
			a.logger.Printf("[INFO] agent: Join completed. Synced with %d initial agents", n)
			return nil
		}
		if max := a.conf.RetryMaxAttempts; max > 0 && retries >= max {
			a.logger.Printf("[ERR] agent: maximum retry join attempts made, exiting")
			return ErrRetryJoinExhausted
		}
		retries++
		a.logger.Printf("[WARN] agent: Join failed: %v, retrying in %v", err, a.conf.RetryInterval)
		wait := time.NewTimer(a.conf.RetryInterval)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil
		case <-wait.C:
		}
	}
}
