package command

import (
	"fmt"

	"github.com/mitchellh/cli"
)

// The version the reference Serf v0.10.2 binary reports (its version file
// was never bumped), and the Serf protocol range it speaks.
const (
	Version           = "0.8.2"
	VersionPrerelease = "dev"
	ProtocolMax       = 5
	ProtocolMin       = 2
)

// HumanVersion is the version as `serf version` prints it.
func HumanVersion() string {
	if VersionPrerelease == "" {
		return Version
	}
	return Version + "-" + VersionPrerelease
}

// versionCommand prints the version and protocol range; it takes no flags
// and ignores its arguments.
type versionCommand struct {
	ui cli.Ui
}

func (c *versionCommand) Synopsis() string { return "Prints the Serf version" }
func (c *versionCommand) Help() string     { return "" }

func (c *versionCommand) Run([]string) int {
	c.ui.Output(HumanVersion())
	c.ui.Output(fmt.Sprintf("Agent Protocol: %d (Understands back to: %d)", ProtocolMax, ProtocolMin))
	return 0
}
