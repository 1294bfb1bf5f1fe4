package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

const forceLeaveHelp = `Usage: serf force-leave [options] name

  Forces a member of a Serf cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out "failed" nodes
  that are never coming back. If you do not force leave a failed node,
  Serf will attempt to reconnect to those failed nodes for some period of
  time before eventually reaping them.

Options:

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -prune                    Remove agent forcibly from list of members`

// forceLeaveCommand moves a failed member to the left state.
type forceLeaveCommand struct {
	ui cli.Ui
}

func (c *forceLeaveCommand) Synopsis() string {
	return `Forces a member of the cluster to enter the "left" state`
}
func (c *forceLeaveCommand) Help() string { return forceLeaveHelp }

func (c *forceLeaveCommand) Run(args []string) int {
	var (
		rpc   rpcFlags
		prune bool
	)
	fs := newFlagSet("force-leave", c.ui, c.Help)
	fs.BoolVar(&prune, "prune", false, "Remove agent forcibly from list of members")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	nodes := fs.Args()
	if len(nodes) != 1 {
		return usageError(c.ui, "A node name must be specified to force leave.", c.Help())
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	leave := cl.ForceLeave
	if prune {
		leave = cl.ForceLeavePrune
	}
	if err := leave(nodes[0]); err != nil {
		c.ui.Error(fmt.Sprintf("Error force leaving: %s", err))
		return 1
	}
	return 0
}
