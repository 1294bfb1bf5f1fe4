package library

import (
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/exp/apidiff"
)

// apiPairs are upstream's library packages and ours that replace them.
var apiPairs = []struct{ upstream, ours string }{
	{"github.com/hashicorp/serf/serf", "github.com/serf-clone/serf/serf"},
	{"github.com/hashicorp/serf/client", "github.com/serf-clone/serf/client"},
	{"github.com/hashicorp/serf/coordinate", "github.com/serf-clone/serf/serf/coordinate"},
}

// knownIncompatible is every incompatible difference apidiff finds between
// upstream's exported API and ours, once the import paths are rewritten.
// The README's "Library compatibility" section lists and explains them;
// keep the two in step.
var knownIncompatible = []string{
	// go-metrics: upstream's Label is go-metrics/compat's (armon's by
	// default); memberlist v0.7.0 and we use hashicorp/go-metrics'. The
	// same for the coordinate package's Config.
	"serf: Config.MetricLabels: changed from []github.com/hashicorp/go-metrics/compat.Label to []github.com/hashicorp/go-metrics.Label",
	"coordinate: Config.MetricLabels: changed from []github.com/hashicorp/go-metrics/compat.Label to []github.com/hashicorp/go-metrics.Label",
	// coordinate: the simulation and test helpers upstream exports from
	// its non-test files are not here.
	"coordinate: Evaluate: removed",
	"coordinate: GenerateCircle: removed",
	"coordinate: GenerateClients: removed",
	"coordinate: GenerateGrid: removed",
	"coordinate: GenerateLine: removed",
	"coordinate: GenerateRandom: removed",
	"coordinate: GenerateSplit: removed",
	"coordinate: Simulate: removed",
	"coordinate: Stats: removed",
}

// exportData lists the export data file of each package in pkgs and of
// everything they import, built in the module at dir.
func exportData(t *testing.T, dir string, pkgs ...string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, pkgs...)
	files := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(goCmd(t, dir, args...)), "\n") {
		path, file, ok := strings.Cut(line, "=")
		if ok && file != "" {
			files[path] = file
		}
	}
	return files
}

// loadTypes reads the packages' types from export data, one importer (and
// so one universe of packages) per module.
func loadTypes(t *testing.T, files map[string]string, path string) *types.Package {
	t.Helper()
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(p string) (io.ReadCloser, error) {
		f, ok := files[p]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", p)
		}
		return os.Open(f)
	})
	pkg, err := imp.Import(path)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return pkg
}

// changedFromTo matches apidiff's "changed from X to Y" when X and Y
// differ only by the import-path rewrite.
var changedFromTo = regexp.MustCompile(`^(.*): changed from (.*) to (.*)$`)

// TestExportedAPI compares upstream's exported API with ours using
// golang.org/x/exp/apidiff, on types read from each module's compiler
// export data (the two cannot be built in one module: they need different
// memberlist and go-metrics versions). Every incompatible difference must
// be one of knownIncompatible, and every entry there must still occur.
func TestExportedAPI(t *testing.T) {
	t.Parallel()
	var up, ours []string
	for _, p := range apiPairs {
		up = append(up, p.upstream)
		ours = append(ours, p.ours)
	}
	upFiles := exportData(t, "..", up...)
	ourFiles := exportData(t, ".", ours...)
	// Ours to upstream's, longest path first so that serf/coordinate is
	// not taken for serf.
	rewrite := strings.NewReplacer(
		"github.com/serf-clone/serf/serf/coordinate", "github.com/hashicorp/serf/coordinate",
		"github.com/serf-clone/serf/serf", "github.com/hashicorp/serf/serf",
		"github.com/serf-clone/serf/client", "github.com/hashicorp/serf/client",
	).Replace

	var got []string
	for _, p := range apiPairs {
		report := apidiff.Changes(loadTypes(t, upFiles, p.upstream), loadTypes(t, ourFiles, p.ours))
		name := p.upstream[strings.LastIndex(p.upstream, "/")+1:]
		for _, c := range report.Changes {
			if c.Compatible {
				continue
			}
			if m := changedFromTo.FindStringSubmatch(c.Message); m != nil && rewrite(m[2]) == rewrite(m[3]) {
				continue // the same type under the rewritten import path
			}
			got = append(got, name+": "+c.Message)
		}
	}
	for _, g := range got {
		if !slices.Contains(knownIncompatible, g) {
			t.Errorf("new incompatible API difference: %s", g)
		}
	}
	for _, k := range knownIncompatible {
		if !slices.Contains(got, k) {
			t.Errorf("listed difference no longer found (remove it here and in the README): %s", k)
		}
	}
}
