package coordinate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func newTestClient(t testing.TB, cfg *Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	if _, err := NewClient(nil); err == nil {
		t.Error("nil config accepted")
	}
	cfg := DefaultConfig()
	cfg.Dimensionality = 0
	if _, err := NewClient(cfg); err == nil {
		t.Error("zero dimensionality accepted")
	}
}

func TestClientCopiesConfig(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	cfg.Dimensionality = 2
	if got := len(c.GetCoordinate().Vec); got != 8 {
		t.Fatalf("client affected by later config change: dim %d", got)
	}
}

func TestUpdateRejections(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	good := NewCoordinate(cfg)
	good.Vec[0] = 0.01

	nan := good.Clone()
	nan.Vec[1] = math.NaN()
	inf := good.Clone()
	inf.Height = math.Inf(1)
	negInf := good.Clone()
	negInf.Adjustment = math.Inf(-1)
	short := &Coordinate{Vec: []float64{0.01, 0}, Error: 1.5, Height: 1e-5}

	cases := []struct {
		name  string
		other *Coordinate
		rtt   time.Duration
	}{
		{"nil", nil, time.Millisecond},
		{"NaN", nan, time.Millisecond},
		{"+Inf", inf, time.Millisecond},
		{"-Inf", negInf, time.Millisecond},
		{"dimension mismatch", short, time.Millisecond},
		{"negative rtt", good, -time.Nanosecond},
		{"rtt above 10s", good, 10*time.Second + time.Nanosecond},
	}
	before := c.GetCoordinate()
	for _, tc := range cases {
		got, err := c.Update("peer", tc.other, tc.rtt)
		if err == nil || got != nil {
			t.Errorf("%s: accepted (coord %v, err %v)", tc.name, got, err)
		}
	}
	after := c.GetCoordinate()
	if after.DistanceTo(before) != before.DistanceTo(before) || after.Error != before.Error {
		t.Fatalf("rejected updates changed the coordinate: %+v -> %+v", before, after)
	}
	if len(c.recent) != 0 {
		t.Fatalf("rejected updates reached the latency filter: %v", c.recent)
	}

	for _, rtt := range []time.Duration{0, 10 * time.Second} {
		if _, err := c.Update("peer", good, rtt); err != nil {
			t.Errorf("rtt %v rejected: %v", rtt, err)
		}
	}
}

func TestSetCoordinate(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	want := NewCoordinate(cfg)
	want.Vec[2] = 0.5
	if err := c.SetCoordinate(want); err != nil {
		t.Fatal(err)
	}
	want.Vec[2] = 7 // the client must hold its own copy
	if got := c.GetCoordinate().Vec[2]; got != 0.5 {
		t.Fatalf("Vec[2] = %v, want 0.5", got)
	}
	got := c.GetCoordinate()
	got.Vec[2] = 9 // nor hand out its own
	if c.GetCoordinate().Vec[2] != 0.5 {
		t.Fatal("GetCoordinate returned the internal coordinate")
	}

	bad := NewCoordinate(cfg)
	bad.Error = math.NaN()
	if err := c.SetCoordinate(bad); err == nil {
		t.Error("NaN coordinate accepted")
	}
	if err := c.SetCoordinate(&Coordinate{Vec: []float64{1}}); err == nil {
		t.Error("1-d coordinate accepted by 8-d client")
	}
	if err := c.SetCoordinate(nil); err == nil {
		t.Error("nil coordinate accepted")
	}
}

func TestLatencyFilterMedian(t *testing.T) {
	c := newTestClient(t, DefaultConfig())
	ms := func(v float64) float64 { return v / 1000 }
	steps := []struct{ in, want float64 }{
		{10, 10},  // [10]
		{20, 20},  // [10 20] -> upper middle
		{300, 20}, // [10 20 300] spike ignored
		{12, 20},  // [20 300 12]
		{11, 12},  // [300 12 11]
		{13, 12},  // [12 11 13]
	}
	for i, s := range steps {
		if got := c.filter("a", ms(s.in)); got != ms(s.want) {
			t.Fatalf("step %d: median %v, want %v", i, got, ms(s.want))
		}
	}
	if got := c.filter("b", ms(99)); got != ms(99) {
		t.Fatalf("samples leaked between peers: %v", got)
	}
	c.ForgetNode("a")
	if got := c.filter("a", ms(1)); got != ms(1) {
		t.Fatalf("ForgetNode kept history: median %v", got)
	}
}

func TestUpdateMovesTowardMeasuredRTT(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	other := NewCoordinate(cfg)
	rtt := 50 * time.Millisecond
	for range 100 {
		if _, err := c.Update("other", other, rtt); err != nil {
			t.Fatal(err)
		}
	}
	got := c.DistanceTo(other)
	if d := got - rtt; d < -5*time.Millisecond || d > 5*time.Millisecond {
		t.Fatalf("distance %v after 100 updates, want about %v", got, rtt)
	}
	if e := c.GetCoordinate().Error; e >= cfg.VivaldiErrorMax {
		t.Fatalf("error estimate did not improve: %v", e)
	}
}

func TestResetOnInvalidResult(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	huge := NewCoordinate(cfg)
	huge.Vec[0] = math.MaxFloat64 / 2
	huge.Vec[1] = math.MaxFloat64 / 2
	if err := c.SetCoordinate(huge); err != nil {
		t.Fatal(err)
	}
	got, err := c.Update("peer", NewCoordinate(cfg), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsValid() {
		t.Fatalf("invalid coordinate returned: %+v", got)
	}
	fresh := NewCoordinate(cfg)
	if got.DistanceTo(fresh) != fresh.DistanceTo(fresh) || got.Error != fresh.Error {
		t.Fatalf("coordinate not reset to the origin: %+v", got)
	}
	if n := c.Stats().Resets; n != 1 {
		t.Fatalf("Resets = %d, want 1", n)
	}
}

// simulate runs rounds of random pings among len(pos) nodes whose true RTT
// is rtt(i, j) and returns the clients.
func simulate(t *testing.T, n, rounds int, rtt func(i, j int) time.Duration) []*Client {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	clients := make([]*Client, n)
	for i := range clients {
		clients[i] = newTestClient(t, DefaultConfig())
	}
	names := make([]string, n)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	for range rounds {
		for i := range clients {
			j := rng.IntN(n - 1)
			if j >= i {
				j++
			}
			if _, err := clients[i].Update(names[j], clients[j].GetCoordinate(), rtt(i, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return clients
}

// checkEstimates asserts every pairwise estimate is within tol of the truth.
func checkEstimates(t *testing.T, clients []*Client, rtt func(i, j int) time.Duration, tol time.Duration) {
	t.Helper()
	worst := time.Duration(0)
	for i := range clients {
		for j := range clients {
			if i == j {
				continue
			}
			est := clients[i].DistanceTo(clients[j].GetCoordinate())
			d := est - rtt(i, j)
			if d < 0 {
				d = -d
			}
			worst = max(worst, d)
			if d > tol {
				t.Errorf("%d->%d: estimate %v, true %v", i, j, est, rtt(i, j))
			}
		}
	}
	t.Logf("worst absolute error %v", worst)
}

func TestConvergenceLine(t *testing.T) {
	const n = 10
	spacing := 10 * time.Millisecond
	rtt := func(i, j int) time.Duration {
		d := i - j
		if d < 0 {
			d = -d
		}
		return time.Duration(d) * spacing
	}
	clients := simulate(t, n, 1000, rtt)
	checkEstimates(t, clients, rtt, 5*time.Millisecond)
}

func TestConvergenceGrid(t *testing.T) {
	const side = 5
	spacing := 10 * time.Millisecond
	rtt := func(i, j int) time.Duration {
		dx := float64(i%side - j%side)
		dy := float64(i/side - j/side)
		return time.Duration(math.Hypot(dx, dy) * float64(spacing))
	}
	clients := simulate(t, side*side, 1000, rtt)
	checkEstimates(t, clients, rtt, 5*time.Millisecond)
	for i, c := range clients {
		if r := c.Stats().Resets; r != 0 {
			t.Errorf("client %d reset %d times", i, r)
		}
	}
}

func TestClientConcurrentUse(t *testing.T) {
	cfg := DefaultConfig()
	c := newTestClient(t, cfg)
	other := NewCoordinate(cfg)
	other.Vec[0] = 0.02
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			_ = c.DistanceTo(other)
			_ = c.GetCoordinate()
			_ = c.Stats()
		}
	}()
	for i := range 500 {
		if _, err := c.Update("x", other, time.Duration(i%7+1)*time.Millisecond); err != nil {
			t.Error(err)
		}
		if i%100 == 0 {
			c.ForgetNode("x")
		}
	}
	<-done
}

func BenchmarkUpdate(b *testing.B) {
	cfg := DefaultConfig()
	c := newTestClient(b, cfg)
	others := make([]*Coordinate, 16)
	names := make([]string, len(others))
	for i := range others {
		others[i] = NewCoordinate(cfg)
		others[i].Vec[i%8] = float64(i) / 1000
		names[i] = string(rune('a' + i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(others)
		if _, err := c.Update(names[k], others[k], time.Duration(k+1)*time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
}
