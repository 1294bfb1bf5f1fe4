package interop

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// metricKeys reads every metric key written as a []string literal that
// starts with "serf" in the non-test Go files of dirs, as go-metrics keys
// are written, and returns them dotted. A key with a part computed at run
// time (serf.events.<event name>) is returned as its constant prefix
// followed by ".*".
func metricKeys(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if k, ok := metricKey(n); ok {
					keys[k] = true
				}
				return true
			})
		}
	}
	return keys
}

func metricKey(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.CompositeLit)
	if !ok || len(lit.Elts) == 0 {
		return "", false
	}
	arr, ok := lit.Type.(*ast.ArrayType)
	if !ok || arr.Len != nil {
		return "", false
	}
	if id, ok := arr.Elt.(*ast.Ident); !ok || id.Name != "string" {
		return "", false
	}
	var parts []string
	for i, e := range lit.Elts {
		s, ok := stringLit(e)
		if !ok {
			if i == 0 {
				return "", false
			}
			parts = append(parts, "*")
			break
		}
		parts = append(parts, s)
	}
	if parts[0] != "serf" {
		return "", false
	}
	return strings.Join(parts, "."), true
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// TestMetricNamesMatchUpstream: every serf.* metric that Serf v0.10.2's
// serf and coordinate packages emit is emitted by ours under the same
// name (keys with a run-time part compared by their constant prefix).
func TestMetricNamesMatchUpstream(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/serf").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/hashicorp/serf: %v", err)
	}
	upstreamDir := strings.TrimSpace(string(out))
	upstream := metricKeys(t, filepath.Join(upstreamDir, "serf"), filepath.Join(upstreamDir, "coordinate"))
	ourDir := filepath.Join("..", "serf")
	ourKeys := metricKeys(t, ourDir, filepath.Join(ourDir, "coordinate"))

	// Guard the extraction itself: Serf v0.10.2 has 20 such keys.
	for _, k := range []string{"serf.member.join", "serf.events.*", "serf.queue.*", "serf.coordinate.zero-rtt", "serf.snapshot.compact"} {
		if !upstream[k] {
			t.Fatalf("upstream key %s not found; extraction is broken (found %v)", k, sorted(upstream))
		}
	}
	if len(upstream) < 20 {
		t.Fatalf("only %d upstream keys found: %v", len(upstream), sorted(upstream))
	}

	var missing []string
	for k := range upstream {
		if !ourKeys[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("upstream emits metrics we do not: %v\nours: %v", missing, sorted(ourKeys))
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
