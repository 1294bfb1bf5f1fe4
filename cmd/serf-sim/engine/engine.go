// Package engine is serf-sim's scenario engine: it runs N members of one
// Serf implementation (an Impl: this module's serf.Serf in cmd/serf-sim,
// upstream's in interop/sim) in one process on the in-memory network of
// serf/serftest and measures, in gossip rounds and probe periods, how
// membership, user events, queries, failures and partitions spread through
// them, next to Serf's epidemic model and the SWIM/Lifeguard expectations.
// Main is the whole command line.
package engine

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"
)

type config struct {
	opt        Options
	scenarios  []string
	healAfter  float64
	plot       string
	measure    []int
	idleRounds float64
	footRounds float64
	logFile    *os.File
	cpuProfile string
	memProfile string
	gogc       int
	prior      []Footprint
	fitOnly    bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("serf-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	fs.IntVar(&c.opt.N, "n", 200, "number of members")
	scen := fs.String("scenario", "all", "scenarios, comma separated: "+strings.Join(scenarioNames, ", ")+", or all")
	fs.Float64Var(&c.opt.Loss, "loss", 0, "packet loss on every link, 0..1")
	fs.DurationVar(&c.opt.Latency, "latency", 0, "latency of every link, in base-profile time (scaled like the intervals)")
	fs.Float64Var(&c.opt.Scale, "scale", 1, "time dilation: every protocol interval is its LAN default times this")
	fs.Float64Var(&c.opt.Scale, "dilation", 1, "the same as -scale")
	fs.Int64Var(&c.opt.Seed, "seed", 1, "seed of the network's packet loss and of the choice of members")
	fs.Float64Var(&c.healAfter, "heal-after", 0, "rounds a partition lasts; 0 heals once each half sees the other failed")
	fs.StringVar(&c.plot, "plot", "", "write an SVG plot of the curves against the model to this file")
	fs.BoolVar(&c.opt.Compress, "compress", false, "compress packets as memberlist does by default (costs CPU, changes no round)")
	fs.IntVar(&c.opt.Fanout, "fanout", 0, "memberlist GossipNodes (0 keeps the LAN default, 3)")
	fs.Float64Var(&c.opt.MaxRound, "max-rounds", 1500, "how long a scenario waits for 100 %, in rounds")
	fs.Float64Var(&c.opt.JoinRounds, "join-rounds", 0, "the bootstrap stops waiting for joins that have not returned after this many rounds (0: -max-rounds)")
	fs.Float64Var(&c.opt.SettleRounds, "settle-rounds", 300, "before each scenario after the bootstrap, wait at most this many rounds for every member to know all")
	fs.IntVar(&c.gogc, "gogc", 50, "the Go GC's target percentage for the run (lower: less memory, more CPU)")
	measure := fs.String("measure", "auto", "cluster sizes at which to measure memory and CPU per member besides -n (comma separated; auto: n/8, n/4, n/2 when n ≥ 200; none)")
	fs.Float64Var(&c.footRounds, "footprint-rounds", 150, "how long a footprint cluster waits for 100 % converged before it is measured, in rounds")
	fs.Float64Var(&c.idleRounds, "idle-rounds", 25, "rounds of idle cluster over which CPU per member is measured")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&c.memProfile, "memprofile", "", "write a heap profile, taken after bootstrap, to this file")
	from := fs.String("footprint-from", "", "also fit the FOOTPRINT lines of an earlier run's output in this file (same implementation and scale)")
	fs.BoolVar(&c.fitOnly, "fit-only", false, "start no member: print the fit of the -footprint-from footprints and exit")
	logs := fs.String("logs", "", "append every member's log lines to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.opt.N < 2 {
		return nil, fmt.Errorf("-n must be at least 2")
	}
	if c.opt.Scale <= 0 {
		return nil, fmt.Errorf("-scale must be positive")
	}
	if c.opt.Loss < 0 || c.opt.Loss >= 1 {
		return nil, fmt.Errorf("-loss must be in [0, 1)")
	}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "all" {
			c.scenarios = append(c.scenarios, scenarioNames...)
			continue
		}
		known := false
		for _, k := range scenarioNames {
			known = known || k == s
		}
		if !known {
			return nil, fmt.Errorf("unknown scenario %q", s)
		}
		c.scenarios = append(c.scenarios, s)
	}
	if *logs != "" {
		f, err := os.OpenFile(*logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		c.logFile = f
		c.opt.Logs = f
	}
	if *from != "" {
		data, err := os.ReadFile(*from)
		if err != nil {
			return nil, err
		}
		c.prior = ParseFootprints(string(data))
		if len(c.prior) == 0 {
			return nil, fmt.Errorf("no FOOTPRINT lines in %s", *from)
		}
	}
	switch *measure {
	case "none", "":
	case "auto":
		if c.opt.N >= 200 {
			c.measure = []int{c.opt.N / 8, c.opt.N / 4, c.opt.N / 2}
		}
	default:
		for _, f := range strings.Split(*measure, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 2 {
				return nil, fmt.Errorf("bad -measure size %q", f)
			}
			if v != c.opt.N {
				c.measure = append(c.measure, v)
			}
		}
	}
	return c, nil
}

// Main runs the simulator with the command-line arguments args on members
// of impl and returns the exit code.
func Main(impl Impl, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "serf-sim:", err)
		return 2
	}
	if c.logFile != nil {
		defer c.logFile.Close()
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "serf-sim:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "serf-sim:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	debug.SetGCPercent(c.gogc)
	if err := simulate(impl, c, stdout); err != nil {
		fmt.Fprintln(stderr, "serf-sim:", err)
		return 1
	}
	return 0
}

func simulate(impl Impl, c *config, out io.Writer) error {
	if c.fitOnly {
		if len(c.prior) == 0 {
			return fmt.Errorf("-fit-only needs -footprint-from")
		}
		extrapolate(out, append([]Footprint(nil), c.prior...))
		return nil
	}
	opt := c.opt
	base := measureUsage()
	prints := append([]Footprint(nil), c.prior...)

	// Footprints at the smaller sizes first, each on a cluster of its own.
	for _, n := range c.measure {
		o := opt
		o.N = n
		o.MaxRound = c.footRounds
		o.SettleRounds = math.Min(c.footRounds, opt.SettleRounds)
		start := time.Now()
		s, err := NewSim(impl, o)
		if err != nil {
			return err
		}
		r := &Runner{S: s, Opt: o, Rng: rand.New(rand.NewSource(opt.Seed))}
		b := r.bootstrap(1)
		settled := r.Settle()
		fp := idleFootprint(s, base, c.idleRounds)
		s.Close()
		fmt.Fprintf(out, "footprint n=%d: bootstrap %s, %d members knew all when measured; %.0f KiB and %.1f goroutines per member, %.1f µs CPU per member per round (%.1fs wall)\n",
			n, summary(b.Times, b.N, s.Gossip), len(b.Times), fp.BytesPerNode/1024, fp.GoroutinesPer, fp.CPUPerRound*1e6, time.Since(start).Seconds())
		fmt.Fprintf(out, "   %s\n", settled)
		fmt.Fprintln(out, footprintLine(fp))
		prints = append(prints, fp)
		base = measureUsage()
	}

	s, err := NewSim(impl, opt)
	if err != nil {
		return err
	}
	defer s.Close()
	ml := s.Base
	fmt.Fprintf(out, "serf-sim (%s): %d members, LAN profile ×%g: round (gossip interval) %v, probe period %v (%.0f rounds), fanout %d, loss %g, latency %v, compression %v, seed %d\n",
		impl.Name(), opt.N, opt.Scale, s.Gossip, s.Probe, Rounds(s.Probe, s.Gossip), ml.GossipNodes, opt.Loss, opt.Dilate(opt.Latency), opt.Compress, opt.Seed)

	r := &Runner{S: s, Opt: opt, Rng: rand.New(rand.NewSource(opt.Seed)), HealAfter: c.healAfter}
	var results []*Result
	bootstrapped := false
	for _, name := range c.scenarios {
		if name != "bootstrap" && !bootstrapped {
			b := r.Bootstrap()
			fmt.Fprintf(out, "   (bootstrap before the scenarios: %s)\n", summary(b.Times, b.N, s.Gossip))
			bootstrapped = true
		}
		var settled string
		if name != "bootstrap" {
			settled = r.Settle()
		}
		start := time.Now()
		res, err := r.Run(name)
		if err != nil {
			return err
		}
		if settled != "" {
			res.Notes = append([]string{settled}, res.Notes...)
		}
		if name == "bootstrap" {
			bootstrapped = true
			settled = r.Settle()
			res.Notes = append(res.Notes, "footprint measured once idle: "+settled)
			fp := idleFootprint(s, base, c.idleRounds)
			prints = append(prints, fp)
			fmt.Fprintln(out, footprintLine(fp))
			if c.memProfile != "" {
				if err := writeHeap(c.memProfile); err != nil {
					return err
				}
			}
		}
		report(out, res, s.Gossip, time.Since(start))
		// The SIM line at once too, so a run stopped later still has it.
		fmt.Fprintln(out, "   "+simLine(res, s.Gossip))
		results = append(results, res)
	}

	if len(prints) > 0 {
		extrapolate(out, prints)
	}
	if hwm := peakRSS(); hwm != "" {
		fmt.Fprintf(out, "   process peak RSS (VmHWM) %s, GOGC %d\n", hwm, c.gogc)
	}
	if c.plot != "" {
		if err := plot(c.plot, impl.Name(), opt, results, s.Gossip); err != nil {
			return err
		}
		fmt.Fprintf(out, "plot written to %s\n", c.plot)
	}
	for _, res := range results {
		fmt.Fprintln(out, simLine(res, s.Gossip))
	}
	return nil
}

// report prints one scenario's times against the model.
func report(out io.Writer, res *Result, gossip time.Duration, wall time.Duration) {
	fmt.Fprintf(out, "== %s: %d of %d members got there (%.1fs wall)\n", res.Name, len(res.Times), res.N, wall.Seconds())
	for _, note := range res.Notes {
		fmt.Fprintf(out, "   %s\n", note)
	}
	for _, f := range reportFractions {
		line := fmt.Sprintf("   %6s%% of %d (%d members): ", fracLabel(f), res.N, Needed(f, res.N))
		if d, ok := TimeTo(res.Times, res.N, f); ok {
			line += fmt.Sprintf("%7.1f rounds", Rounds(d, gossip))
		} else {
			line += "      - (not reached)"
		}
		if m := res.ModelRounds(f); !math.IsNaN(m) {
			line += fmt.Sprintf("   model %6.1f rounds", m)
		}
		fmt.Fprintln(out, line)
	}
}

// simLine is the closing summary of one scenario.
func simLine(res *Result, gossip time.Duration) string {
	r99, m99, ratio, r100 := "-", "-", "-", "-"
	d99, ok99 := TimeTo(res.Times, res.N, 0.9999)
	if ok99 {
		r99 = fmt.Sprintf("%.1f", Rounds(d99, gossip))
	}
	if d, ok := TimeTo(res.Times, res.N, 1); ok {
		r100 = fmt.Sprintf("%.1f", Rounds(d, gossip))
	}
	if m := res.ModelRounds(0.9999); !math.IsNaN(m) {
		m99 = fmt.Sprintf("%.1f", m)
		if ok99 {
			ratio = fmt.Sprintf("%.2f", Rounds(d99, gossip)/m)
		}
	}
	return fmt.Sprintf("SIM n=%d scenario=%s rounds_99.99=%s model_99.99=%s ratio=%s rounds_100=%s",
		res.N, res.Name, r99, m99, ratio, r100)
}

// extrapolate prints the footprints and a linear fit of each per-member
// cost against N, evaluated at 10,000 members.
func extrapolate(out io.Writer, prints []Footprint) {
	sort.Slice(prints, func(i, j int) bool { return prints[i].N < prints[j].N })
	var ns, mem, cpu []float64
	fmt.Fprintln(out, "== footprint per member (idle, after bootstrap)")
	for _, p := range prints {
		fmt.Fprintf(out, "   n=%5d: %8.0f KiB/member, %7.1f µs CPU/member/round, %.1f goroutines/member\n",
			p.N, p.BytesPerNode/1024, p.CPUPerRound*1e6, p.GoroutinesPer)
		ns = append(ns, float64(p.N))
		mem = append(mem, p.BytesPerNode)
		cpu = append(cpu, p.CPUPerRound)
	}
	fm, fc := LinearFit(ns, mem), LinearFit(ns, cpu)
	const target = 10000
	fmt.Fprintf(out, "   linear least-squares fit per member against N (each member keeps state for all N, so the total grows as N²):\n")
	fmt.Fprintf(out, "   memory/member ≈ %.0f KiB + %.3f KiB·N; CPU/member/round ≈ %.1f µs + %.4f µs·N\n",
		fm.A/1024, fm.B/1024, fc.A*1e6, fc.B*1e6)
	m10, c10 := fm.At(target), fc.At(target)
	fmt.Fprintf(out, "   extrapolated to n=%d: %.0f KiB/member (%.1f GiB in all), %.1f µs CPU/member/round (%.1f cores at a %v round)\n",
		target, m10/1024, m10*target/(1<<30), c10*1e6, c10*target/0.2, 200*time.Millisecond)
}

// plot writes the measured curves and the model as SVG, titled with the
// implementation that made them.
func plot(path, impl string, opt Options, results []*Result, gossip time.Duration) error {
	var series []Series
	xmax := 0.0
	for i, res := range results {
		pts := Curve(res.Times, res.N, gossip)
		if len(pts) > 0 {
			xmax = math.Max(xmax, pts[len(pts)-1].X)
		}
		series = append(series, Series{Label: res.Name, Points: pts, Color: palette[i%len(palette)]})
	}
	for _, res := range results {
		if res.Name == "user-event" && res.Model != nil {
			series = append(series, Series{Label: "epidemic model", Points: modelSeries(*res.Model, 0, xmax),
				Color: "#000", Dashed: true})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s: %d members, fanout %d, loss %g: share reached by round", impl, opt.N, fanoutOf(opt), opt.Loss)
	if err := writeSVG(f, title, series); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fanoutOf(opt Options) int {
	if opt.Fanout > 0 {
		return opt.Fanout
	}
	return 3
}

// writeHeap writes a heap profile of what is live now to path.
func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// footprintLine is the machine-readable line of one footprint.
func footprintLine(fp Footprint) string {
	return fmt.Sprintf("FOOTPRINT n=%d bytes_per_member=%.0f cpu_us_per_member_round=%.1f goroutines_per_member=%.1f",
		fp.N, fp.BytesPerNode, fp.CPUPerRound*1e6, fp.GoroutinesPer)
}

// ParseFootprints reads the FOOTPRINT lines of a run's output.
func ParseFootprints(text string) []Footprint {
	var out []Footprint
	for _, line := range strings.Split(text, "\n") {
		var fp Footprint
		var cpu float64
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "FOOTPRINT n=%d bytes_per_member=%g cpu_us_per_member_round=%g goroutines_per_member=%g",
			&fp.N, &fp.BytesPerNode, &cpu, &fp.GoroutinesPer); err == nil {
			fp.CPUPerRound = cpu / 1e6
			out = append(out, fp)
		}
	}
	return out
}

// peakRSS is the process's VmHWM from /proc, "" where there is none.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
