package command

import (
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
