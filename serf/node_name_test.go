package serf_test

import (
	"strings"
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestValidateNodeNames(t *testing.T) {
	tr := serftest.NewNetwork(1)
	defer tr.Close()
	create := func(name string, validate bool) error {
		conf := serftest.TestConfig(name, tr.NewTransport(name), &serftest.SyncBuffer{})
		conf.ValidateNodeNames = validate
		s, err := serf.Create(conf)
		if err == nil {
			if verr := s.ValidateNodeNames(); verr != nil {
				t.Errorf("%q: Create succeeded but ValidateNodeNames says %v", name, verr)
			}
			s.Shutdown()
		}
		return err
	}
	for _, tc := range []struct {
		name     string
		validate bool
		want     string // error text, "" for success
	}{
		{"web-1.dc", true, ""},
		{"web_1", false, ""},
		{"web_1", true, "Node name contains invalid characters web_1 , Valid characters include all alpha-numerics and dashes and '.' "},
		{strings.Repeat("a", serf.MaxNodeNameLength), true, ""},
		{strings.Repeat("a", serf.MaxNodeNameLength+1), true, "Node name is 129 characters. Valid length is between 1 and 128 characters"},
	} {
		err := create(tc.name, tc.validate)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Create(%q, validate=%v) = %q, want %q", tc.name, tc.validate, got, tc.want)
		}
	}
}
