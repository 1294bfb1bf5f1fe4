package cluster

import (
	"os"
	"testing"
)

// Environment variables naming the reference binary. `make test` sets both:
// the real Serf v0.10.2 it installs, and the demand that tests use it.
const (
	EnvRealBinary        = "SERF_REAL_BIN"
	EnvRequireRealBinary = "SERF_REQUIRE_REAL_BIN"
)

// LookupRealBinary returns the real Serf binary named by SERF_REAL_BIN, if
// that names an existing file.
func LookupRealBinary() (string, bool) {
	path := os.Getenv(EnvRealBinary)
	if path == "" {
		return "", false
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return "", false
	}
	return path, true
}

// RealBinary returns the real Serf binary for a compatibility test. Without
// one the test is skipped, so a plain `go test` works anywhere, unless
// SERF_REQUIRE_REAL_BIN is set (as `make test` does): then a missing binary
// fails the test instead of silently turning it off.
func RealBinary(t testing.TB) string {
	t.Helper()
	if path, ok := LookupRealBinary(); ok {
		return path
	}
	msg := "no real serf binary: set " + EnvRealBinary + " (`make test` installs Serf v0.10.2 and sets it)"
	if os.Getenv(EnvRequireRealBinary) != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
