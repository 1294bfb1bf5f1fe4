package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// NormalizeMembersJSON re-emits `serf members -format json` output with the
// members sorted by name. Key order inside each member is preserved (a
// json.RawMessage keeps it), so only Go map order is taken out; tag maps are
// already sorted by encoding/json.
func NormalizeMembersJSON(out string) (string, error) {
	var doc struct {
		Members []json.RawMessage `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return "", fmt.Errorf("parse members json: %w", err)
	}
	names := make([]string, len(doc.Members))
	for i, raw := range doc.Members {
		var m struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", fmt.Errorf("parse member: %w", err)
		}
		names[i] = m.Name
	}
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
	sorted := make([]json.RawMessage, len(idx))
	for i, j := range idx {
		sorted[i] = doc.Members[j]
	}
	if doc.Members == nil {
		// Keep `{"members": null}` as is.
		return string(bytes.TrimSpace([]byte(out))), nil
	}
	doc.Members = sorted
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}
