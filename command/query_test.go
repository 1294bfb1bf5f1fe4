package command

import (
	"strings"
	"testing"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/client"
)

func TestQueryOutputs(t *testing.T) {
	ui := cli.NewMockUi()
	text := &queryResults{ui: ui, name: "uptime", Responses: map[string]string{}}
	text.started()
	text.ack("alpha")
	text.response(client.NodeResponse{From: "alpha", Payload: []byte("line1\nline2\n\n")})
	text.response(client.NodeResponse{From: "beta", Payload: nil})
	if err := text.finished(); err != nil {
		t.Fatal(err)
	}
	want := "Query 'uptime' dispatched\nAck from 'alpha'\nResponse from 'alpha': line1\nline2\n\n" +
		"Response from 'beta': \nTotal Acks: 1\nTotal Responses: 2\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("text: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	text = &queryResults{ui: ui, name: "q", noAck: true, Responses: map[string]string{}}
	text.started()
	_ = text.finished()
	if got := ui.OutputWriter.String(); got != "Query 'q' dispatched\nTotal Responses: 0\n" {
		t.Fatalf("no-ack text: %q", got)
	}

	ui = cli.NewMockUi()
	js := &queryResults{ui: ui, json: true, Responses: map[string]string{}}
	js.started()
	_ = js.finished()
	if got := ui.OutputWriter.String(); got != "{\n  \"Acks\": null,\n  \"Responses\": {}\n}\n" {
		t.Fatalf("empty json: %q", got)
	}
	ui = cli.NewMockUi()
	js = &queryResults{ui: ui, json: true, Responses: map[string]string{}}
	js.ack("alpha")
	js.ack("beta")
	js.response(client.NodeResponse{From: "beta", Payload: []byte("resp\n")})
	_ = js.finished()
	want = "{\n  \"Acks\": [\n    \"alpha\",\n    \"beta\"\n  ],\n  \"Responses\": {\n    \"beta\": \"resp\\n\"\n  }\n}\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("json: got %q want %q", got, want)
	}
}

// TestQuerySelectedNodes: -wait-all expects the nodes the query's own
// filters select: exact -node names, unanchored -tag regexps, a missing
// tag read as "", and nobody for a regexp that does not compile.
func TestQuerySelectedNodes(t *testing.T) {
	members := []client.Member{
		{Name: "web-1", Tags: map[string]string{"role": "web", "dc": "east"}},
		{Name: "web-2", Tags: map[string]string{"role": "frontend-web"}},
		{Name: "db-1", Tags: map[string]string{"role": "db"}},
		{Name: "bare"},
	}
	cases := []struct {
		nodes []string
		tags  map[string]string
		want  string
	}{
		{nil, nil, "web-1,web-2,db-1,bare"},
		{[]string{"db-1", "bare", "gone"}, nil, "db-1,bare"},
		{[]string{"web"}, nil, ""},
		{nil, map[string]string{"role": "web"}, "web-1,web-2"},
		{nil, map[string]string{"role": "^web$"}, "web-1"},
		{nil, map[string]string{"role": "web", "dc": "east"}, "web-1"},
		{nil, map[string]string{"dc": "^$"}, "web-2,db-1,bare"},
		{[]string{"web-2", "db-1"}, map[string]string{"role": "web"}, "web-2"},
		{nil, map[string]string{"role": "("}, ""},
	}
	for _, c := range cases {
		got := strings.Join(selectedNodes(members, c.nodes, c.tags), ",")
		if got != c.want {
			t.Errorf("nodes %v tags %v: got %q want %q", c.nodes, c.tags, got, c.want)
		}
	}
}

// TestQueryWaitAllOutputs: -wait-all is complete once every selected node
// has acked and responded; the text form then adds nothing, otherwise it
// names who did not answer; the JSON form always carries both lists.
func TestQueryWaitAllOutputs(t *testing.T) {
	ui := cli.NewMockUi()
	q := &queryResults{ui: ui, name: "up", Responses: map[string]string{}}
	q.expect([]string{"a", "b"})
	q.started()
	for _, step := range []func(){
		func() { q.ack("a") },
		func() { q.response(client.NodeResponse{From: "a", Payload: []byte("x\n")}) },
		func() { q.response(client.NodeResponse{From: "b", Payload: []byte("y")}) },
		func() { q.ack("stranger") },
	} {
		if q.complete() {
			t.Fatal("complete too early")
		}
		step()
	}
	q.ack("b")
	if !q.complete() {
		t.Fatal("not complete after every ack and response")
	}
	_ = q.finished()
	want := "Query 'up' dispatched\nAck from 'a'\nResponse from 'a': x\nResponse from 'b': y\n" +
		"Ack from 'stranger'\nAck from 'b'\nTotal Acks: 3\nTotal Responses: 2\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("all answered: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	q = &queryResults{ui: ui, name: "up", Responses: map[string]string{}}
	q.expect([]string{"d", "c", "b", "a"})
	q.ack("a")
	q.ack("c")
	q.response(client.NodeResponse{From: "a"})
	q.response(client.NodeResponse{From: "b"}) // its ack was lost
	_ = q.finished()
	want = "Ack from 'a'\nAck from 'c'\nResponse from 'a': \nResponse from 'b': \nTotal Acks: 2\nTotal Responses: 2\n" +
		"Nodes that did not acknowledge: b, d\nNodes that acknowledged but did not respond: c\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("missing: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	q = &queryResults{ui: ui, name: "up", noAck: true, Responses: map[string]string{}}
	q.expect([]string{"b", "a"})
	if q.complete() {
		t.Fatal("-no-ack: complete before any response")
	}
	q.response(client.NodeResponse{From: "a"})
	_ = q.finished()
	want = "Response from 'a': \nTotal Responses: 1\nNodes that did not respond: b\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("-no-ack missing: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	q = &queryResults{ui: ui, name: "up", noAck: true, Responses: map[string]string{}}
	q.expect(nil)
	if !q.complete() {
		t.Fatal("nothing selected: not complete")
	}

	ui = cli.NewMockUi()
	q = &queryResults{ui: ui, json: true, Responses: map[string]string{}}
	q.expect([]string{"b", "a", "c"})
	q.ack("a")
	q.ack("b")
	q.response(client.NodeResponse{From: "a", Payload: []byte("r")})
	_ = q.finished()
	want = "{\n  \"Acks\": [\n    \"a\",\n    \"b\"\n  ],\n  \"Responses\": {\n    \"a\": \"r\"\n  },\n" +
		"  \"NotAcked\": [\n    \"c\"\n  ],\n  \"NotResponded\": [\n    \"b\",\n    \"c\"\n  ]\n}\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("json: got %q want %q", got, want)
	}

	ui = cli.NewMockUi()
	q = &queryResults{ui: ui, json: true, noAck: true, Responses: map[string]string{}}
	q.expect([]string{"a"})
	q.response(client.NodeResponse{From: "a", Payload: []byte("r")})
	_ = q.finished()
	want = "{\n  \"Acks\": null,\n  \"Responses\": {\n    \"a\": \"r\"\n  },\n  \"NotAcked\": [],\n  \"NotResponded\": []\n}\n"
	if got := ui.OutputWriter.String(); got != want {
		t.Fatalf("json -no-ack: got %q want %q", got, want)
	}
}
