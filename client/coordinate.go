package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/serf-clone/serf/serf/coordinate"
)

// DistanceTo estimates the round trip time between two coordinates. The
// Vivaldi model itself is serf/coordinate's (Coordinate.DistanceTo); this
// converts the RPC form and refuses coordinates that serf/coordinate does
// not consider compatible (vectors of different lengths). Serf v0.10.2's
// CLI crashes on those (its coordinate package panics); we report the same
// condition, in the same words, as an error.
func (c *Coordinate) DistanceTo(other *Coordinate) (time.Duration, error) {
	if c == nil || other == nil {
		return 0, errors.New("missing coordinate")
	}
	return Distance(c.vivaldi(), other.vivaldi())
}

// Distance is Coordinate.DistanceTo for two serf/coordinate coordinates, as
// RPCClient.GetCoordinate returns them.
func Distance(a, b *coordinate.Coordinate) (time.Duration, error) {
	if a == nil || b == nil {
		return 0, errors.New("missing coordinate")
	}
	if !a.IsCompatibleWith(b) {
		return 0, fmt.Errorf("coordinate dimensionality does not match (%d vs %d)", len(a.Vec), len(b.Vec))
	}
	return a.DistanceTo(b), nil
}

// vivaldi is c as serf/coordinate's type (sharing the vector).
func (c *Coordinate) vivaldi() *coordinate.Coordinate {
	return &coordinate.Coordinate{Vec: c.Vec, Error: c.Error, Adjustment: c.Adjustment, Height: c.Height}
}
