package command

import (
	"github.com/mitchellh/cli"
)

// Commands returns the serf subcommands. Every factory builds a fresh
// command, so no state is shared between runs. shutdownCh delivers one
// value per interrupt to the commands that handle Ctrl-C themselves (see
// HandlesInterrupt) and to the agent.
func Commands(ui cli.Ui, shutdownCh <-chan struct{}) map[string]cli.CommandFactory {
	return map[string]cli.CommandFactory{
		"agent": func() (cli.Command, error) { return newAgentCommand(ui, shutdownCh), nil },

		"event":        func() (cli.Command, error) { return &eventCommand{ui: ui}, nil },
		"force-leave":  func() (cli.Command, error) { return &forceLeaveCommand{ui: ui}, nil },
		"info":         func() (cli.Command, error) { return &infoCommand{ui: ui}, nil },
		"join":         func() (cli.Command, error) { return &joinCommand{ui: ui}, nil },
		"keygen":       func() (cli.Command, error) { return &keygenCommand{ui: ui}, nil },
		"keys":         func() (cli.Command, error) { return &keysCommand{ui: ui}, nil },
		"leave":        func() (cli.Command, error) { return &leaveCommand{ui: ui}, nil },
		"members":      func() (cli.Command, error) { return &membersCommand{ui: ui}, nil },
		"monitor":      func() (cli.Command, error) { return &monitorCommand{ui: ui, shutdownCh: shutdownCh}, nil },
		"query":        func() (cli.Command, error) { return &queryCommand{ui: ui, shutdownCh: shutdownCh}, nil },
		"reachability": func() (cli.Command, error) { return &reachabilityCommand{ui: ui, shutdownCh: shutdownCh}, nil },
		"rtt":          func() (cli.Command, error) { return &rttCommand{ui: ui}, nil },
		"tags":         func() (cli.Command, error) { return &tagsCommand{ui: ui}, nil },
		"version":      func() (cli.Command, error) { return &versionCommand{ui: ui}, nil },
	}
}

// HandlesInterrupt reports whether the named subcommand reacts to Ctrl-C
// through shutdownCh. For every other command (the agent handles its own
// signals) an interrupt keeps its default effect, as in Serf.
func HandlesInterrupt(name string) bool {
	switch name {
	case "monitor", "query", "reachability":
		return true
	}
	return false
}
