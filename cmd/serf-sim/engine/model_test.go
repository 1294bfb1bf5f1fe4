package engine

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestModelRoundsToMatchesSerfsTable(t *testing.T) {
	// Serf's documentation: 99.99 % of 1,000 members in about 11 rounds at
	// fanout 3, and of 10,000 in about 13.
	for _, tc := range []struct {
		n    int
		want float64
	}{{1000, 11}, {10000, 13}} {
		got := Model{N: tc.n, Fanout: 3}.RoundsTo(0.9999)
		if math.Abs(got-tc.want) > 1 {
			t.Errorf("n=%d: %.2f rounds to 99.99 %%, want about %.0f", tc.n, got, tc.want)
		}
	}
}

func TestModelInfectedInvertsRoundsTo(t *testing.T) {
	m := Model{N: 2000, Fanout: 4, Loss: 0.1, Fail: 0.05}
	for _, f := range []float64{0.01, 0.5, 0.99, 0.9999} {
		x := m.RoundsTo(f)
		if got := m.Infected(x) / float64(m.N); math.Abs(got-f) > 1e-9 {
			t.Errorf("inf(RoundsTo(%g)) = %g of N", f, got)
		}
	}
	if got := m.Infected(0); got > 1 {
		t.Errorf("inf(0) = %g, want at most the one sender", got)
	}
}

func TestModelLossAndFailureSlowItDown(t *testing.T) {
	clean := Model{N: 1000, Fanout: 3}.RoundsTo(0.99)
	lossy := Model{N: 1000, Fanout: 3, Loss: 0.5}.RoundsTo(0.99)
	if math.Abs(lossy-2*clean) > 1e-9 {
		t.Errorf("50 %% loss: %.3f rounds, want twice %.3f", lossy, clean)
	}
	if !math.IsInf(Model{N: 10, Fanout: 3}.RoundsTo(1), 1) {
		t.Error("the model reaches 100 %")
	}
	if !math.IsInf(Model{N: 10}.RoundsTo(0.5), 1) {
		t.Error("no fanout spreads")
	}
}

func TestDetectionExpectation(t *testing.T) {
	if got := SuspicionPeriods(1000, 4); math.Abs(got-12) > 1e-9 {
		t.Errorf("suspicion at 1000 members, mult 4: %g periods, want 12", got)
	}
	if got := SuspicionPeriods(0, 4); got != 0 {
		t.Errorf("suspicion of an empty cluster: %g", got)
	}
	if got := DetectionPeriods(100, 4); math.Abs(got-9) > 1e-9 {
		t.Errorf("detection at 100 members: %g periods, want 9", got)
	}
}

func TestNeeded(t *testing.T) {
	for _, tc := range []struct {
		frac float64
		n    int
		want int
	}{
		{0.5, 2000, 1000}, {0.99, 2000, 1980}, {0.9999, 2000, 2000}, {1, 2000, 2000},
		{0.9999, 20000, 19998}, {0.5, 3, 2}, {0.99, 1, 1}, {0, 10, 1},
	} {
		if got := Needed(tc.frac, tc.n); got != tc.want {
			t.Errorf("Needed(%g, %d) = %d, want %d", tc.frac, tc.n, got, tc.want)
		}
	}
}

func TestTimeToAndRounds(t *testing.T) {
	ms := time.Millisecond
	times := []time.Duration{400 * ms, 100 * ms, 300 * ms, 200 * ms}
	if d, ok := TimeTo(times, 4, 0.5); !ok || d != 200*ms {
		t.Errorf("50 %% of 4 at %v %v, want 200ms", d, ok)
	}
	if d, ok := TimeTo(times, 4, 1); !ok || d != 400*ms {
		t.Errorf("100 %% of 4 at %v %v, want 400ms", d, ok)
	}
	// Five members, four got there: 100 % was never reached.
	if _, ok := TimeTo(times, 5, 1); ok {
		t.Error("100 % of 5 reached by 4")
	}
	if times[0] != 400*ms {
		t.Error("TimeTo sorted its input")
	}
	if got := Rounds(500*ms, 200*ms); got != 2.5 {
		t.Errorf("500ms in 200ms rounds: %g", got)
	}
	if !math.IsNaN(Rounds(time.Second, 0)) {
		t.Error("rounds of a zero interval")
	}
}

func TestCurve(t *testing.T) {
	ms := time.Millisecond
	pts := Curve([]time.Duration{20 * ms, 10 * ms}, 4, 10*ms)
	want := []Point{{0, 0}, {1, 0.25}, {2, 0.5}}
	if len(pts) != len(want) {
		t.Fatalf("curve %v, want %v", pts, want)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Fatalf("curve %v, want %v", pts, want)
		}
	}
}

func TestLinearFit(t *testing.T) {
	f := LinearFit([]float64{250, 500, 1000, 2000}, []float64{3 + 0.5*250, 3 + 0.5*500, 3 + 0.5*1000, 3 + 0.5*2000})
	if math.Abs(f.A-3) > 1e-9 || math.Abs(f.B-0.5) > 1e-9 {
		t.Errorf("fit %+v, want 3 + 0.5x", f)
	}
	if got := f.At(10000); math.Abs(got-5003) > 1e-6 {
		t.Errorf("at 10000: %g", got)
	}
	one := LinearFit([]float64{100}, []float64{7})
	if one.A != 7 || one.B != 0 {
		t.Errorf("one point: %+v, want flat 7", one)
	}
}

func TestResultModelRounds(t *testing.T) {
	r := &Result{Model: &Model{N: 1000, Fanout: 3}, Offset: 5}
	if got, want := r.ModelRounds(0.9999), 5+r.Model.RoundsTo(0.9999); got != want {
		t.Errorf("with offset: %g, want %g", got, want)
	}
	if !math.IsNaN(r.ModelRounds(1)) {
		t.Error("a model time for 100 %")
	}
	if !math.IsNaN((&Result{}).ModelRounds(0.5)) {
		t.Error("a model time without a model")
	}
}

func TestSimLine(t *testing.T) {
	gossip := 100 * time.Millisecond
	var times []time.Duration
	for i := 1; i <= 10; i++ {
		times = append(times, time.Duration(i)*gossip)
	}
	r := &Result{Name: "user-event", N: 10, Times: times, Model: &Model{N: 10, Fanout: 3}}
	m := r.ModelRounds(0.9999)
	want := "SIM n=10 scenario=user-event rounds_99.99=10.0 model_99.99=" + ftoa1(m) + " ratio=" + ftoa2(10/m) + " rounds_100=10.0"
	if got := simLine(r, gossip); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = &Result{Name: "bootstrap", N: 11, Times: times}
	if got := simLine(r, gossip); got != "SIM n=11 scenario=bootstrap rounds_99.99=- model_99.99=- ratio=- rounds_100=-" {
		t.Errorf("unreached, no model: %s", got)
	}
}

func ftoa1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
func ftoa2(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
