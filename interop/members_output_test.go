package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// membersVariants are the `serf members` invocations whose output must be
// identical between the real CLI and ours (after normalising Go map order).
var membersVariants = [][]string{
	nil,
	{"-detailed"},
	{"-format", "json"},
	{"-format", "json", "-detailed"},
	{"-format=text"},
	{"-status", "alive"},
	{"-status", "left"},
	{"-status", "al"}, // anchored: matches nothing
	{"-status", "nope"},
	{"-name", "real.*"},
	{"-name", "ours-1"},
	{"-tag", "role=web"},
	{"-tag", "role=w"}, // anchored: matches nothing
	{"-tag", "dc=east", "-tag", "role=web"},
	{"-tag", "role=.*", "-status", "alive", "-detailed"},
	{"-format", "json", "-status", "left"},
	{"-format", "json", "-name", "nobody"},
	{"-format", "xml"},
	{"-tag", "bad"},
	{"-name", "("},
}

// normalizeMembers takes Go map order out of `serf members` output: rows and
// tag lists are sorted in text, members sorted by name in JSON.
func normalizeMembers(args []string, res cluster.Result) string {
	out := res.Stdout
	if res.Code == 0 {
		if strings.Contains(strings.Join(args, " "), "json") {
			if n, err := cluster.NormalizeMembersJSON(out); err == nil {
				out = n
			}
		} else {
			out = cluster.NormalizeMembersText(out)
		}
	}
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, out, res.Stderr)
}

// compareMembers runs every variant with cliA against agent a and cliB
// against agent b, and reports the first difference. It returns an error so
// callers can poll while the cluster view settles.
func compareMembers(t *testing.T, cliA string, a *cluster.Agent, cliB string, b *cluster.Agent) error {
	for _, v := range membersVariants {
		ra := normalizeMembers(v, cluster.CLI(t, cliA, a.RPCAddr, "members", v...))
		rb := normalizeMembers(v, cluster.CLI(t, cliB, b.RPCAddr, "members", v...))
		if ra != rb {
			return fmt.Errorf("serf members %s differs:\n--- %s against %s:\n%s\n--- %s against %s:\n%s",
				strings.Join(v, " "), cliA, a.Name, ra, cliB, b.Name, rb)
		}
	}
	return nil
}

// settledCluster starts agents (bins[i] named names[i]) with distinct tags,
// joins them, makes the last one leave, and waits until every remaining
// agent sees the same statuses.
func settledCluster(t *testing.T, names, bins []string) []*cluster.Agent {
	t.Helper()
	tags := [][]string{
		{"-tag", "role=web", "-tag", "dc=east", "-tag", "zone=a"},
		{"-tag", "role=db"},
		{"-tag", "role=web", "-tag", "dc=west"},
		nil,
	}
	var as []*cluster.Agent
	for i := range names {
		as = append(as, cluster.StartAgent(t, bins[i], cluster.Options{Name: names[i], Args: tags[i%len(tags)]}))
	}
	cluster.JoinAll(t, converge, as...)
	last := as[len(as)-1]
	last.Interrupt()
	last.Wait(t, 30*time.Second)
	want := allStatus("alive", as[:len(as)-1]...)
	want[last.Name] = "left"
	for _, a := range as[:len(as)-1] {
		a.WaitMembers(t, converge, want)
	}
	return as[:len(as)-1]
}

// TestMembersOutputControl validates the comparison itself: the real CLI
// against two real agents of one cluster prints the same thing.
func TestMembersOutputControl(t *testing.T) {
	t.Parallel()
	as := settledCluster(t, []string{"real-1", "real-2", "real-3", "gone"}, []string{realBin, realBin, realBin, realBin})
	cluster.Eventually(t, 20*time.Second, func() error {
		return compareMembers(t, realBin, as[0], realBin, as[1])
	})
}

// TestMembersOutputIdentical: our CLI and the real CLI print the same
// `members` output (text, -detailed, json, filters, errors) against the same
// agent, for a real agent and for ours; and the real CLI sees the same
// cluster through our agent as through a real one.
func TestMembersOutputIdentical(t *testing.T) {
	t.Parallel()
	our := ours(t)
	as := settledCluster(t, []string{"real-1", "ours-1", "real-2", "ours-gone"}, []string{realBin, our, realBin, our})
	real1, ours1 := as[0], as[1]
	t.Run("same-real-agent", func(t *testing.T) {
		cluster.Eventually(t, 20*time.Second, func() error { return compareMembers(t, realBin, real1, our, real1) })
	})
	t.Run("same-our-agent", func(t *testing.T) {
		cluster.Eventually(t, 20*time.Second, func() error { return compareMembers(t, realBin, ours1, our, ours1) })
	})
	t.Run("real-cli-real-vs-our-agent", func(t *testing.T) {
		cluster.Eventually(t, 20*time.Second, func() error { return compareMembers(t, realBin, real1, realBin, ours1) })
	})
}
