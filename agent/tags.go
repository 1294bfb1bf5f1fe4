package agent

import (
	"fmt"
	"strings"
)

// ParseTags turns "key=value" strings into a map, splitting at the first
// '='. A missing '=' or an empty key is an error: Invalid tag: 'X'.
func ParseTags(pairs []string) (map[string]string, error) {
	tags := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("Invalid tag: '%s'", p)
		}
		tags[k] = v
	}
	return tags, nil
}
