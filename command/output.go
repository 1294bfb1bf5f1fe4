package command

import (
	"encoding/json"
	"fmt"
	"strings"
)

// textual is implemented by results that have a text rendering.
type textual interface {
	Text() string
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
