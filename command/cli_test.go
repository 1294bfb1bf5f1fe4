package command

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestUsageErrorsAndExitCodes(t *testing.T) {
	// Nothing listens on port 1, so anything that gets as far as
	// connecting fails with the connection error.
	const noAgent = "-rpc-addr=127.0.0.1:1"
	cases := []struct {
		args      []string
		code      int
		outPrefix string
		helpOfCmd string
		helpOnErr bool // top-level help on the help writer
	}{
		{args: nil, code: 127, helpOnErr: true},
		{args: []string{"nosuch"}, code: 127, helpOnErr: true},
		{args: []string{"help"}, code: 127, helpOnErr: true},
		{args: []string{"-h"}, code: 0, helpOnErr: true},
		{args: []string{"members", "-h"}, code: 0, helpOfCmd: "members"},
		{args: []string{"join", noAgent}, code: 1, outPrefix: "At least one address to join must be specified.\n\nUsage: serf join"},
		{args: []string{"event", noAgent}, code: 1, outPrefix: "An event name must be specified.\n\nUsage: serf event"},
		{args: []string{"event", noAgent, "a", "b", "c"}, code: 1, outPrefix: "Too many command line arguments. Only a name and payload must be specified.\n\n"},
		{args: []string{"query", noAgent}, code: 1, outPrefix: "A query name must be specified.\n\n"},
		{args: []string{"query", noAgent, "-tag", "x", "q"}, code: 1, outPrefix: "Error: Invalid tag: 'x'\n"},
		{args: []string{"query", noAgent, "-relay-factor", "256", "q"}, code: 1, outPrefix: "Relay factor must be between 0 and 255\n"},
		{args: []string{"force-leave", noAgent}, code: 1, outPrefix: "A node name must be specified to force leave.\n\n"},
		{args: []string{"members", noAgent, "-tag", "=x"}, code: 1, outPrefix: "Error: Invalid tag: '=x'\n"},
		{args: []string{"members", noAgent}, code: 1, outPrefix: "Error connecting to Serf agent: dial tcp 127.0.0.1:1: connect: connection refused\n"},
		{args: []string{"tags", noAgent}, code: 1, outPrefix: "Usage: serf tags"},
		{args: []string{"tags", noAgent, "-set", "bad"}, code: 1, outPrefix: "Error connecting to Serf agent:"},
		{args: []string{"keys", noAgent}, code: 1, outPrefix: "Usage: serf keys"},
		{args: []string{"keys", noAgent, "-list", "-use", "k"}, code: 1, outPrefix: "Only one of -install, -use, -remove, or -list allowed\n"},
		{args: []string{"rtt", noAgent}, code: 1, outPrefix: "Error connecting to Serf agent:"},
		{args: []string{"version", "x"}, code: 0, outPrefix: "0.8.2-dev\nAgent Protocol: 5 (Understands back to: 2)\n"},
		{args: []string{"info", "-v"}, code: 0, outPrefix: "0.8.2-dev\n"},
	}
	for _, tc := range cases {
		r := runOurs(t, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d (out %q)", tc.args, r.code, tc.code, r.stdout)
		}
		if !strings.HasPrefix(r.stdout, tc.outPrefix) {
			t.Errorf("%v: stdout %q, want prefix %q", tc.args, r.stdout, tc.outPrefix)
		}
		if tc.helpOnErr && !strings.HasPrefix(r.stderr, "Usage: serf [--version] [--help] <command> [<args>]") {
			t.Errorf("%v: help writer got %q", tc.args, r.stderr)
		}
		if tc.helpOfCmd != "" && !strings.HasPrefix(r.stderr, "Usage: serf "+tc.helpOfCmd) {
			t.Errorf("%v: help writer got %q", tc.args, r.stderr)
		}
	}
}

func TestUnknownFlagPrintsHelpOnStdout(t *testing.T) {
	// The flag package reports the bad flag on the real stderr; hide it.
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	saved := os.Stderr
	os.Stderr = devnull
	r := runOurs(t, "members", "-bogus")
	os.Stderr = saved
	if r.code != 1 || r.stdout != membersHelp+"\n" {
		t.Fatalf("got %d %q", r.code, r.stdout)
	}
}

type shortReader struct{}

func (shortReader) Read(p []byte) (int, error) { return 3, nil }

type failingReader struct{}

func (failingReader) Read(p []byte) (int, error) { return 0, errors.New("no entropy") }
