package atomicfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// render returns a JSON document of about 64 KiB that names its writer, so
// a torn or interleaved file fails to decode or names two writers.
func render(writer int) []byte {
	vals := make([]string, 4096)
	for i := range vals {
		vals[i] = fmt.Sprintf("writer-%03d", writer)
	}
	data, _ := json.Marshal(vals)
	return data
}

func checkWhole(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	if err := json.Unmarshal(data, &vals); err != nil {
		t.Fatalf("torn file (%d bytes): %v", len(data), err)
	}
	for _, v := range vals {
		if v != vals[0] {
			t.Fatalf("interleaved writers: %q and %q", vals[0], v)
		}
	}
}

func TestConcurrentWritersLeaveWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	var w Writer
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	// A reader checks the file all the while; every read must be whole.
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := os.Stat(path); err == nil {
				checkWhole(t, path)
			}
		}
	}()
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if err := w.Rewrite(path, 0o600, func() ([]byte, error) { return render(i), nil }); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	<-readerDone
	checkWhole(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestCrashBeforeRenameKeepsOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tags")
	old := []byte(`{"role": "web"}`)
	if err := WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	// Everything a rewrite does before its rename, then "crash".
	tmp, err := writeTemp(path, []byte(`{"role": "da`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(old) {
		t.Fatalf("target changed before the rename: %q", got)
	}
	if !strings.HasPrefix(filepath.Base(tmp), ".tags.tmp-") || filepath.Dir(tmp) != filepath.Dir(path) {
		t.Fatalf("temporary file %s is not beside %s", tmp, path)
	}
	// The next rewrite after the restart succeeds despite the leftover.
	if err := WriteFile(path, []byte(`{"role": "db"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != `{"role": "db"}` {
		t.Fatalf("rewrite after crash: %q", got)
	}
}

func TestExistingModeKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tags")
	if err := os.WriteFile(path, []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte(`{"a":"b"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", fi.Mode().Perm())
	}
}

func TestRenderErrorLeavesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	if err := WriteFile(path, []byte(`["a"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	var w Writer
	if err := w.Rewrite(path, 0o600, func() ([]byte, error) { return nil, fmt.Errorf("no") }); err == nil {
		t.Fatal("render error not returned")
	}
	if got, _ := os.ReadFile(path); string(got) != `["a"]` {
		t.Fatalf("file changed: %q", got)
	}
}
