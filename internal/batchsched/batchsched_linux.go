//go:build linux

package batchsched

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The scheduling policies of sched_setscheduler(2).
const (
	schedOther = 0
	schedBatch = 3
)

// enabled records that Enable moved this process's threads, so that
// StartOutside undoes only what Enable did: a process started in
// SCHED_BATCH by its user passes that on to its children as usual. The
// class is an attribute of the process's threads, which is why this one
// fact about it lives with the package and not with a caller.
var enabled atomic.Bool

// Enable moves every thread of this process that is in the default class
// (SCHED_OTHER) to SCHED_BATCH. Threads the runtime starts later inherit
// the class of the thread that starts them; one started while Enable
// runs, by a thread not moved yet, is caught by the next pass (it looks
// again until a pass moves none, at most enablePasses times). A thread in
// another class (the agent was started under `chrt`) is left as it is.
func Enable() error {
	for range enablePasses {
		n, err := enablePass()
		if n > 0 {
			enabled.Store(true)
		}
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// enablePasses bounds Enable's passes over the threads; the runtime
// starts a thread rarely, so a second pass almost always finds none.
const enablePasses = 3

// enablePass moves the threads that are in SCHED_OTHER now.
func enablePass() (int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if policy, err := getPolicy(tid); err != nil || policy != schedOther {
			continue // gone already, or not ours to change
		}
		if err := setPolicy(tid, schedBatch); err != nil {
			return moved, err
		}
		moved++
	}
	return moved, nil
}

// StartOutside runs start, which starts a child process, on a thread
// that is in the default class for the time, so that the child starts in
// it: a process inherits the class of the thread that forks it. Before
// Enable has moved anything, it only runs start.
func StartOutside(start func() error) error {
	if !enabled.Load() {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if policy, err := getPolicy(0); err != nil || policy != schedBatch {
		return start()
	}
	if err := setPolicy(0, schedOther); err != nil {
		return start()
	}
	defer func() { _ = setPolicy(0, schedBatch) }()
	return start()
}

// getPolicy is the policy of thread tid (0: the calling thread).
func getPolicy(tid int) (int, error) {
	p, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, uintptr(tid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(p), nil
}

// setPolicy puts thread tid (0: the calling thread) in policy, at the
// static priority 0 that both SCHED_OTHER and SCHED_BATCH require.
func setPolicy(tid, policy int) error {
	var param struct{ priority int32 }
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER,
		uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param)))
	if errno != 0 {
		return errno
	}
	return nil
}
