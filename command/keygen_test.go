package command

import (
	"strings"
	"testing"

	"github.com/mitchellh/cli"
)

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
