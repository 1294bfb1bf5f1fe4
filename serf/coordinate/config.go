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

// Config holds the tuning knobs of the Vivaldi algorithm. All values are in
// seconds where a time is involved. Use DefaultConfig unless you know why not:
// peers only understand each other's coordinates when Dimensionality agrees.
type Config struct {
	// Dimensionality is the length of Coordinate.Vec. Serf uses 8.
	Dimensionality uint

	// VivaldiErrorMax caps the error estimate; it is also the error of a
	// brand-new coordinate (1.5).
	VivaldiErrorMax float64

	// VivaldiCE weighs a new observation in the moving error estimate (0.25).
	VivaldiCE float64

	// VivaldiCC scales how far one observation moves the coordinate (0.25).
	VivaldiCC float64

	// AdjustmentWindowSize is the number of recent (rtt - distance) residuals
	// averaged into Coordinate.Adjustment. Zero disables the adjustment.
	AdjustmentWindowSize uint

	// HeightMin is the smallest height a coordinate may have (10 µs).
	HeightMin float64

	// LatencyFilterSize is how many recent RTT samples per peer feed the
	// median filter that discards one-off spikes (3). Zero behaves like 1.
	LatencyFilterSize uint

	// GravityRho is the distance scale of the weak pull towards the origin
	// that stops a whole cluster from drifting away together (150 s).
	GravityRho float64
}

// DefaultConfig returns the settings Serf uses.
func DefaultConfig() *Config {
	return &Config{
		Dimensionality:       8,
		VivaldiErrorMax:      1.5,
		VivaldiCE:            0.25,
		VivaldiCC:            0.25,
		AdjustmentWindowSize: 20,
		HeightMin:            10.0e-6,
		LatencyFilterSize:    3,
		GravityRho:           150.0,
	}
}
