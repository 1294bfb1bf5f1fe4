package interop

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// eventBlocks extracts the "Event Info:" blocks of `serf monitor` output
// whose lines contain marker, each with its lines sorted (the record's keys
// come in Go map order).
func eventBlocks(out, marker string) []string {
	var blocks []string
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "Event Info:" {
			continue
		}
		var body []string
		for j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "\t"); j++ {
			body = append(body, lines[j])
		}
		b := strings.Join(body, "\n")
		if strings.Contains(b, marker) {
			sort.Strings(body)
			blocks = append(blocks, strings.Join(body, "\n"))
		}
	}
	return blocks
}

// memberEntry matches one member of a monitor event's Members line.
var memberEntry = regexp.MustCompile(`map\[interface \{\}\]interface \{\}\{"Addr".*?"Tags":map\[interface \{\}\]interface \{\}\{[^}]*\}\}`)

// TestMonitorEventsIdentical: `serf monitor` prints the same event records
// (Go-typed as the real CLI decodes them) whichever CLI runs it and whichever
// kind of agent streams them: user events, and member events of a third
// node joining and leaving.
func TestMonitorEventsIdentical(t *testing.T) {
	t.Parallel()
	our := ours(t)
	r := cluster.StartAgent(t, realBin, cluster.Options{Name: "mon-r", Args: []string{"-tag", "role=web"}})
	o := cluster.StartAgent(t, our, cluster.Options{Name: "mon-o", Args: []string{"-tag", "role=web"}})
	cluster.JoinAll(t, converge, r, o)

	type mon struct {
		name string
		p    *cluster.Proc
	}
	var mons []mon
	for _, cli := range []struct{ name, bin string }{{"real-cli", realBin}, {"our-cli", our}} {
		for _, a := range []*cluster.Agent{r, o} {
			p := cluster.StartProc(t, nil, cli.bin, "monitor", "-rpc-addr", a.RPCAddr)
			p.WaitOutput(t, "[INFO] agent: Serf agent starting", 20*time.Second)
			mons = append(mons, mon{fmt.Sprintf("%s on %s", cli.name, a.Name), p})
		}
	}

	// same waits until every monitor printed an event block with marker
	// (about mon-c, for member events) and checks they all agree.
	same := func(marker string) {
		t.Helper()
		var first []string
		for i, m := range mons {
			var blocks []string
			cluster.Eventually(t, converge, func() error {
				blocks = eventBlocks(m.p.Output(), marker)
				if marker != `Name: "mon-ev"` {
					// Member events: which members share a record depends
					// on coalescing timing and their order on map order, so
					// compare only mon-c's entry.
					var keep []string
					for _, b := range blocks {
						for _, m := range memberEntry.FindAllString(b, -1) {
							if strings.Contains(m, `"Name":"mon-c"`) {
								keep = append(keep, marker+" "+m)
							}
						}
					}
					blocks = keep
				}
				if len(blocks) == 0 {
					return fmt.Errorf("%s: no event block with %s yet:\n%s", m.name, marker, m.p.Output())
				}
				return nil
			})
			if i == 0 {
				first = blocks
				continue
			}
			if strings.Join(blocks, "\n--\n") != strings.Join(first, "\n--\n") {
				t.Errorf("%s event blocks differ:\n--- %s:\n%s\n--- %s:\n%s", marker,
					mons[0].name, strings.Join(first, "\n--\n"), m.name, strings.Join(blocks, "\n--\n"))
			}
		}
	}

	res := cluster.CLI(t, realBin, r.RPCAddr, "event", "-coalesce=false", "mon-ev", "payload\x01")
	if res.Code != 0 {
		t.Fatalf("event: %s", res)
	}
	same(`Name: "mon-ev"`)

	// A third node joins, then leaves once everyone has seen the join (the
	// agents coalesce member events, so a quick leave would hide the join).
	c := cluster.StartAgent(t, realBin, cluster.Options{Name: "mon-c", Args: []string{"-tag", "k=v"}})
	if res := c.CLI(t, "join", r.BindAddr); res.Code != 0 {
		t.Fatalf("join: %s", res)
	}
	same(`Event: "member-join"`)
	c.Interrupt()
	c.Wait(t, 30*time.Second)
	same(`Event: "member-leave"`)
}
