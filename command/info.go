package command

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mitchellh/cli"
)

const infoHelp = `Usage: serf info [options]

	Provides debugging information for operators

Options:

  -format                  If provided, output is returned in the specified
                           format. Valid formats are 'json', and 'text' (default)

  -rpc-addr=127.0.0.1:7373 RPC address of the Serf agent.

  -rpc-auth=""             RPC auth token of the Serf agent.`

// infoCommand prints the agent's stats.
type infoCommand struct {
	ui cli.Ui
}

func (c *infoCommand) Synopsis() string { return "Provides debugging information for operators" }
func (c *infoCommand) Help() string     { return infoHelp }

func (c *infoCommand) Run(args []string) int {
	var (
		rpc    rpcFlags
		format string
	)
	fs := newFlagSet("info", c.ui, c.Help)
	fs.StringVar(&format, "format", "text", "output format")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	stats, err := cl.Stats()
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error querying agent: %s", err))
		return 1
	}
	return printResult(c.ui, statsView(stats), format)
}

// statsView is the agent's stats, section -> key -> value.
type statsView map[string]map[string]string

// Text lists the sections in sorted order as "NAME:", each followed by its
// sorted "\tKEY = VALUE" lines.
func (s statsView) Text() string {
	var b strings.Builder
	for _, section := range sortedKeys(s) {
		fmt.Fprintf(&b, "%s:\n", section)
		values := s[section]
		for _, k := range sortedKeys(values) {
			fmt.Fprintf(&b, "\t%s = %s\n", k, values[k])
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
