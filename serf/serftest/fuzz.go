package serftest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSeed is one file of a fuzz target's seed corpus: its name under
// testdata/fuzz/<target>/ and the target's arguments ([]byte or bool).
type FuzzSeed struct {
	Name string
	Args []any
}

// EnvWriteFuzzSeeds names the variable that, set to 1, makes CheckSeedCorpus
// rewrite the seed files
// instead of comparing them.
const EnvWriteFuzzSeeds = "SERF_WRITE_FUZZ_SEEDS"

// MarshalFuzzSeed renders args in the go command's corpus file format
// ("go test fuzz v1" and one typed literal a line).
func MarshalFuzzSeed(args ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		default:
			panic(fmt.Sprintf("fuzz seed argument of type %T", a))
		}
	}
	return []byte(b.String())
}

// CheckSeedCorpus keeps testdata/fuzz honest: every seed, built by the test
// from the package's own encoders, must be on disk exactly as given, so a
// change of wire format cannot leave the corpus fuzzing stale bytes. With
// SERF_WRITE_FUZZ_SEEDS=1 it writes them instead. Files not named in corpus
// (inputs the fuzzer found and someone kept) are left alone.
func CheckSeedCorpus(t *testing.T, corpus map[string][]FuzzSeed) {
	t.Helper()
	write := os.Getenv(EnvWriteFuzzSeeds) == "1"
	for target, seeds := range corpus {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, s := range seeds {
			want := MarshalFuzzSeed(s.Args...)
			path := filepath.Join(dir, s.Name)
			if write {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is not the current encoding (err %v); rerun with %s=1", path, err, EnvWriteFuzzSeeds)
			}
		}
	}
}
