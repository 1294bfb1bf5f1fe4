package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/cmd/serf-sim/engine"
	"github.com/serf-clone/serf/serf/serftest"
)

// A small cluster, fast dilation: the run ends with one SIM line per
// scenario, every member got there, and the plot is an SVG.
func TestSmallRunPrintsSimLines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 members")
	}
	plot := filepath.Join(t.TempDir(), "sim.svg")
	var out, errs bytes.Buffer
	args := []string{"-n", "20", "-scenario", "bootstrap,user-event", "-scale", "0.25",
		"-max-rounds", "600", "-idle-rounds", "4", "-measure", "none", "-plot", plot}
	if code := engine.Main(ours{}, args, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs.String(), out.String())
	}
	for _, name := range []string{"bootstrap", "user-event"} {
		re := regexp.MustCompile(`(?m)^SIM n=20 scenario=` + name + ` rounds_99.99=(\S+) model_99.99=(\S+) ratio=(\S+) rounds_100=(\S+)$`)
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no SIM line for %s in:\n%s", name, out.String())
		}
		if m[4] == "-" || m[1] == "-" {
			t.Errorf("%s: 100 %% not reached: %s", name, m[0])
		}
		hasModel := name == "user-event"
		if (m[2] != "-") != hasModel || (m[3] != "-") != hasModel {
			t.Errorf("%s: model %s ratio %s, model expected: %v", name, m[2], m[3], hasModel)
		}
	}
	last := strings.Split(strings.TrimSpace(out.String()), "\n")
	if n := len(last); n < 2 || !strings.HasPrefix(last[n-2], "SIM ") || !strings.HasPrefix(last[n-1], "SIM ") {
		t.Errorf("the run does not end with the SIM lines:\n%s", out.String())
	}
	svg, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("epidemic model")) || !bytes.HasSuffix(svg, []byte("</svg>\n")) {
		t.Errorf("plot is not the expected SVG:\n%.300s", svg)
	}
}

func TestFlagsRejectBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "1"}, {"-scenario", "nope"}, {"-loss", "1"}, {"-scale", "0"}, {"-measure", "x"}, {"extra"},
	} {
		var out, errs bytes.Buffer
		if code := engine.Main(ours{}, args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestProfileDilatesIntervalsNotMultipliers(t *testing.T) {
	net := serftest.NewNetwork(1)
	defer net.Close()
	opt := engine.Options{Scale: 3, Fanout: 5}
	tr := net.NewTransport("a")
	c := Profile(engine.Spec{Name: "a", Memberlist: engine.MemberlistProfile("a", tr, opt), Opt: opt, Logs: &bytes.Buffer{}})
	ml := c.MemberlistConfig
	if ml.GossipInterval != 600*time.Millisecond || ml.ProbeInterval != 3*time.Second ||
		ml.ProbeTimeout != 1500*time.Millisecond || ml.PushPullInterval != 90*time.Second {
		t.Errorf("memberlist intervals %v %v %v %v", ml.GossipInterval, ml.ProbeInterval, ml.ProbeTimeout, ml.PushPullInterval)
	}
	if c.ReapInterval != 45*time.Second || c.ReconnectInterval != 90*time.Second || c.QueueCheckInterval != 90*time.Second ||
		c.AntiEntropyInterval != 3*time.Second || c.RejoinRetryMax != 90*time.Second {
		t.Errorf("serf intervals %v %v %v %v %v", c.ReapInterval, c.ReconnectInterval, c.QueueCheckInterval, c.AntiEntropyInterval, c.RejoinRetryMax)
	}
	if ml.SuspicionMult != 4 || ml.RetransmitMult != 4 || c.QueryTimeoutMult != 16 || ml.GossipNodes != 5 {
		t.Errorf("multipliers changed: %d %d %d, fanout %d", ml.SuspicionMult, ml.RetransmitMult, c.QueryTimeoutMult, ml.GossipNodes)
	}
	if ml.Transport != tr || c.NodeName != "a" || ml.Name != "a" {
		t.Error("name or transport not set")
	}
}
