package engine

import (
	"bytes"
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
