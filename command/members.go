package command

import (
	"fmt"
	"net"
	"strings"

	"github.com/mitchellh/cli"
	"github.com/ryanuber/columnize"
)

const membersHelp = `Usage: serf members [options]

  Outputs the members of a running Serf agent.

Options:

  -detailed                 Additional information such as protocol verions
                            will be shown (only affects text output format).

  -format                   If provided, output is returned in the specified
                            format. Valid formats are 'json', and 'text' (default)

  -name=<regexp>            If provided, only members matching the regexp are
                            returned. The regexp is anchored at the start and end,
                            and must be a full match.

  -role=<regexp>            If provided, output is filtered to only nodes matching
                            the regular expression for role
                            '-role' is deprecated in favor of '-tag role=foo'.
                            The regexp is anchored at the start and end, and must be
                            a full match.

  -status=<regexp>          If provided, output is filtered to only nodes matching
                            the regular expression for status

  -tag <key>=<regexp>       If provided, output is filtered to only nodes with the
                            tag <key> with value matching the regular expression.
                            tag can be specified multiple times to filter on
                            multiple keys. The regexp is anchored at the start and end,
                            and must be a full match.

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`

// membersCommand lists the cluster members an agent knows.
type membersCommand struct {
	ui cli.Ui
}

func (c *membersCommand) Synopsis() string { return "Lists the members of a Serf cluster" }
func (c *membersCommand) Help() string     { return membersHelp }

func (c *membersCommand) Run(args []string) int {
	var (
		rpc                        rpcFlags
		detailed                   bool
		role, status, name, format string
		tagFilters                 listFlag
	)
	fs := newFlagSet("members", c.ui, c.Help)
	fs.BoolVar(&detailed, "detailed", false, "detailed output")
	fs.StringVar(&role, "role", "", "role filter")
	fs.StringVar(&status, "status", "", "status filter")
	fs.StringVar(&format, "format", "text", "output format")
	fs.Var(&tagFilters, "tag", "tag filter")
	fs.StringVar(&name, "name", "", "name filter")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	if role != "" {
		c.ui.Output("Deprecation warning: 'Role' has been replaced with 'Tags'")
		tagFilters = append(tagFilters, "role="+role)
	}
	tags, err := parseTags(tagFilters)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error: %s", err))
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	members, err := cl.MembersFiltered(tags, status, name)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error retrieving members: %s", err))
		return 1
	}

	list := memberList{detailed: detailed}
	for _, m := range members {
		list.Members = append(list.Members, memberView{
			Name:   m.Name,
			Addr:   (&net.TCPAddr{IP: m.Addr, Port: int(m.Port)}).String(),
			Port:   m.Port,
			Tags:   m.Tags,
			Status: m.Status,
			Protocol: map[string]uint8{
				"min":     m.DelegateMin,
				"max":     m.DelegateMax,
				"version": m.DelegateCur,
			},
		})
	}

	return printResult(c.ui, list, format)
}

// memberView is one member as `serf members` shows it; the JSON keys are
// part of the CLI's interface.
type memberView struct {
	Name     string            `json:"name"`
	Addr     string            `json:"addr"`
	Port     uint16            `json:"port"`
	Tags     map[string]string `json:"tags"`
	Status   string            `json:"status"`
	Protocol map[string]uint8  `json:"protocol"`
}

// memberList is the whole listing; detailed only affects the text form.
type memberList struct {
	detailed bool
	Members  []memberView `json:"members"`
}

// Text renders one aligned row per member:
// NAME  ADDR  STATUS  TAGS[  Protocol Version: N  Available Protocol Range: [MIN, MAX]]
func (l memberList) Text() string {
	rows := make([]string, 0, len(l.Members))
	for _, m := range l.Members {
		cells := []string{m.Name, m.Addr, m.Status, joinTags(m.Tags)}
		if l.detailed {
			cells = append(cells,
				fmt.Sprintf("Protocol Version: %d", m.Protocol["version"]),
				fmt.Sprintf("Available Protocol Range: [%d, %d]", m.Protocol["min"], m.Protocol["max"]))
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return columnize.SimpleFormat(rows)
}
