package coordinate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// maxRTT is the longest round trip Update accepts; anything longer is
// certainly a measurement artefact (a paused process, a clock jump).
const maxRTT = 10 * time.Second

// ClientStats counts notable events in a Client's life.
type ClientStats struct {
	// Resets is how many times the coordinate became invalid (NaN/Inf) and
	// was put back to the origin. Serf reports it as coordinate_resets.
	Resets int
}

// Client maintains the local node's coordinate from RTT observations of
// peers. It is safe for concurrent use.
type Client struct {
	mu sync.RWMutex

	cfg    Config
	coord  *Coordinate
	origin *Coordinate // fixed reference the gravity step pulls towards

	// residuals is a ring of the last AdjustmentWindowSize (rtt - raw
	// distance) values; next is the slot the next one goes to.
	residuals []float64
	next      int

	// recent holds up to LatencyFilterSize latest RTT samples (seconds)
	// per peer, oldest first, for the median filter.
	recent map[string][]float64

	stats ClientStats
}

// NewClient returns a Client starting at the origin. The config is copied.
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("coordinate: nil config")
	}
	if cfg.Dimensionality == 0 {
		return nil, errors.New("coordinate: dimensionality must be greater than zero")
	}
	c := &Client{
		cfg:       *cfg,
		coord:     NewCoordinate(cfg),
		origin:    NewCoordinate(cfg),
		residuals: make([]float64, cfg.AdjustmentWindowSize),
		recent:    make(map[string][]float64),
	}
	if c.cfg.LatencyFilterSize == 0 {
		c.cfg.LatencyFilterSize = 1
	}
	return c, nil
}

// GetCoordinate returns a copy of the current coordinate.
func (c *Client) GetCoordinate() *Coordinate {
	c.mu.RLock()
	coord := c.coord.Clone()
	c.mu.RUnlock()
	return coord
}

// SetCoordinate replaces the current coordinate with a copy of coord,
// provided it is valid and has the configured dimensionality.
func (c *Client) SetCoordinate(coord *Coordinate) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.check(coord)
	if err == nil {
		c.coord = coord.Clone()
	}
	return err
}

// ForgetNode drops the RTT history kept for node, e.g. once it has left.
func (c *Client) ForgetNode(node string) {
	c.mu.Lock()
	delete(c.recent, node)
	c.mu.Unlock()
}

// Stats returns a copy of the client's counters.
func (c *Client) Stats() ClientStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stats
}

// DistanceTo estimates the RTT from the local coordinate to other.
func (c *Client) DistanceTo(other *Coordinate) time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.coord.DistanceTo(other)
}

// Update feeds one observation: node, whose coordinate is other, answered a
// ping after rtt. It returns a copy of the new local coordinate. Invalid or
// incompatible coordinates and RTTs outside [0, 10s] are rejected with an
// error and change nothing.
func (c *Client) Update(node string, other *Coordinate, rtt time.Duration) (*Coordinate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if err := c.check(other); err != nil {
		return nil, err
	}
	if rtt < 0 || rtt > maxRTT {
		return nil, fmt.Errorf("coordinate: rtt %v outside the accepted range [0, %v]", rtt, maxRTT)
	}

	if rtt == 0 {
		metrics.IncrCounterWithLabels([]string{"serf", "coordinate", "zero-rtt"}, 1, c.cfg.MetricLabels)
	}
	sample := c.filter(node, rtt.Seconds())
	c.vivaldi(other, sample)
	c.adjust(other, sample)
	c.gravity()
	if !c.coord.IsValid() {
		c.stats.Resets++
		c.coord = NewCoordinate(&c.cfg)
	}
	return c.coord.Clone(), nil
}

// check validates a coordinate coming from outside.
func (c *Client) check(o *Coordinate) error {
	if o == nil {
		return errors.New("coordinate: nil coordinate")
	}
	if !c.coord.IsCompatibleWith(o) {
		return fmt.Errorf("coordinate: dimensionality %d does not match ours (%d)", len(o.Vec), len(c.coord.Vec))
	}
	if !o.IsValid() {
		return errors.New("coordinate: coordinate has NaN or infinite components")
	}
	return nil
}

// filter records rtt (seconds) for node and returns the median of the
// node's recent samples (the upper one of the middle pair for an even
// count), so that a single delayed ack does not yank the coordinate.
func (c *Client) filter(node string, rtt float64) float64 {
	window := int(c.cfg.LatencyFilterSize)
	s := c.recent[node]
	if len(s) >= window {
		// Shift in place: the window is tiny (3 by default).
		copy(s, s[len(s)-window+1:])
		s = s[:window-1]
	}
	s = append(s, rtt)
	c.recent[node] = s

	var buf [8]float64
	sorted := append(buf[:0], s...)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

// vivaldi is the core step: update the error estimate from how wrong the
// current distance is, then move along the peer-to-us line by a fraction
// of the residual, the fraction growing with our relative uncertainty.
func (c *Client) vivaldi(other *Coordinate, rtt float64) {
	dist := c.coord.DistanceTo(other).Seconds()
	rtt = max(rtt, minMagnitude)
	wrongness := math.Abs(dist-rtt) / rtt

	weight := c.coord.Error / max(c.coord.Error+other.Error, minMagnitude)

	ce := c.cfg.VivaldiCE * weight
	c.coord.Error = min(ce*wrongness+c.coord.Error*(1-ce), c.cfg.VivaldiErrorMax)

	force := c.cfg.VivaldiCC * weight * (rtt - dist)
	c.coord = c.coord.applyForce(&c.cfg, force, other)
}

// adjust records the latest residual between the measured RTT and the raw
// (unadjusted) distance and sets the adjustment to half the window's mean,
// half because both ends of a distance contribute their own adjustment.
func (c *Client) adjust(other *Coordinate, rtt float64) {
	n := len(c.residuals)
	if n == 0 {
		return
	}
	c.residuals[c.next] = rtt - c.coord.rawDistanceTo(other)
	c.next = (c.next + 1) % n
	sum := 0.0
	for _, r := range c.residuals {
		sum += r
	}
	c.coord.Adjustment = sum / (2 * float64(n))
}

// gravity pulls the coordinate slightly towards the origin, quadratically
// in its distance, so a cluster cannot drift off as a whole.
func (c *Client) gravity() {
	d := c.origin.DistanceTo(c.coord).Seconds() / c.cfg.GravityRho
	c.coord = c.coord.applyForce(&c.cfg, -d*d, c.origin)
}
