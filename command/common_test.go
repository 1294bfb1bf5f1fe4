package command

import (
	"flag"
	"reflect"
	"testing"
)

func TestParseTags(t *testing.T) {
	tags, err := parseTags([]string{"a=1", "b=x=y", "c="})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "1", "b": "x=y", "c": ""}; !reflect.DeepEqual(tags, want) {
		t.Fatalf("got %v, want %v", tags, want)
	}
	if tags, err := parseTags(nil); err != nil || tags == nil || len(tags) != 0 {
		t.Fatalf("no tags must give an empty, non-nil map: %v %v", tags, err)
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		_, err := parseTags([]string{"ok=1", bad})
		if err == nil || err.Error() != "Invalid tag: '"+bad+"'" {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestListFlagRepeats(t *testing.T) {
	var l listFlag
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(&l, "tag", "")
	if err := fs.Parse([]string{"-tag", "a=1", "-tag=b=2"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]string(l), []string{"a=1", "b=2"}) || l.String() != "a=1,b=2" {
		t.Fatalf("got %v", l)
	}
}

func TestRPCFlagDefaultsFromEnvironment(t *testing.T) {
	parse := func(args ...string) rpcFlags {
		var r rpcFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		r.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Setenv(envRPCAddr, "")
	t.Setenv(envRPCAuth, "")
	if r := parse(); r.addr != "127.0.0.1:7373" || r.auth != "" {
		t.Fatalf("defaults: %+v", r)
	}
	t.Setenv(envRPCAddr, "10.0.0.1:1234")
	t.Setenv(envRPCAuth, "tok")
	if r := parse(); r.addr != "10.0.0.1:1234" || r.auth != "tok" {
		t.Fatalf("from env: %+v", r)
	}
	if r := parse("-rpc-addr=1.2.3.4:5", "-rpc-auth", "x"); r.addr != "1.2.3.4:5" || r.auth != "x" {
		t.Fatalf("flags win: %+v", r)
	}
}

func testMembers() []memberView {
	return []memberView{
		{Name: "alpha", Addr: "127.0.0.1:7946", Port: 7946, Tags: map[string]string{"role": "web"},
			Status: "alive", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 5}},
		{Name: "b", Addr: "[::1]:7947", Port: 7947, Tags: map[string]string{},
			Status: "leaving", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 4}},
		{Name: "gamma", Addr: "127.0.0.1:7948", Port: 7948, Tags: map[string]string{},
			Status: "failed", Protocol: map[string]uint8{"min": 2, "max": 5, "version": 5}},
	}
}
