package coordinate

import (
	"math"
	"math/rand/v2"
	"time"
)

// Coordinate is one node's position in Vivaldi space. It travels on the
// wire (ping/ack payloads, RPC get-coordinate) as a msgpack map whose keys
// are the field names, so the fields must keep these names and types.
type Coordinate struct {
	// Vec is the Euclidean part, in seconds.
	Vec []float64

	// Error is the node's confidence in its own position; lower is better.
	Error float64

	// Adjustment is a per-node correction added to distances, learned from
	// how far off the pure Euclidean estimate has recently been (seconds).
	Adjustment float64

	// Height models the latency of the node's own access link (seconds).
	Height float64
}

// minMagnitude is the length below which a vector counts as zero, and the
// floor applied to RTTs and error sums so nothing divides by zero.
const minMagnitude = 1.0e-6

// NewCoordinate returns the starting coordinate for cfg: the origin, with
// maximal error, no adjustment and the minimal height.
func NewCoordinate(cfg *Config) *Coordinate {
	return &Coordinate{
		Vec:    make([]float64, cfg.Dimensionality),
		Error:  cfg.VivaldiErrorMax,
		Height: cfg.HeightMin,
	}
}

// Clone returns a deep copy of c.
func (c *Coordinate) Clone() *Coordinate {
	out := *c
	out.Vec = append([]float64(nil), c.Vec...)
	return &out
}

// IsValid reports whether every number in c is finite. Coordinates that
// arrive from the network must pass this before they are used.
func (c *Coordinate) IsValid() bool {
	for _, v := range c.Vec {
		if !finite(v) {
			return false
		}
	}
	return finite(c.Error) && finite(c.Adjustment) && finite(c.Height)
}

// IsCompatibleWith reports whether c and o live in the same space, that is
// whether their vectors have the same length.
func (c *Coordinate) IsCompatibleWith(o *Coordinate) bool {
	return len(c.Vec) == len(o.Vec)
}

// DistanceTo estimates the RTT between c and o. The adjusted distance
// (raw distance plus both adjustments) is used when it is positive; a
// negative adjustment sum can otherwise push it to nonsense, and then the
// raw distance is the better guess.
//
// Callers should check IsCompatibleWith first. If the dimensions differ
// anyway, the shorter vector is treated as padded with zeros rather than
// panicking on what is usually bad input from a peer.
func (c *Coordinate) DistanceTo(o *Coordinate) time.Duration {
	raw := c.rawDistanceTo(o)
	d := raw
	if adj := raw + c.Adjustment + o.Adjustment; adj > 0 {
		d = adj
	}
	return secondsToDuration(d)
}

// rawDistanceTo is the Euclidean distance plus both heights, in seconds.
func (c *Coordinate) rawDistanceTo(o *Coordinate) float64 {
	return euclid(c.Vec, o.Vec) + c.Height + o.Height
}

// DimensionalityConflictError is the error of an operation on two
// coordinates of different dimensions. Upstream's package panics with it;
// ours treats the shorter vector as padded with zeros instead, and reports
// the condition through IsCompatibleWith and Client's errors.
type DimensionalityConflictError struct{}

func (DimensionalityConflictError) Error() string {
	return "coordinate dimensionality does not match"
}

// ApplyForce is applyForce, exported as upstream's package does.
func (c *Coordinate) ApplyForce(cfg *Config, force float64, o *Coordinate) *Coordinate {
	return c.applyForce(cfg, force, o)
}

// applyForce returns a copy of c pushed by force seconds along the line from
// o towards c (a negative force pulls towards o). The height takes part of
// the push in proportion to the heights involved, never dropping below
// cfg.HeightMin. When c and o coincide a random direction is chosen and the
// height is left alone, since there is no meaningful ratio to apply.
func (c *Coordinate) applyForce(cfg *Config, force float64, o *Coordinate) *Coordinate {
	out := c.Clone()
	dir, dist := direction(c.Vec, o.Vec)
	for i := range out.Vec {
		out.Vec[i] += dir[i] * force
	}
	if dist > minMagnitude {
		out.Height = max(cfg.HeightMin, out.Height+(out.Height+o.Height)*force/dist)
	}
	return out
}

// direction returns the unit vector pointing from b to a and the distance
// between them. If they (nearly) coincide the vector is random and the
// distance reported is 0.
func direction(a, b []float64) ([]float64, float64) {
	v := make([]float64, len(a))
	for i := range v {
		v[i] = a[i] - component(b, i)
	}
	if n := norm(v); n > minMagnitude {
		scale(v, 1/n)
		return v, n
	}
	for i := range v {
		v[i] = rand.Float64() - 0.5
	}
	if n := norm(v); n > minMagnitude {
		scale(v, 1/n)
		return v, 0
	}
	clear(v)
	if len(v) > 0 {
		v[0] = 1
	}
	return v, 0
}

// euclid is the Euclidean distance between a and b, missing components
// counting as zero.
func euclid(a, b []float64) float64 {
	n := max(len(a), len(b))
	sum := 0.0
	for i := 0; i < n; i++ {
		d := component(a, i) - component(b, i)
		sum += d * d
	}
	return math.Sqrt(sum)
}

func component(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func norm(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x * x
	}
	return math.Sqrt(sum)
}

func scale(v []float64, f float64) {
	for i := range v {
		v[i] *= f
	}
}

func finite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

func secondsToDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}
