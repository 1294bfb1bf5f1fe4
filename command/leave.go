package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

const leaveHelp = `Usage: serf leave

  Causes the agent to gracefully leave the Serf cluster and shutdown.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`

// leaveCommand makes an agent leave the cluster and shut down.
type leaveCommand struct {
	ui cli.Ui
}

func (c *leaveCommand) Synopsis() string { return "Gracefully leaves the Serf cluster and shuts down" }
func (c *leaveCommand) Help() string     { return leaveHelp }

func (c *leaveCommand) Run(args []string) int {
	var rpc rpcFlags
	fs := newFlagSet("leave", c.ui, c.Help)
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	if err := cl.Leave(); err != nil {
		c.ui.Error(fmt.Sprintf("Error leaving: %s", err))
		return 1
	}
	c.ui.Output("Graceful leave complete")
	return 0
}
