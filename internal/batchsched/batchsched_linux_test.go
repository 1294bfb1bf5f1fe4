package batchsched

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// threadPolicies maps each thread of this process to its policy.
func threadPolicies(t *testing.T) map[int]int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if p, err := getPolicy(tid); err == nil {
			out[tid] = p
		}
	}
	return out
}

// childPolicy starts a shell that prints its own /proc stat line, with
// start, and returns the policy field (the 41st) of that line.
func childPolicy(t *testing.T, start func(*exec.Cmd) error) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "cat /proc/$$/stat")
	var out strings.Builder
	cmd.Stdout = &out
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	fields := strings.Fields(line[strings.LastIndexByte(line, ')')+1:])
	// fields[0] is field 3 (the state).
	p, err := strconv.Atoi(fields[41-3])
	if err != nil {
		t.Fatalf("policy in %q: %v", line, err)
	}
	return p
}

func TestEnableMovesEveryThreadAndChildrenStartOutside(t *testing.T) {
	if err := Enable(); err != nil {
		t.Fatal(err)
	}
	// Threads in another class (the SCHED_IDLE one of the other test may
	// still be on its way out) are not Enable's to move.
	for tid, p := range threadPolicies(t) {
		if p == schedOther {
			t.Errorf("thread %d is still in SCHED_OTHER after Enable", tid)
		}
	}
	if !enabled.Load() {
		t.Fatal("Enable did not record that it moved the threads")
	}
	// A child forked from a thread in SCHED_BATCH inherits it (which is
	// what StartOutside is for), one started through StartOutside does not.
	inherited := childPolicy(t, func(c *exec.Cmd) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return c.Start()
	})
	if inherited != schedBatch {
		t.Errorf("a child forked from a SCHED_BATCH thread has policy %d, want %d", inherited, schedBatch)
	}
	outside := childPolicy(t, func(c *exec.Cmd) error { return StartOutside(c.Start) })
	if outside != schedOther {
		t.Errorf("a child started through StartOutside has policy %d, want SCHED_OTHER (%d)", outside, schedOther)
	}
	// StartOutside puts its thread back.
	for tid, p := range threadPolicies(t) {
		if p == schedOther {
			t.Errorf("thread %d was left in SCHED_OTHER by StartOutside", tid)
		}
	}
}

// A thread the user put in another class stays there.
func TestEnableLeavesOtherClassesAlone(t *testing.T) {
	const schedIdle = 5
	done := make(chan error, 1)
	go func() {
		// Locked to the goroutine to its end, the thread then exits, so
		// no other test runs on a thread left in SCHED_IDLE.
		runtime.LockOSThread()
		if err := setPolicy(0, schedIdle); err != nil {
			done <- err
			return
		}
		if err := Enable(); err != nil {
			done <- err
			return
		}
		p, err := getPolicy(0)
		if err == nil && p != schedIdle {
			err = fmt.Errorf("policy %d after Enable, want SCHED_IDLE (%d)", p, schedIdle)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
