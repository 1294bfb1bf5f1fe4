package command

import (
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/client"
)

func TestParseTags(t *testing.T) {
	tags, err := parseTags([]string{"a=1", "b=x=y", "c="})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "1", "b": "x=y", "c": ""}; !reflect.DeepEqual(tags, want) {
		t.Fatalf("got %v, want %v", tags, want)
	}
	if tags, err := parseTags(nil); err != nil || tags == nil || len(tags) != 0 {
		t.Fatalf("no tags must give an empty, non-nil map: %v %v", tags, err)
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		_, err := parseTags([]string{"ok=1", bad})
		if err == nil || err.Error() != "Invalid tag: '"+bad+"'" {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestListFlagRepeats(t *testing.T) {
	var l listFlag
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(&l, "tag", "")
	if err := fs.Parse([]string{"-tag", "a=1", "-tag=b=2"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]string(l), []string{"a=1", "b=2"}) || l.String() != "a=1,b=2" {
		t.Fatalf("got %v", l)
	}
}

func TestRPCFlagDefaultsFromEnvironment(t *testing.T) {
	parse := func(args ...string) rpcFlags {
		var r rpcFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		r.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Setenv(envRPCAddr, "")
	t.Setenv(envRPCAuth, "")
	if r := parse(); r.addr != "127.0.0.1:7373" || r.auth != "" {
		t.Fatalf("defaults: %+v", r)
	}
	t.Setenv(envRPCAddr, "10.0.0.1:1234")
	t.Setenv(envRPCAuth, "tok")
	if r := parse(); r.addr != "10.0.0.1:1234" || r.auth != "tok" {
		t.Fatalf("from env: %+v", r)
	}
	if r := parse("-rpc-addr=1.2.3.4:5", "-rpc-auth", "x"); r.addr != "1.2.3.4:5" || r.auth != "x" {
		t.Fatalf("flags win: %+v", r)
	}
}

func testMembers() []memberView {
	return []memberView{
		{Name: "alpha", Addr: "127.0.0.1:7946", Port: 7946, Tags: map[string]string{"role": "web"},
			Status: "alive", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 5}},
		{Name: "b", Addr: "[::1]:7947", Port: 7947, Tags: map[string]string{},
			Status: "leaving", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 4}},
		{Name: "gamma", Addr: "127.0.0.1:7948", Port: 7948, Tags: map[string]string{},
			Status: "failed", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 5}},
	}
}

func TestMembersTextTrailingSpaces(t *testing.T) {
	out, err := formatOutput(memberList{Members: testMembers()}, "text")
	if err != nil {
		t.Fatal(err)
	}
	// A row with an empty last cell keeps its padding, except on the last
	// line, which the overall trim strips.
	want := "alpha  127.0.0.1:7946  alive    role=web\n" +
		"b      [::1]:7947      leaving  \n" +
		"gamma  127.0.0.1:7948  failed"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}

	out, err = formatOutput(memberList{detailed: true, Members: testMembers()}, "text")
	if err != nil {
		t.Fatal(err)
	}
	want = "alpha  127.0.0.1:7946  alive    role=web  Protocol Version: 5  Available Protocol Range: [2, 5]\n" +
		"b      [::1]:7947      leaving            Protocol Version: 4  Available Protocol Range: [2, 5]\n" +
		"gamma  127.0.0.1:7948  failed             Protocol Version: 5  Available Protocol Range: [2, 5]"
	if out != want {
		t.Fatalf("detailed: got\n%q\nwant\n%q", out, want)
	}

	if out, _ := formatOutput(memberList{}, "text"); out != "" {
		t.Fatalf("empty text listing: %q", out)
	}
}

func TestMembersJSON(t *testing.T) {
	out, err := formatOutput(memberList{detailed: true, Members: testMembers()[:1]}, "json")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "members": [
    {
      "name": "alpha",
      "addr": "127.0.0.1:7946",
      "port": 7946,
      "tags": {
        "role": "web"
      },
      "status": "alive",
      "protocol": {
        "max": 5,
        "min": 2,
        "version": 5
      }
    }
  ]
}`
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if out, _ := formatOutput(memberList{}, "json"); out != "{\n  \"members\": null\n}" {
		t.Fatalf("empty json listing: %q", out)
	}
	if _, err := formatOutput(memberList{}, "xml"); err == nil || err.Error() != `Invalid output format "xml"` {
		t.Fatalf("bad format: %v", err)
	}
}

func TestInfoFormats(t *testing.T) {
	stats := statsView{
		"serf":           {"members": "2", "encrypted": "false"},
		"agent":          {"name": "alpha"},
		"event_handlers": {},
	}
	out, err := formatOutput(stats, "text")
	if err != nil {
		t.Fatal(err)
	}
	want := "agent:\n\tname = alpha\nevent_handlers:\nserf:\n\tencrypted = false\n\tmembers = 2"
	if out != want {
		t.Fatalf("text: got %q", out)
	}
	out, err = formatOutput(stats, "json")
	if err != nil {
		t.Fatal(err)
	}
	want = "{\n  \"agent\": {\n    \"name\": \"alpha\"\n  },\n  \"event_handlers\": {},\n" +
		"  \"serf\": {\n    \"encrypted\": \"false\",\n    \"members\": \"2\"\n  }\n}"
	if out != want {
		t.Fatalf("json: got %q", out)
	}
}

func TestQueryOutputs(t *testing.T) {
	ui := cli.NewMockUi()
	text := &queryResults{ui: ui, name: "uptime", Responses: map[string]string{}}
	text.started()
	text.ack("alpha")
	text.response(client.NodeResponse{From: "alpha", Payload: []byte("line1\nline2\n\n")})
	text.response(client.NodeResponse{From: "beta", Payload: nil})
	if err := text.finished(); err != nil {
		t.Fatal(err)
	}
	want := "Query 'uptime' dispatched\nAck from 'alpha'\nResponse from 'alpha': line1\nline2\n\n" +
		"Response from 'beta': \nTotal Acks: 1\nTotal Responses: 2\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("text: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	text = &queryResults{ui: ui, name: "q", noAck: true, Responses: map[string]string{}}
	text.started()
	_ = text.finished()
	if got := ui.OutputWriter.String(); got != "Query 'q' dispatched\nTotal Responses: 0\n" {
		t.Fatalf("no-ack text: %q", got)
	}

	ui = cli.NewMockUi()
	js := &queryResults{ui: ui, json: true, Responses: map[string]string{}}
	js.started()
	_ = js.finished()
	if got := ui.OutputWriter.String(); got != "{\n  \"Acks\": null,\n  \"Responses\": {}\n}\n" {
		t.Fatalf("empty json: %q", got)
	}
	ui = cli.NewMockUi()
	js = &queryResults{ui: ui, json: true, Responses: map[string]string{}}
	js.ack("alpha")
	js.ack("beta")
	js.response(client.NodeResponse{From: "beta", Payload: []byte("resp\n")})
	_ = js.finished()
	want = "{\n  \"Acks\": [\n    \"alpha\",\n    \"beta\"\n  ],\n  \"Responses\": {\n    \"beta\": \"resp\\n\"\n  }\n}\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("json: got %q want %q", got, want)
	}
}

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

func TestKeygen(t *testing.T) {
	ui := cli.NewMockUi()
	if code := (&keygenCommand{ui: ui}).Run([]string{"ignored"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if key := strings.TrimSpace(ui.OutputWriter.String()); len(key) != 44 {
		t.Fatalf("key %q", key)
	}
	ui = cli.NewMockUi()
	if code := (&keygenCommand{ui: ui, random: shortReader{}}).Run(nil); code != 1 ||
		ui.ErrorWriter.String() != "Couldn't read enough entropy. Generate more entropy!\n" {
		t.Fatalf("short read: %d %q", code, ui.ErrorWriter.String())
	}
	ui = cli.NewMockUi()
	if code := (&keygenCommand{ui: ui, random: failingReader{}}).Run(nil); code != 1 ||
		ui.ErrorWriter.String() != "Error reading random data: no entropy\n" {
		t.Fatalf("failed read: %d %q", code, ui.ErrorWriter.String())
	}
}

func TestHandlesInterrupt(t *testing.T) {
	for name, want := range map[string]bool{"monitor": true, "query": true, "reachability": true,
		"agent": false, "members": false, "": false} {
		if HandlesInterrupt(name) != want {
			t.Errorf("%q: want %v", name, want)
		}
	}
}

func TestCommandTableMatchesSerf(t *testing.T) {
	want := []string{"agent", "event", "force-leave", "info", "join", "keygen", "keys", "leave",
		"members", "monitor", "query", "reachability", "rtt", "tags", "version"}
	cmds := Commands(cli.NewMockUi(), make(chan struct{}))
	if len(cmds) != len(want) {
		t.Fatalf("got %d commands", len(cmds))
	}
	for _, name := range want {
		f, ok := cmds[name]
		if !ok {
			t.Fatalf("missing %s", name)
		}
		a, _ := f()
		b, _ := f()
		if a == b {
			t.Errorf("%s: factory must build a fresh command each time", name)
		}
	}
}
