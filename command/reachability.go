package command

import (
	"fmt"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/agent"
	"github.com/serf-clone/serf/client"
)

const reachabilityHelp = `Usage: serf reachability [options]

  Tests the network reachability of this node

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -verbose                  Verbose mode`

// Messages of the reachability report.
const (
	reachTooManyAcks = "This could mean Serf is detecting false-failures due to a misconfiguration or network issue."
	reachTooFewAcks  = "This could mean Serf gossip packets are being lost due to a misconfiguration or network issue."
	reachDuplicates  = "Duplicate responses means there is a misconfiguration. Verify that node names are unique."
	reachTips        = `
Troubleshooting tips:
* Ensure that the bind addr:port is accessible by all other nodes
* If an advertise address is set, ensure it routes to the bind address
* Check that no nodes are behind a NAT
* If nodes are behind firewalls or iptables, check that Serf traffic is permitted (UDP and TCP)
* Verify networking equipment is functional`
)

// reachabilityCommand pings every member through an internal query and
// compares who answered with who is alive. Ctrl-C (shutdownCh) aborts it.
type reachabilityCommand struct {
	ui         cli.Ui
	shutdownCh <-chan struct{}
}

func (c *reachabilityCommand) Synopsis() string { return "Test network reachability" }
func (c *reachabilityCommand) Help() string     { return reachabilityHelp }

func (c *reachabilityCommand) Run(args []string) int {
	var (
		rpc     rpcFlags
		verbose bool
	)
	fs := newFlagSet("reachability", c.ui, c.Help)
	fs.BoolVar(&verbose, "verbose", false, "verbose mode")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	members, err := cl.Members()
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error getting members: %s", err))
		return 1
	}
	alive := make(map[string]bool)
	for _, m := range members {
		if m.Status == "alive" {
			alive[m.Name] = true
		}
	}
	c.ui.Output(fmt.Sprintf("Total members: %d, live members: %d", len(members), len(alive)))

	acks := make(chan string, 128)
	if err := cl.Query(&client.QueryParam{Name: agent.PingQueryName, RequestAck: true, AckCh: acks}); err != nil {
		c.ui.Error(fmt.Sprintf("Error sending query: %s", err))
		return 1
	}
	c.ui.Output("Starting reachability test...")
	start := time.Now()
	last := start

	numAcks := 0
	duplicates := false
	ackedBy := make(map[string]bool, len(members))
wait:
	for {
		select {
		case from, ok := <-acks:
			if !ok {
				break wait
			}
			if verbose {
				c.ui.Output(fmt.Sprintf("\tAck from '%s'", from))
			}
			numAcks++
			if ackedBy[from] {
				duplicates = true
				c.ui.Output(fmt.Sprintf("Duplicate response from '%v'", from))
			}
			ackedBy[from] = true
			last = time.Now()
		case <-c.shutdownCh:
			c.ui.Error("Test interrupted")
			return 1
		}
	}

	if verbose {
		c.ui.Output(fmt.Sprintf("Query time: %0.2f sec, time to last response: %0.2f sec",
			time.Since(start).Seconds(), last.Sub(start).Seconds()))
	}
	code := 0
	if duplicates {
		c.ui.Output(reachDuplicates)
		code = 1
	}

	switch live := len(alive); {
	case numAcks == live:
		c.ui.Output("Successfully contacted all live nodes")
	case numAcks > live:
		c.ui.Output("Received more acks than live nodes! Acks from non-live nodes:")
		for name := range ackedBy {
			if !alive[name] {
				c.ui.Output("\t" + name)
			}
		}
		c.ui.Output(reachTooManyAcks)
		c.ui.Output(reachTips)
		return 1
	default:
		c.ui.Output("Received less acks than live nodes! Missing acks from:")
		for name := range alive {
			if !ackedBy[name] {
				c.ui.Output("\t" + name)
			}
		}
		c.ui.Output(reachTooFewAcks)
		c.ui.Output(reachTips)
		return 1
	}
	return code
}
