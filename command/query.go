package command

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
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
//
// -wait-all (ours, not in Serf's help text so that `serf query -h` stays
// Serf's; see the README) first lists the alive members the query's
// filters select, then returns as soon as each of them has acked (unless
// -no-ack) and responded, or at the deadline, and reports who did not.
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
		waitAll        bool
	)
	fs := newFlagSet("query", c.ui, c.Help)
	fs.Var(&nodes, "node", "node filter")
	fs.Var(&tagArgs, "tag", "tag filter")
	fs.DurationVar(&timeout, "timeout", 0, "query timeout")
	fs.BoolVar(&noAck, "no-ack", false, "do not request acks")
	fs.StringVar(&format, "format", "text", "output format")
	fs.IntVar(&relayFactor, "relay-factor", 0, "response relay count")
	fs.BoolVar(&waitAll, "wait-all", false, "return once every selected node has answered")
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
	if waitAll {
		members, err := cl.MembersFiltered(nil, "alive", "")
		if err != nil {
			c.ui.Error(fmt.Sprintf("Error retrieving members: %s", err))
			return 1
		}
		out.expect(selectedNodes(members, nodes, tags))
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
	// With -wait-all the loop also ends once every selected node has
	// answered; the rest of the stream goes with the connection.
	for (acks != nil || resps != nil) && !out.complete() {
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

// selectedNodes is the set of names, among the alive members, that the
// query's filters select, by the rules each node applies to itself: one of
// the -node names exactly (if any are given), and every -tag regexp found,
// unanchored, in the node's value for that tag ("" if it has none). A
// regexp that does not compile selects nobody, as no node would answer.
// (members-filtered anchors its regexps, so the filtering is done here.)
func selectedNodes(members []client.Member, nodes []string, tags map[string]string) []string {
	res := make(map[string]*regexp.Regexp, len(tags))
	for k, expr := range tags {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil
		}
		res[k] = re
	}
	var out []string
next:
	for _, m := range members {
		if len(nodes) > 0 && !slices.Contains(nodes, m.Name) {
			continue
		}
		for k, re := range res {
			if !re.MatchString(m.Tags[k]) {
				continue next
			}
		}
		out = append(out, m.Name)
	}
	return out
}

// queryResults gathers what a query brings back. In text form every ack
// and response is printed as it arrives and the totals at the end; in JSON
// form nothing appears until the end, when one document goes out:
// {"Acks": [...] or null, "Responses": {node: payload}}, plus, with
// -wait-all, "NotAcked" and "NotResponded" (sorted lists, never null).
type queryResults struct {
	ui    cli.Ui
	name  string
	json  bool
	noAck bool

	Acks      []string
	Responses map[string]string
	answers   int // responses received, counting repeats from one node

	// With -wait-all: which of the selected nodes are still
	// to ack (unless noAck) or respond.
	waitAll               bool
	ackWanted, respWanted map[string]bool
}

// expect turns on -wait-all for the given selected nodes.
func (q *queryResults) expect(nodes []string) {
	q.waitAll = true
	q.ackWanted = make(map[string]bool, len(nodes))
	q.respWanted = make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if !q.noAck {
			q.ackWanted[n] = true
		}
		q.respWanted[n] = true
	}
}

// complete reports whether -wait-all has everything it waits for.
func (q *queryResults) complete() bool {
	return q.waitAll && len(q.ackWanted) == 0 && len(q.respWanted) == 0
}

func (q *queryResults) started() {
	if !q.json {
		q.ui.Output(fmt.Sprintf("Query '%s' dispatched", q.name))
	}
}

func (q *queryResults) ack(from string) {
	q.Acks = append(q.Acks, from)
	delete(q.ackWanted, from)
	if !q.json {
		q.ui.Info(fmt.Sprintf("Ack from '%s'", from))
	}
}

func (q *queryResults) response(r client.NodeResponse) {
	q.answers++
	q.Responses[r.From] = string(r.Payload)
	delete(q.respWanted, r.From)
	if !q.json {
		// One trailing newline (a handler's echo) is not shown.
		shown := bytes.TrimSuffix(r.Payload, []byte{'\n'})
		q.ui.Info(fmt.Sprintf("Response from '%s': %s", r.From, shown))
	}
}

// missing returns the sorted names left in a wanted set, never nil.
func missing(wanted map[string]bool) []string {
	out := make([]string, 0, len(wanted))
	for n := range wanted {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// finished prints the totals or the JSON document; the error means the
// document could not be encoded (and was reported).
func (q *queryResults) finished() error {
	if q.json {
		var doc textual = queryDoc{Acks: q.Acks, Responses: q.Responses}
		if q.waitAll {
			doc = waitAllDoc{Acks: q.Acks, Responses: q.Responses,
				NotAcked: missing(q.ackWanted), NotResponded: missing(q.respWanted)}
		}
		if printResult(q.ui, doc, "json") != 0 {
			return errors.New("encoding failed")
		}
		return nil
	}
	if !q.noAck {
		q.ui.Output(fmt.Sprintf("Total Acks: %d", len(q.Acks)))
	}
	q.ui.Output(fmt.Sprintf("Total Responses: %d", q.answers))
	if q.waitAll {
		q.reportMissing()
	}
	return nil
}

// reportMissing prints, for -wait-all, the selected nodes that did not
// answer: those that never acked, and those that acked but sent no
// response (with -no-ack: those that sent no response). Nothing is printed
// for a category that is empty.
func (q *queryResults) reportMissing() {
	list := func(label string, names []string) {
		if len(names) > 0 {
			q.ui.Output(fmt.Sprintf("%s: %s", label, strings.Join(names, ", ")))
		}
	}
	if q.noAck {
		list("Nodes that did not respond", missing(q.respWanted))
		return
	}
	var ackedOnly []string
	for _, n := range missing(q.respWanted) {
		if !q.ackWanted[n] {
			ackedOnly = append(ackedOnly, n)
		}
	}
	list("Nodes that did not acknowledge", missing(q.ackWanted))
	list("Nodes that acknowledged but did not respond", ackedOnly)
}

// queryDoc is the JSON document Serf prints.
type queryDoc struct {
	Acks      []string
	Responses map[string]string
}

// waitAllDoc is queryDoc plus who did not answer (-wait-all only).
type waitAllDoc struct {
	Acks         []string
	Responses    map[string]string
	NotAcked     []string
	NotResponded []string
}

// Text is never used (JSON is the only document form) but lets the
// documents go through formatOutput.
func (queryDoc) Text() string   { return "" }
func (waitAllDoc) Text() string { return "" }
