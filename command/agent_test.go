package command

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/serf/serftest"
)

func runAgentCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out serftest.SyncBuffer
	c := newAgentCommand(&cli.BasicUi{Writer: &out}, nil)
	code := c.Run(args)
	return out.String(), code
}

func TestAgentCommandValidation(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.json"
	writeConfigFile(t, bad, []byte(`{"bogus_key": 1}`))
	addr := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	rpc := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-log-level=verbose"}, "==> Invalid log level: VERBOSE. Valid log levels are: [TRACE DEBUG INFO WARN ERR]\n"},
		{[]string{"-profile=moon", "-bind", addr}, "==> Unknown profile: moon\n"},
		{[]string{"-tag", "novalue"}, "==> Error: Invalid tag: 'novalue'\n"},
		{[]string{"-event-handler", "bogus-type=foo.sh"}, "==> Invalid event script: Event 'bogus-type' invoking 'foo.sh'\n"},
		{[]string{"-mdns-iface", "lo"}, "==> mDNS interface specified without enabling mDNS discovery\n"},
		{[]string{"-retry-interval", "bogus"}, "==> Error: time: invalid duration \"bogus\"\n"},
		{[]string{"-config-file", bad}, "==> Error decoding '" + bad + "': 1 error(s) decoding:\n\n* '' has invalid keys: bogus_key\n"},
		{[]string{"-bind", "127.0.0.1:1:2"}, "==> Invalid bind address: address 127.0.0.1:1:2: too many colons in address\n"},
		{[]string{"-bind", addr, "-advertise", "127.0.0.1:1:2"}, "==> Invalid advertise address: address 127.0.0.1:1:2: too many colons in address\n"},
		{[]string{"-iface", "lo", "-bind", "192.0.2.1"}, "==> Interface 'lo' has no '192.0.2.1' address\n"},
		{[]string{"-bind", addr, "-encrypt", "abc"}, "==> Invalid encryption key: illegal base64 data at input byte 0\n"},
		{[]string{"-event-handler-timeout", "bogus"}, "==> Error: time: invalid duration \"bogus\"\n"},
		{[]string{"-dns-resolver", "127.0.0.1"}, "==> Invalid DNS resolver: address 127.0.0.1: missing port in address\n"},
		{[]string{"-metrics-addr", "9100"}, "==> Invalid metrics address: address 9100: missing port in address\n"},
		{[]string{"-bind", addr, "-rpc-addr", rpc, "-metrics-addr", busy.Addr().String()},
			"==> Starting Serf agent...\n==> Starting Serf agent RPC...\n==> Error starting metrics listener: listen tcp " +
				busy.Addr().String() + ": bind: address already in use\n"},
		{[]string{"-bind", addr, "-rpc-addr", rpc, "-keyring-file", dir + "/nokeyring.json"},
			"==> Starting Serf agent...\n==> Failed to setup the Serf agent: stat " + dir + "/nokeyring.json: no such file or directory\n"},
	}
	for _, tc := range cases {
		out, code := runAgentCmd(t, append([]string{"-node", "x"}, tc.args...)...)
		if code != 1 || out != tc.want {
			t.Errorf("%v: exit %d\n%q\nwant\n%q", tc.args, code, out, tc.want)
		}
	}
}

func TestAgentCommandRunsAndLeavesOnShutdown(t *testing.T) {
	bind := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	rpc := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	out, stop := startAgentCmd(t, "-node", "cmdnode", "-bind", bind, "-rpc-addr", rpc, "-profile", "local",
		"-tag", "role=web", "-role", "ignored-by-tag")
	wantBanner := "==> Deprecation warning: 'Role' has been replaced with 'Tags'\n" +
		"==> Starting Serf agent...\n==> Starting Serf agent RPC...\n==> Serf agent running!\n" +
		"                      Node name: 'cmdnode'\n" +
		"                      Bind addr: '" + bind + "'\n" +
		"                       RPC addr: '" + rpc + "'\n" +
		"                      Encrypted: false\n" +
		"                       Snapshot: false\n" +
		"                        Profile: local\n" +
		"    Message Compression Enabled: true\n\n" +
		"==> Log data will now stream in as it occurs:\n\n"
	if !strings.HasPrefix(out.String(), wantBanner) {
		t.Fatalf("banner:\n%s", out.String())
	}
	// -tag role=... and then -role: the deprecated flag wins.
	if got := runOurs(t, "members", "-rpc-addr="+rpc); got.code != 0 || got.stdout != "cmdnode  "+bind+"  alive  role=ignored-by-tag\n" {
		t.Errorf("members: %+v", got)
	}
	stop()
	for _, want := range []string{"==> Caught signal: interrupt\n==> Gracefully shutting down agent...\n",
		"[INFO] agent: requesting graceful leave from Serf", "[INFO] agent: shutdown complete"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("shutdown output lacks %q", want)
		}
	}
}

func TestAgentCommandLogJSON(t *testing.T) {
	bind := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	rpc := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	out, stop := startAgentCmd(t, "-node", "jsonnode", "-bind", bind, "-rpc-addr", rpc, "-profile", "local",
		"-log-json", "-role", "old")
	stop()
	text := out.String()
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var r map[string]string
		if err := json.Unmarshal([]byte(line), &r); err != nil || r["@message"] == "" || r["@level"] == "" {
			t.Fatalf("line %q is not a JSON log object (%v); all output:\n%s", line, err, text)
		}
	}
	for _, want := range []string{
		`"@message":"Deprecation warning: 'Role' has been replaced with 'Tags'"`,
		`"@message":"Serf agent running!"`,
		`"@message":"Node name: 'jsonnode'"`,
		`"@message":"Caught signal: interrupt"`,
		`"@message":"Serf agent starting","@module":"agent"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

// startAgentCmd runs `serf agent args...` in-process, with output and errors
// in one buffer, and waits until the agent has seen its own join. stop
// delivers the Ctrl-C and requires a clean exit; it is also registered as a
// cleanup, so an agent never outlives its test.
func startAgentCmd(t *testing.T, args ...string) (out *serftest.SyncBuffer, stop func()) {
	t.Helper()
	out = &serftest.SyncBuffer{}
	shutdown := make(chan struct{})
	c := newAgentCommand(&cli.BasicUi{Writer: out, ErrorWriter: out}, shutdown)
	done := make(chan int, 1)
	go func() { done <- c.Run(args) }()
	var once sync.Once
	stop = func() {
		t.Helper()
		once.Do(func() {
			close(shutdown)
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("agent exited %d", code)
				}
			case <-time.After(10 * time.Second):
				t.Error("agent did not stop")
			}
		})
	}
	t.Cleanup(stop)
	serftest.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(out.String(), "Received event: member-join") {
			return fmt.Errorf("agent not started yet:\n%s", out.String())
		}
		return nil
	})
	return out, stop
}
