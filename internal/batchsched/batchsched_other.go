//go:build !linux

package batchsched

// Enable does nothing where there is no SCHED_BATCH.
func Enable() (int, error) { return 0, nil }

// StartOutside runs start.
func StartOutside(start func() error) error { return start() }
