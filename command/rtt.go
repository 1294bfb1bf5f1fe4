package command

import (
	"fmt"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf/coordinate"
)

const rttHelp = `Usage: serf rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using Serf's network
  coordinate model of the cluster.

  At least one node name is required. If the second node name isn't given, it
  is set to the agent's node name. Note that these are node names as known to
  Serf as "serf members" would show, not IP addresses.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`

// rttCommand estimates the round trip time between two nodes from their
// network coordinates.
type rttCommand struct {
	ui cli.Ui
}

func (c *rttCommand) Synopsis() string { return "Estimates network round trip time between nodes" }
func (c *rttCommand) Help() string     { return rttHelp }

func (c *rttCommand) Run(args []string) int {
	var rpc rpcFlags
	fs := newFlagSet("rtt", c.ui, c.Help)
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	// Serf connects before looking at the arguments.
	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	nodes := fs.Args()
	switch len(nodes) {
	case 1:
		stats, err := cl.Stats()
		if err != nil {
			c.ui.Error(fmt.Sprintf("Error querying agent: %s", err))
			return 1
		}
		nodes = append(nodes, stats["agent"]["name"])
	case 2:
	default:
		return usageError(c.ui, "One or two node names must be specified", c.Help())
	}

	var coords [2]*coordinate.Coordinate
	for i, node := range nodes {
		coord, err := cl.GetCoordinate(node)
		if err != nil {
			c.ui.Error(fmt.Sprintf("Error getting coordinates: %s", err))
			return 1
		}
		if coord == nil {
			c.ui.Error(fmt.Sprintf("Could not find a coordinate for node %q", node))
			return 1
		}
		coords[i] = coord
	}

	dist, err := client.Distance(coords[0], coords[1])
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error computing distance: %s", err))
		return 1
	}
	c.ui.Output(fmt.Sprintf("Estimated %s <-> %s rtt: %.3f ms", nodes[0], nodes[1], dist.Seconds()*1000.0))
	return 0
}
