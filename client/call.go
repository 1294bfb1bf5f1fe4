package client

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/serf/coordinate"
)

// callHandler waits for the single reply to a plain request.
type callHandler struct {
	// out receives the reply body; nil when the command has none.
	out  interface{}
	once sync.Once
	done chan error // buffered: the reader never blocks on it
}

func newCallHandler(out interface{}) *callHandler {
	return &callHandler{out: out, done: make(chan error, 1)}
}

func (h *callHandler) finish(err error) {
	h.once.Do(func() { h.done <- err })
}

func (h *callHandler) handle(hdr *ResponseHeader, dec *codec.Decoder) (bool, error) {
	// The agent refuses unauthenticated requests without reading their
	// body and answers without one; every other reply to a command that
	// has a response body carries it, even alongside an error.
	if h.out != nil && hdr.Error != ErrAuthRequired {
		if err := dec.Decode(h.out); err != nil {
			return true, err
		}
	}
	h.finish(errorFromString(hdr.Error))
	return true, nil
}

func (h *callHandler) abort(err error) { h.finish(err) }

// call sends one request and waits for its reply, decoding the reply body
// into out when out is not nil.
func (c *RPCClient) call(command string, body, out interface{}) error {
	return c.callWithin(0, command, body, out)
}

// callWithin is call with a bound on the wait for the reply; 0 means no
// bound. When it expires the connection is closed, since a late reply
// could no longer be matched safely.
func (c *RPCClient) callWithin(limit time.Duration, command string, body, out interface{}) error {
	seq := c.nextSeq()
	h := newCallHandler(out)
	if err := c.register(seq, h); err != nil {
		return err
	}
	if err := c.send(command, seq, body); err != nil {
		c.unregister(seq)
		return err
	}
	if limit <= 0 {
		return <-h.done
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-h.done:
		return err
	case <-timer.C:
		c.Close()
		return fmt.Errorf("no reply to %s within %v", command, limit)
	}
}

// Members returns every member the agent knows, whatever its status.
func (c *RPCClient) Members() ([]Member, error) {
	var resp MembersResponse
	err := c.call(MembersCommand, nil, &resp)
	return resp.Members, err
}

// MembersFiltered returns the members whose tags, status and name match the
// given regular expressions (anchored by the agent). Empty status or name
// means no filter on that field.
func (c *RPCClient) MembersFiltered(tags map[string]string, status, name string) ([]Member, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	req := MembersFilteredRequest{Tags: tags, Status: status, Name: name}
	var resp MembersResponse
	err := c.call(MembersFilteredCommand, &req, &resp)
	return resp.Members, err
}

// Join asks the agent to join the cluster through addrs and returns how many
// of them it reached. replay=false ignores user events from before the join.
func (c *RPCClient) Join(addrs []string, replay bool) (int, error) {
	var resp JoinResponse
	err := c.call(JoinCommand, &JoinRequest{Existing: addrs, Replay: replay}, &resp)
	return int(resp.Num), err
}

// Leave makes the agent leave the cluster gracefully and shut down.
func (c *RPCClient) Leave() error {
	return c.call(LeaveCommand, nil, nil)
}

// ForceLeave moves a failed node to the left state.
func (c *RPCClient) ForceLeave(node string) error {
	return c.call(ForceLeaveCommand, &ForceLeaveRequest{Node: node}, nil)
}

// ForceLeavePrune is ForceLeave that also removes the node from the member
// list at once.
func (c *RPCClient) ForceLeavePrune(node string) error {
	return c.call(ForceLeaveCommand, &ForceLeaveRequest{Node: node, Prune: true}, nil)
}

// UserEvent broadcasts a user event.
func (c *RPCClient) UserEvent(name string, payload []byte, coalesce bool) error {
	return c.call(EventCommand, &EventRequest{Name: name, Payload: payload, Coalesce: coalesce}, nil)
}

// UpdateTags sets tags and then deletes the keys in deleteTags on the agent.
func (c *RPCClient) UpdateTags(tags map[string]string, deleteTags []string) error {
	return c.call(TagsCommand, &TagsRequest{Tags: tags, DeleteTags: deleteTags}, nil)
}

// Respond answers the query that arrived on this connection's event stream
// with the given ID.
func (c *RPCClient) Respond(id uint64, payload []byte) error {
	return c.call(RespondCommand, &RespondRequest{ID: id, Payload: payload}, nil)
}

// Stats returns the agent's debugging information, section by section.
func (c *RPCClient) Stats() (map[string]map[string]string, error) {
	var resp map[string]map[string]string
	err := c.call(StatsCommand, nil, &resp)
	return resp, err
}

// GetCoordinate returns the agent's cached network coordinate for node, or
// nil (and no error) when it has none. The type is serf/coordinate's, as in
// upstream's client; Distance compares two of them safely.
func (c *RPCClient) GetCoordinate(node string) (*coordinate.Coordinate, error) {
	var resp CoordinateResponse
	if err := c.call(GetCoordinateCommand, &CoordinateRequest{Node: node}, &resp); err != nil {
		return nil, err
	}
	if !resp.Ok {
		return nil, nil
	}
	return resp.Coord.vivaldi(), nil
}

// InstallKey installs a base64 key on every member's keyring. The map holds
// the per-node messages the members reported.
func (c *RPCClient) InstallKey(key string) (map[string]string, error) {
	return c.keyCall(InstallKeyCommand, key)
}

// UseKey makes an installed key the primary key on every member.
func (c *RPCClient) UseKey(key string) (map[string]string, error) {
	return c.keyCall(UseKeyCommand, key)
}

// RemoveKey removes a key, which must not be the primary key, from every
// member.
func (c *RPCClient) RemoveKey(key string) (map[string]string, error) {
	return c.keyCall(RemoveKeyCommand, key)
}

// ListKeys asks every member for its keys. It returns how many members hold
// each key, how many members were asked, and per-node messages.
func (c *RPCClient) ListKeys() (map[string]int, int, map[string]string, error) {
	var resp KeyResponse
	err := c.call(ListKeysCommand, nil, &resp)
	return resp.Keys, resp.NumNodes, resp.Messages, err
}

func (c *RPCClient) keyCall(command, key string) (map[string]string, error) {
	var resp KeyResponse
	err := c.call(command, &KeyRequest{Key: key}, &resp)
	return resp.Messages, err
}
