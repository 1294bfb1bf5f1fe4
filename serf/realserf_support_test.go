package serf

import (
	"fmt"
	"testing"
	"time"
)

// Helpers that only realserf_test.go still uses; they go with it when it
// moves to interop/. Every other test of the package waits with
// serftest.Eventually (an internal test cannot import serftest, which
// imports serf).

func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	eventually(t, timeout, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}

func countStatus(s *Serf, st MemberStatus) int {
	n := 0
	for _, m := range s.Members() {
		if m.Status == st {
			n++
		}
	}
	return n
}

func findMember(s *Serf, name string) (Member, bool) {
	for _, m := range s.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func testKey(b byte) []byte {
	k := make([]byte, 16)
	for i := range k {
		k[i] = b
	}
	return k
}
