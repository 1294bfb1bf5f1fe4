package agent

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tags change serf refuses must leave the tags file and the live tags as
// they were, so the agent still starts from its file afterwards.
func TestRefusedTagsAreNotPersisted(t *testing.T) {
	tagsFile := filepath.Join(t.TempDir(), "tags.json")
	edit := func(c *Config) { c.TagsFile = tagsFile }
	n := startNode(t, "tags", edit)
	if err := n.agent.SetTags(map[string]string{"role": "web"}); err != nil {
		t.Fatal(err)
	}
	before := readFileString(t, tagsFile)

	big := strings.Repeat("x", 600)
	err := n.agent.UpdateTags(map[string]string{"big": big}, nil)
	if err == nil || err.Error() != "Encoded length of tags exceeds limit of 512 bytes" {
		t.Fatalf("oversized tags: %v", err)
	}
	if err := n.agent.SetTags(map[string]string{"big": big}); err == nil {
		t.Fatal("oversized SetTags accepted")
	}
	if got := readFileString(t, tagsFile); got != before {
		t.Fatalf("tags file changed by a refused change:\n%s\nwant\n%s", got, before)
	}
	if live := n.agent.Serf().LocalMember().Tags; !maps.Equal(live, map[string]string{"role": "web"}) {
		t.Fatalf("live tags changed: %v", live)
	}
	n.stop()

	// The restart reads the file it left.
	again := startNode(t, "tags", edit)
	if live := again.agent.Serf().LocalMember().Tags; !maps.Equal(live, map[string]string{"role": "web"}) {
		t.Fatalf("restored tags: %v", live)
	}
}

// The tags file is replaced, not rewritten in place: no temporary file is
// left beside it and its mode is 0600.
func TestTagsFileWrittenAtomically(t *testing.T) {
	dir := t.TempDir()
	tagsFile := filepath.Join(dir, "tags.json")
	n := startNode(t, "tags", func(c *Config) { c.TagsFile = tagsFile })
	for _, v := range []string{"a", "b", "c"} {
		if err := n.agent.UpdateTags(map[string]string{"v": v}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFileString(t, tagsFile); got != "{\n  \"v\": \"c\"\n}" {
		t.Fatalf("tags file %q", got)
	}
	fi, err := os.Stat(tagsFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v)", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("files beside the tags file: %v", entries)
	}
}

// When the tags file cannot be written the change is undone, so the live
// tags keep matching what a restart would read.
func TestUnwritableTagsFileUndoesChange(t *testing.T) {
	tagsFile := filepath.Join(t.TempDir(), "missing-dir", "tags.json")
	n := startNode(t, "tags", func(c *Config) { c.TagsFile = tagsFile })
	before := n.agent.Serf().LocalMember().Tags
	err := n.agent.UpdateTags(map[string]string{"role": "db"}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "Failed to write tags file: ") {
		t.Fatalf("unwritable tags file: %v", err)
	}
	if live := n.agent.Serf().LocalMember().Tags; !maps.Equal(live, before) {
		t.Fatalf("live tags %v, want %v", live, before)
	}
	if !strings.Contains(n.console.String(), "[ERR] agent: Failed to write tags file: ") {
		t.Fatalf("no error logged\n%s", n.console)
	}
}
