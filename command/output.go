package command

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mitchellh/cli"
)

// textual is implemented by results that have a text rendering.
type textual interface {
	Text() string
}

// printResult prints data in the given format and returns the exit code:
// 0, or 1 after reporting an encoding error.
func printResult(ui cli.Ui, data textual, format string) int {
	out, err := formatOutput(data, format)
	if err != nil {
		ui.Error(fmt.Sprintf("Encoding error: %s", err))
		return 1
	}
	ui.Output(out)
	return 0
}

// formatOutput renders data as "json" (indented by two spaces) or "text"
// and trims surrounding white space from the result, as Serf does for every
// formatted output.
func formatOutput(data textual, format string) (string, error) {
	var out string
	switch format {
	case "json":
		b, err := json.MarshalIndent(data, "", "  ")
		if err != nil {
			return "", err
		}
		out = string(b)
	case "text":
		out = data.Text()
	default:
		return "", fmt.Errorf("Invalid output format \"%s\"", format)
	}
	return strings.TrimSpace(out), nil
}
