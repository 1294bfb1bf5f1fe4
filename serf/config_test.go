package serf_test

import (
	"fmt"
	"io"
	"log"
	"maps"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// loopbackConfig is a Serf config on a real 127.0.0.1 socket with an
// OS-chosen port, quiet and with fast timings.
func loopbackConfig(name string) *serf.Config {
	conf := serf.DefaultConfig()
	conf.NodeName = name
	conf.Logger = log.New(io.Discard, "", 0)
	conf.LeavePropagateDelay = 10 * time.Millisecond
	conf.Tags = map[string]string{"role": "web", "dc": "east"}
	ml := memberlist.DefaultLocalConfig()
	ml.BindAddr = "127.0.0.1"
	ml.BindPort = 0
	ml.Name = "caller-chosen"
	ml.LogOutput = io.Discard
	conf.MemberlistConfig = ml
	return conf
}

// TestCreateLeavesCallerConfigAlone checks that neither Create nor SetTags
// write into the caller's Config, its memberlist config or its tags map.
func TestCreateLeavesCallerConfigAlone(t *testing.T) {
	conf := loopbackConfig("n0")
	before := *conf
	mlBefore := *conf.MemberlistConfig
	tagsBefore := maps.Clone(conf.Tags)

	s, err := serf.Create(conf)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { s.Shutdown() })

	check := func(when string) {
		t.Helper()
		if conf.MemberlistConfig != before.MemberlistConfig || conf.Logger != before.Logger ||
			conf.NodeName != before.NodeName || conf.ProtocolVersion != before.ProtocolVersion {
			t.Errorf("%s: Config fields changed", when)
		}
		ml := conf.MemberlistConfig
		if ml.Name != mlBefore.Name || ml.BindPort != mlBefore.BindPort ||
			ml.Delegate != nil || ml.Events != nil || ml.Conflict != nil || ml.Ping != nil ||
			ml.Logger != mlBefore.Logger || ml.LogOutput != mlBefore.LogOutput ||
			ml.DelegateProtocolVersion != mlBefore.DelegateProtocolVersion {
			t.Errorf("%s: MemberlistConfig changed: name %q port %d delegate %v",
				when, ml.Name, ml.BindPort, ml.Delegate)
		}
		if !maps.Equal(conf.Tags, tagsBefore) {
			t.Errorf("%s: Tags = %v, want %v", when, conf.Tags, tagsBefore)
		}
	}
	check("after Create")

	if got := s.LocalMember().Name; got != "n0" {
		t.Errorf("local member %q, want n0 (not the memberlist config's name)", got)
	}

	newTags := map[string]string{"role": "db"}
	if err := s.SetTags(newTags); err != nil {
		t.Fatalf("set tags: %v", err)
	}
	check("after SetTags")

	// Serf holds its own copy of the new tags too.
	newTags["role"] = "changed-by-caller"
	serftest.Eventually(t, 5*time.Second, func() error {
		if got := s.LocalMember().Tags["role"]; got != "db" {
			return fmt.Errorf("role tag %q, want db", got)
		}
		return nil
	})
}

// TestCreateWithNilTags checks that a Config without tags still works and
// is left without tags.
func TestCreateWithNilTags(t *testing.T) {
	conf := loopbackConfig("n1")
	conf.Tags = nil
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { s.Shutdown() })
	if conf.Tags != nil {
		t.Errorf("caller's nil Tags became %v", conf.Tags)
	}
	if err := s.SetTags(map[string]string{"a": "b"}); err != nil {
		t.Fatalf("set tags: %v", err)
	}
	if conf.Tags != nil {
		t.Errorf("caller's nil Tags became %v after SetTags", conf.Tags)
	}
}

func TestDefaultConfigUpstreamFields(t *testing.T) {
	conf := serf.DefaultConfig()
	if conf.LogOutput == nil || conf.FlapTimeout != 60*time.Second || conf.ValidateNodeNames ||
		conf.Merge != nil || conf.ReconnectTimeoutOverride != nil || conf.MsgpackUseNewTimeFormat {
		t.Fatalf("defaults differ from Serf v0.10.2's: %+v", conf)
	}
	var zero serf.Config
	zero.Init()
	if zero.Tags == nil {
		t.Fatal("Init left Tags nil")
	}
	if serf.ProtocolVersionMap[serf.ProtocolVersionMax] != 2 || serf.ProtocolVersionMap[serf.ProtocolVersionMin] != 2 {
		t.Fatalf("ProtocolVersionMap %v", serf.ProtocolVersionMap)
	}
}

// Every memberlist profile Serf hands out keeps memberlist's settings but
// one: a handoff queue deep enough for a starved member's backlog of
// received gossip (config.go, handoffQueueDepth).
func TestMemberlistProfilesHaveADeepHandoffQueue(t *testing.T) {
	check := func(name string, got, want *memberlist.Config) {
		t.Helper()
		if got.HandoffQueueDepth != 8192 {
			t.Errorf("%s: HandoffQueueDepth %d, want 8192", name, got.HandoffQueueDepth)
		}
		if got.ProbeInterval != want.ProbeInterval || got.GossipInterval != want.GossipInterval || got.PushPullInterval != want.PushPullInterval {
			t.Errorf("%s: intervals differ from memberlist's profile", name)
		}
	}
	check("DefaultConfig", serf.DefaultConfig().MemberlistConfig, memberlist.DefaultLANConfig())
	for name, want := range map[string]*memberlist.Config{
		"lan": memberlist.DefaultLANConfig(), "wan": memberlist.DefaultWANConfig(), "local": memberlist.DefaultLocalConfig(),
	} {
		got, err := serf.MemberlistProfile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(name, got, want)
	}
}

// Without a Logger, Serf logs to LogOutput.
func TestLogOutputWithoutLogger(t *testing.T) {
	logs := &serftest.SyncBuffer{}
	conf := loopbackConfig("n0")
	conf.Logger = nil
	conf.LogOutput = logs
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if err := s.UserEvent("hello", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, 5*time.Second, func() error {
		if !logs.Contains("serf: ") {
			return fmt.Errorf("nothing logged to LogOutput: %q", logs.String())
		}
		return nil
	})
}
