package client

import (
	"testing"

	"github.com/serf-clone/serf/serf/serftest"

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
	pair := func(name string, a, b []byte) serftest.FuzzSeed {
		return serftest.FuzzSeed{Name: name, Args: []any{a, b}}
	}
	serftest.CheckSeedCorpus(t, map[string][]serftest.FuzzSeed{"FuzzCoordinateDistance": {
		pair("near-far", near, far),
		pair("dimensions", near, short),
		pair("missing", missing, far),
		pair("truncated", near[:len(near)/2], far),
		pair("huge-vec-length", []byte("\x81\xa5Coord\x81\xa3Vec\xdd\xff\xff\xff\xff"), far),
	}})
}
