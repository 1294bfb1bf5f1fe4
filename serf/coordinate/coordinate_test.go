package coordinate

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

func TestNewCoordinateDefaults(t *testing.T) {
	cfg := DefaultConfig()
	c := NewCoordinate(cfg)
	if len(c.Vec) != 8 {
		t.Fatalf("dimensionality = %d, want 8", len(c.Vec))
	}
	for i, v := range c.Vec {
		if v != 0 {
			t.Fatalf("Vec[%d] = %v, want 0", i, v)
		}
	}
	if c.Error != 1.5 || c.Adjustment != 0 || c.Height != 1e-5 {
		t.Fatalf("got %+v, want Error 1.5, Adjustment 0, Height 1e-5", c)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c := NewCoordinate(DefaultConfig())
	c.Vec[0], c.Error, c.Adjustment, c.Height = 1, 2, 3, 4
	d := c.Clone()
	d.Vec[0] = 42
	if c.Vec[0] != 1 {
		t.Fatal("clone shares its vector with the original")
	}
	if d.Error != 2 || d.Adjustment != 3 || d.Height != 4 {
		t.Fatalf("scalars not copied: %+v", d)
	}
}

func TestIsValid(t *testing.T) {
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	mutators := map[string]func(*Coordinate, float64){
		"vec":        func(c *Coordinate, f float64) { c.Vec[3] = f },
		"error":      func(c *Coordinate, f float64) { c.Error = f },
		"adjustment": func(c *Coordinate, f float64) { c.Adjustment = f },
		"height":     func(c *Coordinate, f float64) { c.Height = f },
	}
	if !NewCoordinate(DefaultConfig()).IsValid() {
		t.Fatal("fresh coordinate reported invalid")
	}
	for name, set := range mutators {
		for _, f := range bad {
			c := NewCoordinate(DefaultConfig())
			set(c, f)
			if c.IsValid() {
				t.Errorf("%s = %v reported valid", name, f)
			}
		}
	}
}

func TestIsCompatibleWith(t *testing.T) {
	cfg := DefaultConfig()
	a := NewCoordinate(cfg)
	cfg.Dimensionality = 3
	b := NewCoordinate(cfg)
	if a.IsCompatibleWith(b) || b.IsCompatibleWith(a) {
		t.Fatal("8-d and 3-d coordinates reported compatible")
	}
	if !a.IsCompatibleWith(a.Clone()) {
		t.Fatal("coordinate incompatible with its clone")
	}
}

func coord(vec []float64, height, adj float64) *Coordinate {
	return &Coordinate{Vec: vec, Error: 1.5, Height: height, Adjustment: adj}
}

func TestDistanceTo(t *testing.T) {
	cases := []struct {
		name string
		a, b *Coordinate
		want float64 // seconds
	}{
		{"pure euclid 3-4-5", coord([]float64{0, 0}, 0, 0), coord([]float64{3, 4}, 0, 0), 5},
		{"heights add", coord([]float64{0, 0}, 0.5, 0), coord([]float64{3, 4}, 0.25, 0), 5.75},
		{"positive adjustments add", coord([]float64{0, 0}, 0, 0.1), coord([]float64{3, 4}, 0, 0.2), 5.3},
		{"negative adjustment still positive", coord([]float64{0, 0}, 0, -1), coord([]float64{3, 4}, 0, -1), 3},
		{"adjustment would go negative: raw used", coord([]float64{0, 0}, 0, -3), coord([]float64{3, 4}, 0, -3), 5},
		{"adjustment to exactly zero: raw used", coord([]float64{0, 0}, 0, -2.5), coord([]float64{3, 4}, 0, -2.5), 5},
	}
	for _, tc := range cases {
		got := tc.a.DistanceTo(tc.b)
		want := time.Duration(tc.want * float64(time.Second))
		if diff := got - want; diff < -time.Nanosecond || diff > time.Nanosecond {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
		if back := tc.b.DistanceTo(tc.a); back != got {
			t.Errorf("%s: not symmetric: %v vs %v", tc.name, got, back)
		}
	}
}

func TestDistanceToMismatchedDimensionsDoesNotPanic(t *testing.T) {
	a := coord([]float64{3, 4, 12}, 0, 0)
	b := coord([]float64{0}, 0, 0)
	if got, want := a.DistanceTo(b), 13*time.Second; got != want {
		t.Fatalf("got %v, want %v (missing components as zero)", got, want)
	}
}

func TestApplyForce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dimensionality = 3
	origin := NewCoordinate(cfg)

	// Away from the other point along the connecting line.
	a := coord([]float64{1, 0, 0}, cfg.HeightMin, 0)
	moved := a.applyForce(cfg, 2, origin)
	if moved.Vec[0] != 3 || moved.Vec[1] != 0 || moved.Vec[2] != 0 {
		t.Fatalf("push along x: got %v, want [3 0 0]", moved.Vec)
	}
	if a.Vec[0] != 1 {
		t.Fatal("applyForce modified its receiver")
	}
	// Height grows by (h + h_other) * force / distance.
	wantH := cfg.HeightMin + (cfg.HeightMin+cfg.HeightMin)*2/1
	if math.Abs(moved.Height-wantH) > 1e-12 {
		t.Fatalf("height = %v, want %v", moved.Height, wantH)
	}
	// A pull never takes the height below the minimum.
	pulled := coord([]float64{1, 0, 0}, 0.01, 0).applyForce(cfg, -5, origin)
	if pulled.Height != cfg.HeightMin {
		t.Fatalf("height after big pull = %v, want HeightMin", pulled.Height)
	}
	if pulled.Vec[0] != -4 {
		t.Fatalf("pull along x: got %v", pulled.Vec)
	}

	// Coincident points: some direction, exactly |force| long, height kept.
	same := origin.Clone()
	same.Height = 0.5
	out := same.applyForce(cfg, 0.75, origin)
	if got := norm(out.Vec); math.Abs(got-0.75) > 1e-9 {
		t.Fatalf("displacement length = %v, want 0.75", got)
	}
	if out.Height != 0.5 {
		t.Fatalf("height changed for coincident points: %v", out.Height)
	}
}

func TestCoordinateMsgpackKeys(t *testing.T) {
	c := coord([]float64{1, 2}, 0.25, -0.5)
	var buf bytes.Buffer
	h := &codec.MsgpackHandle{}
	if err := codec.NewEncoder(&buf, h).Encode(c); err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := codec.NewDecoder(bytes.NewReader(buf.Bytes()), h).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Vec", "Error", "Adjustment", "Height"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %v", k, m)
		}
	}
	if len(m) != 4 {
		t.Errorf("unexpected keys: %v", m)
	}
	var back Coordinate
	if err := codec.NewDecoder(bytes.NewReader(buf.Bytes()), h).Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.DistanceTo(c) != c.DistanceTo(c) || back.Height != 0.25 || back.Adjustment != -0.5 || back.Vec[1] != 2 {
		t.Fatalf("round trip changed the coordinate: %+v", back)
	}
}

func TestApplyForceExported(t *testing.T) {
	cfg := DefaultConfig()
	a, b := NewCoordinate(cfg), NewCoordinate(cfg)
	b.Vec[0] = 1
	got := a.ApplyForce(cfg, 0.5, b)
	if want := a.applyForce(cfg, 0.5, b); got.Vec[0] != want.Vec[0] || got.Vec[0] >= 0 || got.Height != want.Height {
		t.Fatalf("ApplyForce %+v, applyForce %+v", got, want)
	}
	if (DimensionalityConflictError{}).Error() != "coordinate dimensionality does not match" {
		t.Fatal("DimensionalityConflictError text")
	}
}
