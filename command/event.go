package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

const eventHelp = `Usage: serf event [options] name payload

  Dispatches a custom event across the Serf cluster.

Options:

  -coalesce=true/false      Whether this event can be coalesced. This means
                            that repeated events of the same name within a
                            short period of time are ignored, except the last
                            one received. Default is true.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`

// eventCommand broadcasts a user event.
type eventCommand struct {
	ui cli.Ui
}

func (c *eventCommand) Synopsis() string { return "Send a custom event through the Serf cluster" }
func (c *eventCommand) Help() string     { return eventHelp }

func (c *eventCommand) Run(args []string) int {
	var (
		rpc      rpcFlags
		coalesce bool
	)
	fs := newFlagSet("event", c.ui, c.Help)
	fs.BoolVar(&coalesce, "coalesce", true, "whether the event may be coalesced")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	name, payload, code := nameAndPayload(c.ui, fs.Args(), "An event name must be specified.", c.Help())
	if code != 0 {
		return code
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	if err := cl.UserEvent(name, payload, coalesce); err != nil {
		c.ui.Error(fmt.Sprintf("Error sending event: %s", err))
		return 1
	}
	c.ui.Output(fmt.Sprintf("Event '%s' dispatched! Coalescing enabled: %t", name, coalesce))
	return 0
}

// nameAndPayload takes the NAME [PAYLOAD] arguments of event and query. On
// a wrong argument count it prints the usage error and returns code 1.
func nameAndPayload(ui cli.Ui, args []string, missing, help string) (string, []byte, int) {
	switch {
	case len(args) < 1:
		return "", nil, usageError(ui, missing, help)
	case len(args) > 2:
		return "", nil, usageError(ui,
			"Too many command line arguments. Only a name and payload must be specified.", help)
	}
	var payload []byte
	if len(args) == 2 {
		payload = []byte(args[1])
	}
	return args[0], payload, 0
}
