package interop

import (
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestMixedProtocolVersions: real and our agents speaking Serf protocols 2,
// 3, 4 and 5 form one cluster; below 3 tags shrink to the role, and every
// agent reports the cluster the same way, whichever kind it is.
func TestMixedProtocolVersions(t *testing.T) {
	t.Parallel()
	our := ours(t)
	specs := []struct {
		name, bin, proto string
	}{
		{"real-p5", realBin, "5"}, {"ours-p5", our, "5"},
		{"real-p2", realBin, "2"}, {"ours-p2", our, "2"},
		{"real-p3", realBin, "3"}, {"ours-p4", our, "4"},
	}
	var as []*cluster.Agent
	for _, s := range specs {
		as = append(as, cluster.StartAgent(t, s.bin, cluster.Options{Name: s.name, Args: []string{
			"-protocol", s.proto, "-tag", "role=r-" + s.name, "-tag", "dc=east",
		}}))
	}
	cluster.JoinAll(t, converge, as...)

	// Protocol 2 members carry only their role.
	ms, err := as[0].Members(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		wantTags := 2
		if m.Name == "real-p2" || m.Name == "ours-p2" {
			wantTags = 1
		}
		if len(m.Tags) != wantTags || m.Tags["role"] != "r-"+m.Name {
			t.Errorf("%s tags %v, want %d tag(s) with role=r-%s", m.Name, m.Tags, wantTags, m.Name)
		}
	}

	// Same view of the cluster from real and our agents of equal protocol.
	pairs := [][2]*cluster.Agent{{as[0], as[1]}, {as[2], as[3]}}
	for _, p := range pairs {
		cluster.Eventually(t, 20*time.Second, func() error {
			return compareMembers(t, realBin, p[0], realBin, p[1])
		})
	}

	// A user event from a protocol-2 agent reaches everybody's log.
	res := cluster.CLI(t, realBin, as[3].RPCAddr, "event", "-coalesce=false", "old-proto")
	if res.Code != 0 {
		t.Fatalf("event from ours-p2: %s", res)
	}
	for _, a := range as {
		a.WaitOutput(t, "Received event: user-event: old-proto", converge)
	}
}
