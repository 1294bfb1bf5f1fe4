package serf

import "testing"

func TestLamportClockRules(t *testing.T) {
	var c LamportClock
	if c.Time() != 0 || c.Increment() != 1 {
		t.Fatal("fresh clock")
	}
	c.Witness(0) // older: no change
	if c.Time() != 1 {
		t.Fatalf("witness older moved clock to %d", c.Time())
	}
	c.Witness(1) // equal: advances past it
	if c.Time() != 2 {
		t.Fatalf("witness equal gave %d", c.Time())
	}
	c.Witness(41)
	if c.Time() != 42 {
		t.Fatalf("witness newer gave %d", c.Time())
	}
}
