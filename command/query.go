package command

import (
	"fmt"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/client"
)

const queryHelp = `Usage: serf query [options] name payload

  Dispatches a query to the Serf cluster.

Options:

  -format                   If provided, output is returned in the specified
                            format. Valid formats are 'json', and 'text' (default)

  -node=NAME                This flag can be provided multiple times to filter
                            responses to only named nodes.

  -tag key=regexp           This flag can be provided multiple times to filter
                            responses to only nodes matching the tags.

  -timeout="15s"            Providing a timeout overrides the default timeout.

  -no-ack                   Setting this prevents nodes from sending an acknowledgement
                            of the query.

  -relay-factor             If provided, query responses will be relayed through this
                            number of extra nodes for redundancy.

  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.

  -rpc-auth=""              RPC auth token of the Serf agent.`

// queryCommand sends a query and prints acks and responses until the
// query's deadline passes. Ctrl-C (shutdownCh) abandons it.
type queryCommand struct {
	ui         cli.Ui
	shutdownCh <-chan struct{}
}

func (c *queryCommand) Synopsis() string { return "Send a query to the Serf cluster" }
func (c *queryCommand) Help() string     { return queryHelp }

func (c *queryCommand) Run(args []string) int {
	var (
		rpc            rpcFlags
		nodes, tagArgs listFlag
		timeout        time.Duration
		noAck          bool
		format         string
		relayFactor    int
	)
	fs := newFlagSet("query", c.ui, c.Help)
	fs.Var(&nodes, "node", "node filter")
	fs.Var(&tagArgs, "tag", "tag filter")
	fs.DurationVar(&timeout, "timeout", 0, "query timeout")
	fs.BoolVar(&noAck, "no-ack", false, "do not request acks")
	fs.StringVar(&format, "format", "text", "output format")
	fs.IntVar(&relayFactor, "relay-factor", 0, "response relay count")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	tags, err := parseTags(tagArgs)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error: %s", err))
		return 1
	}
	name, payload, code := nameAndPayload(c.ui, fs.Args(), "A query name must be specified.", c.Help())
	if code != 0 {
		return code
	}
	if relayFactor < 0 || relayFactor > 255 {
		c.ui.Error("Relay factor must be between 0 and 255")
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	var out queryOutput
	switch format {
	case "text":
		out = &textQueryOutput{ui: c.ui, name: name, noAck: noAck}
	case "json":
		out = &jsonQueryOutput{ui: c.ui, Responses: map[string]string{}}
	default:
		c.ui.Error(fmt.Sprintf("Invalid format: %s", format))
		return 1
	}

	acks := make(chan string, 128)
	resps := make(chan client.NodeResponse, 128)
	err = cl.Query(&client.QueryParam{
		FilterNodes: nodes,
		FilterTags:  tags,
		RequestAck:  !noAck,
		RelayFactor: uint8(relayFactor),
		Timeout:     timeout,
		Name:        name,
		Payload:     payload,
		AckCh:       acks,
		RespCh:      resps,
	})
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error sending query: %s", err))
		return 1
	}
	out.started()

	// Both channels are closed when the query ends. Acks are taken first
	// when both have something, so a node's ack is shown before its answer.
	for acks != nil || resps != nil {
		select {
		case from, ok := <-acks:
			if !ok {
				acks = nil
			} else {
				out.ack(from)
			}
			continue
		default:
		}
		select {
		case from, ok := <-acks:
			if !ok {
				acks = nil
			} else {
				out.ack(from)
			}
		case r, ok := <-resps:
			if !ok {
				resps = nil
			} else {
				out.response(r)
			}
		case <-c.shutdownCh:
			return 1
		}
	}
	if err := out.finished(); err != nil {
		return 1
	}
	return 0
}

// queryOutput renders the progress of a query.
type queryOutput interface {
	started()
	ack(from string)
	response(r client.NodeResponse)
	finished() error
}

// textQueryOutput prints each ack and response as it arrives, then totals.
type textQueryOutput struct {
	ui          cli.Ui
	name        string
	noAck       bool
	acks, resps int
}

func (t *textQueryOutput) started() {
	t.ui.Output(fmt.Sprintf("Query '%s' dispatched", t.name))
}

func (t *textQueryOutput) ack(from string) {
	t.acks++
	t.ui.Info(fmt.Sprintf("Ack from '%s'", from))
}

func (t *textQueryOutput) response(r client.NodeResponse) {
	t.resps++
	payload := r.Payload
	if n := len(payload); n > 0 && payload[n-1] == '\n' {
		payload = payload[:n-1]
	}
	t.ui.Info(fmt.Sprintf("Response from '%s': %s", r.From, payload))
}

func (t *textQueryOutput) finished() error {
	if !t.noAck {
		t.ui.Output(fmt.Sprintf("Total Acks: %d", t.acks))
	}
	t.ui.Output(fmt.Sprintf("Total Responses: %d", t.resps))
	return nil
}

// jsonQueryOutput collects everything and prints one JSON document at the
// end: {"Acks": [...] or null, "Responses": {node: payload}}.
type jsonQueryOutput struct {
	ui        cli.Ui
	Acks      []string
	Responses map[string]string
}

func (j *jsonQueryOutput) started()        {}
func (j *jsonQueryOutput) ack(from string) { j.Acks = append(j.Acks, from) }

func (j *jsonQueryOutput) response(r client.NodeResponse) {
	j.Responses[r.From] = string(r.Payload)
}

// Text is never used (the JSON form is the only one) but lets the
// collector go through formatOutput.
func (j *jsonQueryOutput) Text() string { return "" }

func (j *jsonQueryOutput) finished() error {
	out, err := formatOutput(j, "json")
	if err != nil {
		j.ui.Error(fmt.Sprintf("Encoding error: %s", err))
		return err
	}
	j.ui.Output(out)
	return nil
}
