//go:build !linux

package batchsched

// Enable does nothing where there is no SCHED_BATCH.
func Enable() error { return nil }

// StartOutside runs start.
func StartOutside(start func() error) error { return start() }
