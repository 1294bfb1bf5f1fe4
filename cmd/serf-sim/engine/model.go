package engine

import (
	"math"
	"sort"
	"time"
)

// Model is Serf's epidemic model of dissemination: a message that one of
// N members starts gossiping has, after x gossip intervals, reached
//
//	inf(x) = N / (1 + (N+1)·e^(−c·N·x)),  c = (fanout/N)·(1−loss)·(1−fail)·0.5
//
// members. Fanout is memberlist's GossipNodes, Loss the packet loss and
// Fail the fraction of failed members.
type Model struct {
	N      int
	Fanout float64
	Loss   float64
	Fail   float64
}

// rate is c·N, the exponent's factor per gossip interval.
func (m Model) rate() float64 {
	return m.Fanout * (1 - m.Loss) * (1 - m.Fail) * 0.5
}

// Infected is inf(x): how many members the model expects to have the
// message after x gossip intervals.
func (m Model) Infected(x float64) float64 {
	n := float64(m.N)
	return n / (1 + (n+1)*math.Exp(-m.rate()*x))
}

// RoundsTo is the x at which inf(x) = frac·N, for 0 < frac < 1; the model
// never reaches all N, so frac ≥ 1 (and a model with no spread) gives +Inf.
func (m Model) RoundsTo(frac float64) float64 {
	r := m.rate()
	if frac <= 0 {
		return 0
	}
	if frac >= 1 || r <= 0 {
		return math.Inf(1)
	}
	n := float64(m.N)
	x := math.Log((n+1)*frac/(1-frac)) / r
	return math.Max(0, x)
}

// SuspicionPeriods is memberlist's minimum suspicion timeout in probe
// periods, SuspicionMult·log10(max(1, N)); Lifeguard starts a suspicion at
// maxMult times that and lowers it towards the minimum as independent
// confirmations arrive.
func SuspicionPeriods(n, mult int) float64 {
	return float64(mult) * math.Log10(math.Max(1, float64(n)))
}

// DetectionPeriods is the SWIM/Lifeguard expectation for the first member
// to declare a crashed one dead, in probe periods: one period until
// someone probes it and fails, then the suspicion timeout.
func DetectionPeriods(n, mult int) float64 {
	return 1 + SuspicionPeriods(n, mult)
}

// Fractions are the shares of members every scenario reports.
var reportFractions = [...]float64{0.5, 0.99, 0.9999, 1}

// fracLabel names a reported fraction the way the SIM line does.
func fracLabel(f float64) string {
	switch f {
	case 0.5:
		return "50"
	case 0.99:
		return "99"
	case 0.9999:
		return "99.99"
	default:
		return "100"
	}
}

// Needed is how many of n members make up the fraction frac: the
// smallest count k with k ≥ frac·n (so 99.99 % of 2,000 is all 2,000).
func Needed(frac float64, n int) int {
	k := int(math.Ceil(frac*float64(n) - 1e-9))
	if k < 1 {
		k = 1
	}
	if k > n {
		k = n
	}
	return k
}

// TimeTo is when frac of n members had reached the state, given the times
// at which the members that did reached it (in any order): the Needed-th
// earliest time. ok is false if too few members got there.
func TimeTo(times []time.Duration, n int, frac float64) (time.Duration, bool) {
	k := Needed(frac, n)
	if k > len(times) {
		return 0, false
	}
	s := sortedCopy(times)
	return s[k-1], true
}

func sortedCopy(times []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), times...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Rounds converts a duration into gossip intervals.
func Rounds(d, gossip time.Duration) float64 {
	if gossip <= 0 {
		return math.NaN()
	}
	return float64(d) / float64(gossip)
}

// Point is one point of an infection curve: after X rounds, a share Y of
// the members.
type Point struct{ X, Y float64 }

// Curve is the step curve of the share of n members that had reached the
// state by each arrival time, in rounds, starting at (0, 0).
func Curve(times []time.Duration, n int, gossip time.Duration) []Point {
	s := sortedCopy(times)
	pts := make([]Point, 0, len(s)+1)
	pts = append(pts, Point{0, 0})
	for i, d := range s {
		pts = append(pts, Point{Rounds(d, gossip), float64(i+1) / float64(n)})
	}
	return pts
}

// Fit is a least-squares line y = A + B·x.
type Fit struct{ A, B float64 }

// LinearFit fits a line through the points; with fewer than two distinct
// x it is the flat line at the mean.
func LinearFit(xs, ys []float64) Fit {
	n := float64(len(xs))
	if len(xs) == 0 || len(xs) != len(ys) {
		return Fit{}
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if math.Abs(den) < 1e-12 {
		return Fit{A: sy / n}
	}
	b := (n*sxy - sx*sy) / den
	return Fit{A: (sy - b*sx) / n, B: b}
}

// At is the fitted y at x.
func (f Fit) At(x float64) float64 { return f.A + f.B*x }
