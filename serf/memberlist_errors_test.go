package serf_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestRestoreMemberlistWording(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// go-multierror's text as memberlist.Join builds it.
		{"1 error occurred:\n\t* failed to join 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n\n",
			"1 error occurred:\n\t* Failed to join 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n\n"},
		{"2 errors occurred:\n\t* failed to resolve nohost: lookup nohost: no such host\n\t* failed to join 10.0.0.1:7946: no installed keys could decrypt the message\n\n",
			"2 errors occurred:\n\t* Failed to resolve nohost: lookup nohost: no such host\n\t* Failed to join 10.0.0.1:7946: No installed keys could decrypt the message\n\n"},
		// Nested wrapping from Create; "failed to obtain an address" was
		// already lower case in v0.5.2 and stays so.
		{`Failed to create memberlist: could not set up network transport: failed to obtain an address: failed to start TCP listener on "127.0.0.1" port 7946: listen tcp 127.0.0.1:7946: bind: address already in use`,
			`Failed to create memberlist: Could not set up network transport: failed to obtain an address: Failed to start TCP listener on "127.0.0.1" port 7946: listen tcp 127.0.0.1:7946: bind: address already in use`},
		{"cannot specify both LogOutput and Logger; please choose a single log configuration setting",
			"Cannot specify both LogOutput and Logger. Please choose a single log configuration setting."},
		{"removing the primary key is not allowed", "Removing the primary key is not allowed"},
		{"requested key is not in the keyring", "Requested key is not in the keyring"},
		{"Failed to restore keyring: empty primary key not allowed", "Failed to restore keyring: Empty primary key not allowed"},
		// Unchanged: same in both versions, or a phrase not at a message start.
		{"key size must be 16, 24 or 32 bytes", "key size must be 16, 24 or 32 bytes"},
		{"dial tcp 127.0.0.1:1: connect: connection refused", "dial tcp 127.0.0.1:1: connect: connection refused"},
		{"lookup failed to join.example: no such host", "lookup failed to join.example: no such host"},
		{"", ""},
	} {
		if got := serf.RestoreMemberlistWording(tc.in); got != tc.want {
			t.Errorf("restoreMemberlistWording(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestMemberlistErrorKeepsOriginal(t *testing.T) {
	if serf.MemberlistError(nil) != nil {
		t.Fatal("nil error translated to non-nil")
	}
	same := errors.New("key size must be 16, 24 or 32 bytes")
	if serf.MemberlistError(same) != same {
		t.Fatal("error needing no rewrite was replaced")
	}
	orig := fmt.Errorf("removing the primary key is not allowed")
	got := serf.MemberlistError(orig)
	if got.Error() != "Removing the primary key is not allowed" || !errors.Is(got, orig) {
		t.Fatalf("got %q, unwraps to original: %v", got, errors.Is(got, orig))
	}
}

// The keyring's own errors, straight from memberlist.
func TestKeyringErrorsWording(t *testing.T) {
	if _, err := serf.NewKeyring([][]byte{{}}, []byte{}); err == nil || err.Error() != "Empty primary key not allowed" {
		t.Fatalf("empty primary: %v", err)
	}
	if _, err := serf.NewKeyring(nil, []byte("short")); err == nil || err.Error() != "key size must be 16, 24 or 32 bytes" {
		t.Fatalf("short key: %v", err)
	}
	kr, err := serf.NewKeyring(nil, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := serf.MemberlistError(kr.RemoveKey(testKey(1))); err == nil || err.Error() != "Removing the primary key is not allowed" {
		t.Fatalf("remove primary: %v", err)
	}
	if err := serf.MemberlistError(kr.UseKey(testKey(2))); err == nil || err.Error() != "Requested key is not in the keyring" {
		t.Fatalf("use unknown: %v", err)
	}
}

// Join's error is what `serf join` and `serf agent -join` print.
func TestJoinErrorWording(t *testing.T) {
	s, err := serf.Create(onLoopback("a", 0, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	n, err := s.Join([]string{"127.0.0.1:1"}, false)
	want := "1 error occurred:\n\t* Failed to join 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n\n"
	if n != 0 || err == nil || err.Error() != want {
		t.Fatalf("join: %d %q\nwant %q", n, err, want)
	}
}

// Create's error is what `serf agent` prints when the bind port is taken.
func TestCreateErrorWording(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	s, err := serf.Create(onLoopback("a", port, io.Discard))
	if err == nil {
		s.Shutdown()
		t.Fatal("created on a port in use")
	}
	want := fmt.Sprintf("Failed to create memberlist: Could not set up network transport: failed to obtain an address: "+
		"Failed to start TCP listener on %q port %d: listen tcp 127.0.0.1:%d: bind: address already in use", "127.0.0.1", port, port)
	if err.Error() != want {
		t.Fatalf("create:\n got %q\nwant %q", err, want)
	}
}

// memberlist's own log lines embed its errors; they get the same wording,
// whether memberlist logs through a Logger or to a LogOutput.
func TestMemberlistLogWording(t *testing.T) {
	for _, viaLogger := range []bool{true, false} {
		logs := &serftest.SyncBuffer{}
		conf := onLoopback("a", 0, logs)
		if !viaLogger {
			conf.MemberlistConfig.Logger = nil
			conf.MemberlistConfig.LogOutput = logs
		}
		s, err := serf.Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Join([]string{"a:b:c"}, false)
		s.Shutdown()
		// The rest of the text is the resolver's.
		if err == nil || !strings.HasPrefix(err.Error(), "1 error occurred:\n\t* Failed to resolve a:b:c: ") {
			t.Fatalf("join: %q", err)
		}
		if !logs.Contains("[WARN] memberlist: Failed to resolve a:b:c: ") {
			t.Fatalf("logger=%v, log:\n%s", viaLogger, logs)
		}
	}
}
