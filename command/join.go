package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

const joinHelp = `Usage: serf join [options] address ...

  Tells a running Serf agent (with "serf agent") to join the cluster
  by specifying at least one existing member.

Options:

  -replay                   Replay past user events.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`

// joinCommand asks an agent to join a cluster through known members.
type joinCommand struct {
	ui cli.Ui
}

func (c *joinCommand) Synopsis() string { return "Tell Serf agent to join cluster" }
func (c *joinCommand) Help() string     { return joinHelp }

func (c *joinCommand) Run(args []string) int {
	var (
		rpc    rpcFlags
		replay bool
	)
	fs := newFlagSet("join", c.ui, c.Help)
	fs.BoolVar(&replay, "replay", false, "replay past user events")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	addrs := fs.Args()
	if len(addrs) == 0 {
		return usageError(c.ui, "At least one address to join must be specified.", c.Help())
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	n, err := cl.Join(addrs, replay)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error joining the cluster: %s", err))
		return 1
	}
	c.ui.Output(fmt.Sprintf("Successfully joined cluster by contacting %d nodes.", n))
	return 0
}
