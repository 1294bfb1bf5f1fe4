package agent

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

func TestReloadAppliesLevelScriptsAndTags(t *testing.T) {
	n := startNode(t, "reload", func(c *Config) { c.Tags = map[string]string{"a": "1"} })

	conf := DefaultConfig()
	conf.LogLevel = "warn"
	conf.EventHandlers = []string{"user:deploy=true"}
	conf.Tags = map[string]string{"b": "2"}
	if errs := n.agent.Reload(conf, n.logs); len(errs) != 0 {
		t.Fatal(errs)
	}
	if got := n.logs.Level(); got != "WARN" {
		t.Errorf("level %q", got)
	}
	if s := n.agent.EventScripts(); len(s) != 1 || s[0].Script != "true" {
		t.Errorf("scripts %+v", s)
	}
	serftest.Eventually(t, 5*time.Second, func() error {
		tags := n.agent.Serf().LocalMember().Tags
		if tags["b"] != "2" || tags["a"] != "" {
			return fmt.Errorf("tags %v", tags)
		}
		return nil
	})
}

func TestReloadKeepsLevelOnError(t *testing.T) {
	n := startNode(t, "reload-bad", nil)
	conf := DefaultConfig()
	conf.LogLevel = "loud"
	errs := n.agent.Reload(conf, n.logs)
	want := "Invalid log level: LOUD. Valid log levels are: [TRACE DEBUG INFO WARN ERR]"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Fatalf("errors %v, want %q", errs, want)
	}
	if conf.LogLevel != "DEBUG" || n.logs.Level() != "DEBUG" {
		t.Errorf("level in config %q, in effect %q", conf.LogLevel, n.logs.Level())
	}
}

func TestReloadLeavesTagsFileTags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tags.json")
	n := startNode(t, "reload-file", func(c *Config) { c.TagsFile = file })
	if err := n.agent.SetTags(map[string]string{"kept": "yes"}); err != nil {
		t.Fatal(err)
	}
	conf := DefaultConfig()
	conf.LogLevel = "DEBUG"
	conf.TagsFile = file
	if errs := n.agent.Reload(conf, n.logs); len(errs) != 0 {
		t.Fatal(errs)
	}
	if tags := n.agent.Serf().LocalMember().Tags; tags["kept"] != "yes" {
		t.Errorf("tags %v", tags)
	}
	if got := readFileString(t, file); got != "{\n  \"kept\": \"yes\"\n}" {
		t.Errorf("tags file %q", got)
	}
}
