package command

import (
	"io"

	"github.com/mitchellh/cli"
)

// NewCLI builds the serf command line for args (without the program name).
// Command output goes to ui; top-level and command help go to helpOut.
// As in Serf, any argument that is exactly -v or --version runs the
// version command.
func NewCLI(args []string, ui cli.Ui, helpOut io.Writer, shutdownCh <-chan struct{}) *cli.CLI {
	for _, a := range args {
		if a == "-v" || a == "--version" {
			args = append([]string{"version"}, args...)
			break
		}
	}
	return &cli.CLI{
		Args:        args,
		Commands:    Commands(ui, shutdownCh),
		HelpFunc:    cli.BasicHelpFunc("serf"),
		HelpWriter:  helpOut,
		ErrorWriter: helpOut,
	}
}
