// Package coordinate estimates network round-trip times with Vivaldi
// coordinates, the way Serf does: every node owns a point in a small
// Euclidean space plus a "height" (its access-link latency), and moves that
// point a little after every measured ping so that distances between points
// approach the measured RTTs.
//
// The package is pure arithmetic: no I/O, no goroutines. The numbers and
// update rules match Serf v0.10.2 so that coordinates exchanged with real
// Serf agents (ping/ack payloads) mean the same thing on both sides.
package coordinate

import metrics "github.com/hashicorp/go-metrics"

// Config holds the tuning knobs of the Vivaldi algorithm; times are in
// seconds. DefaultConfig is what Serf uses, and peers only understand each
// other's coordinates when their Dimensionality agrees, so change it only
// with good reason. The defaults are given in parentheses.
type Config struct {
	// The space: Dimensionality is the length of Coordinate.Vec (8), and
	// HeightMin the floor of Coordinate.Height (10 µs).
	Dimensionality uint
	HeightMin      float64

	// One observation: VivaldiCC scales how far it moves the coordinate
	// (0.25); VivaldiCE is its weight in the moving error estimate (0.25);
	// VivaldiErrorMax caps that estimate and is where a new coordinate
	// starts (1.5).
	VivaldiCC, VivaldiCE, VivaldiErrorMax float64

	// Smoothing: LatencyFilterSize RTT samples per peer feed a median
	// filter against one-off spikes (3; zero acts as 1), and the mean of
	// the last AdjustmentWindowSize (rtt - distance) residuals becomes
	// Coordinate.Adjustment (20; zero turns that off).
	LatencyFilterSize    uint
	AdjustmentWindowSize uint

	// GravityRho is the distance scale of a weak pull towards the origin,
	// which keeps a whole cluster from drifting off together (150).
	GravityRho float64

	// MetricLabels are added to the metrics the Client emits (the
	// serf.coordinate.zero-rtt counter). Default none.
	MetricLabels []metrics.Label
}

// DefaultConfig returns the settings Serf uses.
func DefaultConfig() *Config {
	c := &Config{Dimensionality: 8, HeightMin: 10.0e-6, GravityRho: 150.0}
	c.VivaldiCC, c.VivaldiCE, c.VivaldiErrorMax = 0.25, 0.25, 1.5
	c.LatencyFilterSize, c.AdjustmentWindowSize = 3, 20
	return c
}
