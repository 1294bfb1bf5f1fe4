package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

const tagsHelp = `Usage: serf tags [options] ...

  Modifies tags on a running Serf agent.

Options:

  -rpc-addr=127.0.0.1:7373  RPC Address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.
  -set key=value            Creates or modifies the value of a tag
  -delete key               Removes a tag, if present`

// tagsCommand changes the tags of a running agent.
type tagsCommand struct {
	ui cli.Ui
}

func (c *tagsCommand) Synopsis() string { return "Modify tags of a running Serf agent" }
func (c *tagsCommand) Help() string     { return tagsHelp }

func (c *tagsCommand) Run(args []string) int {
	var (
		rpc      rpcFlags
		set, del listFlag
	)
	fs := newFlagSet("tags", c.ui, c.Help)
	fs.Var(&set, "set", "tag to set, as key=value")
	fs.Var(&del, "delete", "tag key to remove")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if len(set) == 0 && len(del) == 0 {
		c.ui.Output(c.Help())
		return 1
	}

	// Serf connects before it validates the tags; keep that order so the
	// same mistakes produce the same messages.
	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	tags, err := parseTags(set)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error: %s", err))
		return 1
	}
	if err := cl.UpdateTags(tags, del); err != nil {
		c.ui.Error(fmt.Sprintf("Error setting tags: %s", err))
		return 1
	}
	c.ui.Output("Successfully updated agent tags")
	return 0
}
