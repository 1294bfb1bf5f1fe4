//go:build race

package serf

// raceEnabled tells heavy tests that the race detector slows everything.
const raceEnabled = true
