package client

import (
	"testing"
	"time"
)

func TestDistanceTo(t *testing.T) {
	a := &Coordinate{Vec: []float64{0.003, 0}, Height: 0.001}
	b := &Coordinate{Vec: []float64{0, 0.004}, Height: 0.002}
	// 5 ms apart plus both heights.
	if d, err := a.DistanceTo(b); err != nil || d != 8*time.Millisecond {
		t.Errorf("plain: %v %v", d, err)
	}
	// Adjustments apply while the result stays positive...
	a.Adjustment, b.Adjustment = 0.001, 0.001
	if d, err := a.DistanceTo(b); err != nil || d != 10*time.Millisecond {
		t.Errorf("adjusted: %v %v", d, err)
	}
	// ...and are ignored when they would make it non-positive.
	a.Adjustment, b.Adjustment = -0.005, -0.005
	if d, err := a.DistanceTo(b); err != nil || d != 8*time.Millisecond {
		t.Errorf("over-adjusted: %v %v", d, err)
	}
}

func TestDistanceToRefusesMismatchedDimensions(t *testing.T) {
	a := &Coordinate{Vec: make([]float64, 8)}
	b := &Coordinate{Vec: make([]float64, 4)}
	_, err := a.DistanceTo(b)
	if err == nil || err.Error() != "coordinate dimensionality does not match (8 vs 4)" {
		t.Errorf("got %v", err)
	}
	if _, err := a.DistanceTo(nil); err == nil {
		t.Error("nil coordinate accepted")
	}
}
