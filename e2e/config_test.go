package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestConfigDirAndReload: tags from a -config-dir (files merged in name
// order) and -tag flags combine; SIGHUP re-reads the files and applies new
// tags and event handlers without a restart.
func TestConfigDirAndReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-a.json", `{"tags": {"a": "1", "b": "2"}}`)
	write("20-b.json", `{"tags": {"b": "3"}}`)
	write("ignored.txt", `not json`)
	a := start(t, "cfg", "-config-dir", dir, "-tag", "c=4")
	waitTags := func(want string) {
		t.Helper()
		cluster.Eventually(t, converge, func() error {
			ms, err := a.Members(t)
			if err != nil {
				return err
			}
			if len(ms) != 1 || fmt.Sprint(ms[0].Tags) != want {
				return fmt.Errorf("members %+v, want tags %s", ms, want)
			}
			return nil
		})
	}
	waitTags("map[a:1 b:3 c:4]")

	script, records := cluster.RecordingHandler(t)
	write("20-b.json", fmt.Sprintf(`{"tags": {"b": "5"}, "event_handlers": ["user=%s"]}`, script))
	if err := a.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	a.WaitOutput(t, "==> Caught signal: hangup\n", converge)
	a.WaitOutput(t, "==> Reloading configuration...\n", converge)
	waitTags("map[a:1 b:5 c:4]")
	if res := a.CLI(t, "event", "after-reload", "x"); res.Code != 0 {
		t.Fatalf("event: %s", res)
	}
	cluster.WaitHandlerRecord(t, records, "user", "after-reload")
	if a.Exited() {
		t.Fatalf("agent exited after SIGHUP:\n%s", a.Output())
	}
}
