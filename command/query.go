package command

import (
	"bytes"
	"errors"
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

	if format != "text" && format != "json" {
		c.ui.Error(fmt.Sprintf("Invalid format: %s", format))
		return 1
	}
	out := &queryResults{ui: c.ui, name: name, json: format == "json", noAck: noAck,
		Responses: map[string]string{}}

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

// queryResults gathers what a query brings back. In text form every ack
// and response is printed as it arrives and the totals at the end; in JSON
// form nothing appears until the end, when the exported fields go out as
// one document: {"Acks": [...] or null, "Responses": {node: payload}}.
type queryResults struct {
	ui    cli.Ui
	name  string
	json  bool
	noAck bool

	Acks      []string
	Responses map[string]string
	answers   int // responses received, counting repeats from one node
}

func (q *queryResults) started() {
	if !q.json {
		q.ui.Output(fmt.Sprintf("Query '%s' dispatched", q.name))
	}
}

func (q *queryResults) ack(from string) {
	q.Acks = append(q.Acks, from)
	if !q.json {
		q.ui.Info(fmt.Sprintf("Ack from '%s'", from))
	}
}

func (q *queryResults) response(r client.NodeResponse) {
	q.answers++
	q.Responses[r.From] = string(r.Payload)
	if !q.json {
		// One trailing newline (a handler's echo) is not shown.
		shown := bytes.TrimSuffix(r.Payload, []byte{'\n'})
		q.ui.Info(fmt.Sprintf("Response from '%s': %s", r.From, shown))
	}
}

// finished prints the totals or the JSON document; the error means the
// document could not be encoded (and was reported).
func (q *queryResults) finished() error {
	if q.json {
		if printResult(q.ui, q, "json") != 0 {
			return errors.New("encoding failed")
		}
		return nil
	}
	if !q.noAck {
		q.ui.Output(fmt.Sprintf("Total Acks: %d", len(q.Acks)))
	}
	q.ui.Output(fmt.Sprintf("Total Responses: %d", q.answers))
	return nil
}

// Text is never used (JSON is the only document form) but lets the
// results go through formatOutput.
func (q *queryResults) Text() string { return "" }
