package cluster

import (
	"sort"
	"strings"
)

// Member is one row of `serf members` text output.
type Member struct {
	Name, Addr, Status string
	Tags               map[string]string
	Rest               string // anything after the tags column (-detailed)
}

// ParseMembers parses the text table of `serf members` (columns separated
// by at least two spaces; node names and tags must not contain "  ").
func ParseMembers(out string) []Member {
	var ms []Member
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cols := splitColumns(line)
		if len(cols) < 3 {
			continue
		}
		m := Member{Name: cols[0], Addr: cols[1], Status: cols[2], Tags: map[string]string{}}
		if len(cols) > 3 {
			m.Tags = ParseTags(cols[3])
		}
		if len(cols) > 4 {
			m.Rest = strings.Join(cols[4:], "  ")
		}
		ms = append(ms, m)
	}
	return ms
}

// splitColumns splits a columnize row on runs of two or more spaces. An
// empty tags cell is kept as "" when more columns follow it.
func splitColumns(line string) []string {
	var cols []string
	for _, c := range strings.Split(strings.TrimRight(line, " "), "  ") {
		c = strings.TrimSpace(c)
		if c != "" {
			cols = append(cols, c)
		}
	}
	// A row like "n  addr  alive  Protocol Version: 5 ..." (empty tags cell
	// with -detailed) would shift columns; put the empty cell back.
	if len(cols) > 3 && strings.HasPrefix(cols[3], "Protocol Version:") {
		cols = append(cols[:3], append([]string{""}, cols[3:]...)...)
	}
	return cols
}

// ParseTags parses "k=v,k=v" (the members tag cell).
func ParseTags(cell string) map[string]string {
	tags := map[string]string{}
	if cell == "" {
		return tags
	}
	for _, kv := range strings.Split(cell, ",") {
		k, v, _ := strings.Cut(kv, "=")
		tags[k] = v
	}
	return tags
}

// NormalizeMembersText makes `serf members` text output comparable across
// runs and implementations: rows sorted, the comma-separated tag list in each
// row sorted. Column padding is kept, since it depends only on the content.
// Go map order is the only nondeterminism in that output.
func NormalizeMembersText(out string) string {
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		lines[i] = sortTagCell(line)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// sortTagCell sorts the k=v list inside a row's 4th column in place,
// keeping the cell width so padding stays byte-identical.
func sortTagCell(line string) string {
	// Find the 4th column start: skip three cells separated by 2+ spaces.
	idx, cell := 0, 0
	for cell < 3 {
		j := strings.Index(line[idx:], "  ")
		if j < 0 {
			return line
		}
		idx += j
		for idx < len(line) && line[idx] == ' ' {
			idx++
		}
		cell++
	}
	end := strings.Index(line[idx:], "  ")
	if end < 0 {
		end = len(line) - idx
	}
	tags := line[idx : idx+end]
	if !strings.Contains(tags, "=") {
		return line
	}
	parts := strings.Split(tags, ",")
	sort.Strings(parts)
	return line[:idx] + strings.Join(parts, ",") + line[idx+end:]
}
