package client

import (
	"fmt"
	"math"
	"time"
)

// DistanceTo estimates the round trip time between two coordinates with the
// Vivaldi model Serf uses: the Euclidean distance between the vectors plus
// both heights, corrected by both adjustment terms unless that would make
// the estimate non-positive. It fails if the vectors differ in length.
func (c *Coordinate) DistanceTo(other *Coordinate) (time.Duration, error) {
	if c == nil || other == nil {
		return 0, fmt.Errorf("missing coordinate")
	}
	if len(c.Vec) != len(other.Vec) {
		return 0, fmt.Errorf("coordinate dimensionality does not match (%d vs %d)", len(c.Vec), len(other.Vec))
	}
	var sum float64
	for i := range c.Vec {
		d := c.Vec[i] - other.Vec[i]
		sum += d * d
	}
	seconds := math.Sqrt(sum) + c.Height + other.Height
	if adjusted := seconds + c.Adjustment + other.Adjustment; adjusted > 0 {
		seconds = adjusted
	}
	return time.Duration(seconds * float64(time.Second)), nil
}
