package agent

import (
	"crypto/subtle"
	"errors"
	"fmt"
	metrics "github.com/hashicorp/go-metrics"
	"regexp"
	"strings"
	"time"

	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
)

// handle runs one request. A returned error closes the connection (after
// being logged); protocol-level refusals are replies, not errors, except
// where Serf closes the connection.
func (c *rpcConn) handle(h *client.RequestHeader) error {
	cmd, seq := h.Command, h.Seq

	if cmd != client.HandshakeCommand && c.version == 0 {
		_ = c.reply(seq, errors.New(client.ErrHandshakeRequired), nil)
		return errors.New(client.ErrHandshakeRequired)
	}
	metrics.IncrCounterWithLabels([]string{"agent", "ipc", "command"}, 1, nil)
	if c.srv.opts.AuthKey != "" && !c.didAuth && cmd != client.AuthCommand && cmd != client.HandshakeCommand {
		// The body is deliberately left unread, as Serf does: a client
		// that sent one will see it parsed as the next header.
		c.srv.logger.Printf("[WARN] agent.ipc: Client sending commands before auth")
		return c.reply(seq, errors.New(client.ErrAuthRequired), nil)
	}

	switch cmd {
	case client.HandshakeCommand:
		return c.handleHandshake(seq)
	case client.AuthCommand:
		return c.handleAuth(seq)
	case client.EventCommand:
		return c.handleEvent(seq)
	case client.MembersCommand, client.MembersFilteredCommand:
		return c.handleMembers(cmd, seq)
	case client.StreamCommand:
		return c.handleStream(seq)
	case client.MonitorCommand:
		return c.handleMonitor(seq)
	case client.StopCommand:
		return c.handleStop(seq)
	case client.ForceLeaveCommand:
		return c.handleForceLeave(seq)
	case client.JoinCommand:
		return c.handleJoin(seq)
	case client.LeaveCommand:
		return c.handleLeave(seq)
	case client.InstallKeyCommand, client.UseKeyCommand, client.RemoveKeyCommand, client.ListKeysCommand:
		return c.handleKey(cmd, seq)
	case client.TagsCommand:
		return c.handleTags(seq)
	case client.QueryCommand:
		return c.handleQuery(seq)
	case client.RespondCommand:
		return c.handleRespond(seq)
	case client.StatsCommand:
		return c.reply(seq, nil, c.srv.agent.Stats())
	case client.GetCoordinateCommand:
		return c.handleGetCoordinate(seq)
	default:
		_ = c.reply(seq, errors.New(client.ErrUnsupportedCommand), nil)
		return fmt.Errorf("command '%s' not recognized", cmd)
	}
}

func (c *rpcConn) handleHandshake(seq uint64) error {
	var req client.HandshakeRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	var err error
	switch {
	case req.Version != client.IPCVersion:
		err = errors.New(client.ErrUnsupportedIPCVer)
	case c.version != 0:
		err = errors.New(client.ErrDuplicateHandshake)
	default:
		c.version = req.Version
		if c.srv.opts.AuthKey == "" {
			c.establish()
		}
	}
	return c.reply(seq, err, nil)
}

func (c *rpcConn) handleAuth(seq uint64) error {
	var req client.AuthRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(req.AuthKey), []byte(c.srv.opts.AuthKey)) != 1 {
		// Failures are logged, answered only after a pause, and limited
		// per connection; the reply is Serf's either way.
		c.authFailures++
		c.srv.logger.Printf("[WARN] agent.ipc: Failed authentication attempt from %v", c.name)
		if !c.srv.sleep(c.srv.opts.AuthFailureDelay) {
			return errServerStopping
		}
		if err := c.reply(seq, errors.New(client.ErrInvalidAuthToken), nil); err != nil {
			return err
		}
		if c.authFailures >= c.srv.opts.MaxAuthFailures {
			return fmt.Errorf("%d failed authentication attempts from %v", c.authFailures, c.name)
		}
		return nil
	}
	c.didAuth = true
	c.establish()
	return c.reply(seq, nil, nil)
}

func (c *rpcConn) handleEvent(seq uint64) error {
	var req client.EventRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	return c.reply(seq, c.srv.agent.UserEvent(req.Name, req.Payload, req.Coalesce), nil)
}

func (c *rpcConn) handleForceLeave(seq uint64) error {
	var req client.ForceLeaveRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	var err error
	if req.Prune {
		err = c.srv.agent.ForceLeavePrune(req.Node)
	} else {
		err = c.srv.agent.ForceLeave(req.Node)
	}
	return c.reply(seq, err, nil)
}

func (c *rpcConn) handleJoin(seq uint64) error {
	var req client.JoinRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	var n int
	var err error
	if !c.srv.abandonable(func() { n, err = c.srv.agent.Join(req.Existing, req.Replay) }) {
		return errServerStopping
	}
	return c.reply(seq, err, &client.JoinResponse{Num: int32(n)})
}

func (c *rpcConn) handleMembers(cmd string, seq uint64) error {
	members := c.srv.agent.Serf().Members()
	if cmd == client.MembersFilteredCommand {
		var req client.MembersFilteredRequest
		if err := c.decodeBody(&req); err != nil {
			return err
		}
		var err error
		if members, err = filterMembers(members, req.Tags, req.Status, req.Name); err != nil {
			return err
		}
	}
	out := make([]client.Member, 0, len(members))
	for _, m := range members {
		out = append(out, rpcMember(m))
	}
	return c.reply(seq, nil, &client.MembersResponse{Members: out})
}

// anchored compiles expr so it must match the whole value.
func anchored(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("^" + expr + "$")
	if err != nil {
		return nil, fmt.Errorf("Failed to compile regex: %v", err)
	}
	return re, nil
}

// filterMembers keeps members whose tags, status and name match the given
// anchored regular expressions ("" status/name = no filter; a missing tag
// is matched as "").
func filterMembers(members []serf.Member, tags map[string]string, status, name string) ([]serf.Member, error) {
	tagRes := make(map[string]*regexp.Regexp, len(tags))
	for k, expr := range tags {
		re, err := anchored(expr)
		if err != nil {
			return nil, err
		}
		tagRes[k] = re
	}
	statusRe, err := anchored(status)
	if err != nil {
		return nil, err
	}
	nameRe, err := anchored(name)
	if err != nil {
		return nil, err
	}
	out := make([]serf.Member, 0, len(members))
next:
	for _, m := range members {
		for k, re := range tagRes {
			if !re.MatchString(m.Tags[k]) {
				continue next
			}
		}
		if status != "" && !statusRe.MatchString(m.Status.String()) {
			continue
		}
		if name != "" && !nameRe.MatchString(m.Name) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// rpcMember converts a Serf member to its RPC record (Tags never nil).
func rpcMember(m serf.Member) client.Member {
	tags := m.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return client.Member{
		Name:        m.Name,
		Addr:        m.Addr,
		Port:        m.Port,
		Tags:        tags,
		Status:      m.Status.String(),
		ProtocolMin: m.ProtocolMin,
		ProtocolMax: m.ProtocolMax,
		ProtocolCur: m.ProtocolCur,
		DelegateMin: m.DelegateMin,
		DelegateMax: m.DelegateMax,
		DelegateCur: m.DelegateCur,
	}
}

func (c *rpcConn) handleLeave(seq uint64) error {
	c.srv.logger.Printf("[INFO] agent.ipc: Graceful leave triggered")
	err := c.srv.agent.Leave()
	if err != nil {
		c.srv.logger.Printf("[ERR] agent.ipc: leave failed: %v", err)
	}
	sendErr := c.reply(seq, err, nil)
	if err := c.srv.agent.Shutdown(); err != nil {
		c.srv.logger.Printf("[ERR] agent.ipc: shutdown failed: %v", err)
	}
	return sendErr
}

func (c *rpcConn) handleKey(cmd string, seq uint64) error {
	var req client.KeyRequest
	if cmd != client.ListKeysCommand {
		if err := c.decodeBody(&req); err != nil {
			return err
		}
	}
	a := c.srv.agent
	var (
		resp *serf.KeyResponse
		err  error
	)
	// Key operations wait for the cluster's answers (a query timeout).
	stopped := !c.srv.abandonable(func() {
		switch cmd {
		case client.InstallKeyCommand:
			resp, err = a.InstallKey(req.Key)
		case client.UseKeyCommand:
			resp, err = a.UseKey(req.Key)
		case client.RemoveKeyCommand:
			resp, err = a.RemoveKey(req.Key)
		default:
			resp, err = a.ListKeys()
		}
	})
	if stopped {
		return errServerStopping
	}
	// The client always reads a body for key commands, error or not.
	body := client.KeyResponse{Messages: map[string]string{}}
	if resp != nil {
		if resp.Messages != nil {
			body.Messages = resp.Messages
		}
		body.NumNodes, body.NumErr, body.NumResp = resp.NumNodes, resp.NumErr, resp.NumResp
		if cmd == client.ListKeysCommand {
			body.Keys = resp.Keys
		}
	}
	return c.reply(seq, err, &body)
}

func (c *rpcConn) handleTags(seq uint64) error {
	var req client.TagsRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	return c.reply(seq, c.srv.agent.UpdateTags(req.Tags, req.DeleteTags), nil)
}

func (c *rpcConn) handleStream(seq uint64) error {
	var req client.StreamRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	filters := ParseEventFilter(req.Type)
	for _, f := range filters {
		if !f.Valid() {
			return c.reply(seq, errors.New(client.ErrInvalidFilter), nil)
		}
	}
	if _, ok := c.streams[seq]; ok {
		return c.reply(seq, errors.New(client.ErrStreamExists), nil)
	}
	if len(c.streams) >= c.srv.opts.MaxStreamsPerConn {
		return c.reply(seq, fmt.Errorf(errTooManyStreamsFmt, c.srv.opts.MaxStreamsPerConn), nil)
	}
	es := newEventStream(c, filters, seq)
	c.streams[seq] = es
	c.addStreams(1)
	// Register before acknowledging so that every event after the ack
	// reaches the client; the sender holds records until the ack is out.
	c.srv.agent.RegisterEventHandler(es)
	err := c.reply(seq, nil, nil)
	close(es.ready)
	return err
}

func (c *rpcConn) handleMonitor(seq uint64) error {
	var req client.MonitorRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	level := strings.ToUpper(req.LogLevel)
	if !ValidLogLevel(level) {
		return c.reply(seq, fmt.Errorf(client.ErrUnknownLogLevelFmt, level), nil)
	}
	if c.monitor != nil {
		return c.reply(seq, errors.New(client.ErrMonitorExists), nil)
	}
	ls := newLogStream(c, level, seq)
	c.monitor = ls
	c.addStreams(1)
	c.srv.logs.RegisterHandler(ls)
	err := c.reply(seq, nil, nil)
	close(ls.ready)
	return err
}

func (c *rpcConn) handleStop(seq uint64) error {
	var req client.StopRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	if c.monitor != nil && c.monitor.seq == req.Stop {
		c.srv.logs.DeregisterHandler(c.monitor)
		c.monitor.stop()
		c.monitor = nil
		c.addStreams(-1)
	}
	if es, ok := c.streams[req.Stop]; ok {
		c.srv.agent.DeregisterEventHandler(es)
		es.stop()
		delete(c.streams, req.Stop)
		c.addStreams(-1)
	}
	return c.reply(seq, nil, nil)
}

func (c *rpcConn) handleQuery(seq uint64) error {
	var req client.QueryRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	params := &serf.QueryParam{
		FilterNodes: req.FilterNodes,
		FilterTags:  req.FilterTags,
		RequestAck:  req.RequestAck,
		RelayFactor: req.RelayFactor,
		Timeout:     time.Duration(req.Timeout),
	}
	if !c.startQuery() {
		return c.reply(seq, fmt.Errorf(errTooManyQueriesFmt, c.srv.opts.MaxQueriesPerConn), nil)
	}
	resp, err := c.srv.agent.Query(req.Name, req.Payload, params)
	sendErr := c.reply(seq, err, nil)
	if err != nil || resp == nil {
		c.endQuery()
		return sendErr
	}
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		defer c.endQuery()
		c.streamQuery(seq, resp)
	}()
	return sendErr
}

// errServerStopping ends a connection quietly during Shutdown.
var errServerStopping = errors.New("RPC server shutting down")

// Replies to requests beyond a per-connection cap (our own texts: real
// Serf has no such caps).
const (
	errTooManyStreamsFmt = "Too many streams on this connection (limit %d)"
	errTooManyQueriesFmt = "Too many queries in flight on this connection (limit %d)"
)

// startQuery reserves an in-flight query slot; false if all are taken.
func (c *rpcConn) startQuery() bool {
	c.queryMu.Lock()
	defer c.queryMu.Unlock()
	if c.inflight >= c.srv.opts.MaxQueriesPerConn {
		return false
	}
	c.inflight++
	return true
}

// endQuery releases a slot and, if that left the connection idle, starts
// its idle clock.
func (c *rpcConn) endQuery() {
	c.queryMu.Lock()
	c.inflight--
	c.queryMu.Unlock()
	c.armIdle()
}

func (c *rpcConn) handleRespond(seq uint64) error {
	var req client.RespondRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	q, ok := c.pendingQuery(req.ID)
	if !ok {
		return c.reply(seq, errors.New(client.ErrInvalidQueryID), nil)
	}
	return c.reply(seq, q.Respond(req.Payload), nil)
}

func (c *rpcConn) handleGetCoordinate(seq uint64) error {
	var req client.CoordinateRequest
	if err := c.decodeBody(&req); err != nil {
		return err
	}
	var resp client.CoordinateResponse
	if coord, ok := c.srv.agent.Serf().GetCachedCoordinate(req.Node); ok && coord != nil {
		resp.Ok = true
		resp.Coord = client.Coordinate{
			Vec:        coord.Vec,
			Error:      coord.Error,
			Adjustment: coord.Adjustment,
			Height:     coord.Height,
		}
	}
	return c.reply(seq, nil, &resp)
}
