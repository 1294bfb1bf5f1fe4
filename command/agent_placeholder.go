package command

import "github.com/mitchellh/cli"

// newAgentCommand stands in for the real agent command, which lives in
// command/agent.go on the agent branch. This file is deleted at merge.
func newAgentCommand(ui cli.Ui, shutdownCh <-chan struct{}) cli.Command {
	return &placeholderAgent{ui: ui}
}

type placeholderAgent struct{ ui cli.Ui }

func (a *placeholderAgent) Synopsis() string { return "Runs a Serf agent" }
func (a *placeholderAgent) Help() string     { return "Usage: serf agent [options]" }

func (a *placeholderAgent) Run([]string) int {
	a.ui.Error("agent: not built on this branch")
	return 1
}
