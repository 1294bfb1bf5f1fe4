package client

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// FuzzCoordinateDistance decodes two get-coordinate replies as the client
// does and estimates the distance between them, as `serf rtt` does. Any
// reply must give a distance or an error, never a panic (real Serf's CLI
// panics on coordinates of different dimensions). The seed corpus keeps
// one the fuzzer found: a negative height, whose distance is negative.
// Memory: a decoded reply
// is bounded by its bytes (inputs over 64 KiB are skipped); nothing is kept.
func FuzzCoordinateDistance(f *testing.F) {
	h := NewMsgpackHandle()
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a)+len(b) > 64<<10 {
			return
		}
		var ra, rb CoordinateResponse
		if codec.NewDecoderBytes(a, h).Decode(&ra) != nil || codec.NewDecoderBytes(b, h).Decode(&rb) != nil {
			return
		}
		// The value itself is the Vivaldi formula's, as in Serf: hostile
		// coordinates (negative heights, say) give odd distances, which
		// `serf rtt` prints as they are.
		_, _ = ra.Coord.DistanceTo(&rb.Coord)
	})
}

// The seed corpus: replies as the agent encodes them, and broken ones.
// TestFuzzSeedCorpus checks the files (SERF_WRITE_FUZZ_SEEDS=1 rewrites).
func TestFuzzSeedCorpus(t *testing.T) {
	enc := func(v interface{}) []byte {
		var out []byte
		if err := codec.NewEncoderBytes(&out, NewMsgpackHandle()).Encode(v); err != nil {
			t.Fatal(err)
		}
		return out
	}
	near := enc(&CoordinateResponse{Ok: true, Coord: Coordinate{Vec: []float64{0.003, 0, 0, 0, 0, 0, 0, 0}, Error: 0.5, Height: 0.001}})
	far := enc(&CoordinateResponse{Ok: true, Coord: Coordinate{Vec: []float64{0, 0.004, 0, 0, 0, 0, 0, 0}, Adjustment: -0.002, Height: 0.002}})
	short := enc(&CoordinateResponse{Ok: true, Coord: Coordinate{Vec: []float64{1}}})
	missing := enc(&CoordinateResponse{})
	seeds := map[string][2][]byte{
		"near-far":        {near, far},
		"dimensions":      {near, short},
		"missing":         {missing, far},
		"truncated":       {near[:len(near)/2], far},
		"huge-vec-length": {[]byte("\x81\xa5Coord\x81\xa3Vec\xdd\xff\xff\xff\xff"), far},
	}
	write := os.Getenv("SERF_WRITE_FUZZ_SEEDS") == "1"
	dir := filepath.Join("testdata", "fuzz", "FuzzCoordinateDistance")
	for name, s := range seeds {
		want := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", s[0], s[1]))
		path := filepath.Join(dir, name)
		if write {
			if err := os.MkdirAll(dir, 0755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not the current encoding (err %v); rerun with SERF_WRITE_FUZZ_SEEDS=1", path, err)
		}
	}
}
