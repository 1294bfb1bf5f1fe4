package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// RecordingHandler writes an event-handler script into a temp dir and returns
// its path and the directory it records into. For every invocation the script
// writes one file named EVENT.NAME.PID (NAME is the user event or query name,
// empty for member events) holding the sorted SERF_* variables Serf sets, a
// "--- stdin:" line and the stdin it got. For queries it answers with
// "resp-from-$SERF_SELF_NAME".
func RecordingHandler(t testing.TB) (script, outDir string) {
	t.Helper()
	dir := t.TempDir()
	outDir = filepath.Join(dir, "events")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(dir, "handler.sh")
	body := `#!/bin/sh
f="` + outDir + `/$SERF_EVENT.$SERF_USER_EVENT$SERF_QUERY_NAME.$$"
{ env | grep -E '^SERF_(EVENT|SELF_|TAG_|USER_|QUERY_)' | sort; echo '--- stdin:'; cat; } > "$f.tmp"
mv "$f.tmp" "$f"
if [ "$SERF_EVENT" = query ]; then echo "resp-from-$SERF_SELF_NAME"; fi
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, outDir
}

// HandlerRecords returns the contents of the records a RecordingHandler
// wrote for event type typ ("user", "query", "member-join", ...) and name
// ("" for member events), in file-name order.
func HandlerRecords(outDir, typ, name string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(outDir, typ+"."+name+".*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	var recs []string
	for _, m := range matches {
		if strings.HasSuffix(m, ".tmp") {
			continue
		}
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		recs = append(recs, string(b))
	}
	return recs, nil
}

// WaitHandlerRecord polls until at least one record for typ/name exists and
// returns the first.
func WaitHandlerRecord(t testing.TB, outDir, typ, name string) string {
	t.Helper()
	var rec string
	Eventually(t, StartTimeout, func() error {
		recs, err := HandlerRecords(outDir, typ, name)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("no %s %q handler record in %s", typ, name, outDir)
		}
		rec = recs[0]
		return nil
	})
	return rec
}

// WriteScript writes an executable shell script with the given body (a
// "#!/bin/sh" line is prepended) into a temp dir and returns its path.
func WriteScript(t testing.TB, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
