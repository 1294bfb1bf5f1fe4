package engine

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

func TestFlagsAll(t *testing.T) {
	c, err := parseFlags([]string{"-n", "2000", "-dilation", "3"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.scenarios, ",") != strings.Join(scenarioNames, ",") {
		t.Errorf("all is %v", c.scenarios)
	}
	if c.opt.Scale != 3 {
		t.Errorf("-dilation gave scale %g", c.opt.Scale)
	}
	if len(c.measure) != 3 || c.measure[0] != 250 || c.measure[2] != 1000 {
		t.Errorf("auto footprint sizes %v", c.measure)
	}
}

func TestFootprintLinesRoundTrip(t *testing.T) {
	fps := []Footprint{{N: 250, BytesPerNode: 300000, CPUPerRound: 80e-6, GoroutinesPer: 15}, {N: 1000, BytesPerNode: 900000, CPUPerRound: 120.5e-6, GoroutinesPer: 14.5}}
	text := "serf-sim: header\n" + footprintLine(fps[0]) + "\nother\n  " + footprintLine(fps[1]) + "\n"
	got := ParseFootprints(text)
	if len(got) != 2 {
		t.Fatalf("parsed %v", got)
	}
	for i := range fps {
		if got[i].N != fps[i].N || got[i].BytesPerNode != fps[i].BytesPerNode ||
			math.Abs(got[i].CPUPerRound-fps[i].CPUPerRound) > 1e-12 || got[i].GoroutinesPer != fps[i].GoroutinesPer {
			t.Errorf("%d: %+v, want %+v", i, got[i], fps[i])
		}
	}
}

func TestFitOnlyPrintsTheExtrapolation(t *testing.T) {
	path := t.TempDir() + "/fp.txt"
	text := footprintLine(Footprint{N: 500, BytesPerNode: 400 << 10, CPUPerRound: 100e-6, GoroutinesPer: 15}) + "\n" +
		footprintLine(Footprint{N: 1000, BytesPerNode: 800 << 10, CPUPerRound: 200e-6, GoroutinesPer: 15}) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := Main(nil, []string{"-fit-only", "-footprint-from", path}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "extrapolated to n=10000: 8000 KiB/member") {
		t.Errorf("no extrapolation in:\n%s", out.String())
	}
}
