package command

import (
	"testing"

	"github.com/mitchellh/cli"
)

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
