package agent

import (
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/internal/atomicfile"
	"github.com/serf-clone/serf/serf"
)

// eventChanLen is the buffer between Serf and the event loop. The loop
// never blocks on a handler, so this only absorbs bursts.
const eventChanLen = 256

// Agent wraps one *serf.Serf with what a long-running process needs: tag
// and keyring files, handler scripts, an event loop feeding handlers and RPC
// streams, and a logger shared with Serf and memberlist.
//
// Lifecycle: Create (reads files, builds config) -> Start (creates Serf and
// the event loop) -> Leave (optional) -> Shutdown (idempotent).
type Agent struct {
	conf     *Config
	serfConf *serf.Config
	logger   *log.Logger
	eventCh  chan serf.Event
	serf     *serf.Serf
	scripts  *ScriptHandler
	mdns     *MDNS // set by StartMDNS, stopped by Shutdown

	handlersMu sync.Mutex
	handlers   []EventHandler // copy-on-write

	tagsMu   sync.Mutex        // serializes tag changes (serf, then the file)
	tagsFile atomicfile.Writer // rewrites of conf.TagsFile

	shutdownMu sync.Mutex
	stopping   atomic.Bool // set as soon as Shutdown begins
	shutdown   bool
	shutdownCh chan struct{}
	drainCh    chan struct{}      // closed once Serf has stopped: drain, then end the loop
	syncCh     chan chan struct{} // asks the loop to deliver what is queued now
	loopDone   chan struct{}
}

// Create prepares an agent without starting Serf. serfConf is normally
// agentConf.SerfConfig(), possibly adjusted by the caller (tests use other
// transports or faster timers); the agent owns it from here on. Create
// loads the tags file and the keyring file named in agentConf into it,
// points Serf's and memberlist's logs at logOutput and gives Serf the
// agent's event channel. Nothing writes to serfConf once Start has handed
// it to Serf.
func Create(agentConf *Config, serfConf *serf.Config, logOutput io.Writer) (*Agent, error) {
	if logOutput == nil {
		logOutput = os.Stderr
	}
	a := &Agent{
		conf:       agentConf,
		serfConf:   serfConf,
		logger:     log.New(logOutput, "", log.LstdFlags),
		eventCh:    make(chan serf.Event, eventChanLen),
		shutdownCh: make(chan struct{}),
		drainCh:    make(chan struct{}),
		syncCh:     make(chan chan struct{}),
		loopDone:   make(chan struct{}),
	}
	// Serf, memberlist and the agent share one log; Serf feeds our loop.
	serfConf.Logger = a.logger
	serfConf.EventCh = a.eventCh
	if ml := serfConf.MemberlistConfig; ml != nil {
		ml.LogOutput, ml.Logger = logOutput, nil
	}

	files := []struct {
		path string
		load func(string) error
	}{
		{agentConf.TagsFile, a.loadTagsFile},
		{agentConf.KeyringFile, a.loadKeyringFile},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if err := f.load(f.path); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Start creates Serf, the handler-script worker and the event loop.
func (a *Agent) Start() error {
	a.logger.Printf("[INFO] agent: Serf agent starting")
	s, err := serf.Create(a.serfConf)
	if err != nil {
		return fmt.Errorf("Error creating Serf: %s", err)
	}
	a.serfConf = nil // Serf's from here on: live state (tags, keys) is asked of Serf
	a.shutdownMu.Lock()
	a.serf = s
	a.scripts = NewScriptHandlerWithOptions(s.LocalMember, a.conf.EventScripts(), a.logger,
		ScriptOptions{Timeout: a.conf.EventHandlerTimeout})
	a.shutdownMu.Unlock()
	go a.eventLoop(s)
	return nil
}

// Serf returns the wrapped Serf (nil before Start).
func (a *Agent) Serf() *serf.Serf { return a.serf }

// Config returns the agent configuration.
func (a *Agent) Config() *Config { return a.conf }

// Logger is the agent's logger (shared with Serf).
func (a *Agent) Logger() *log.Logger { return a.logger }

// ShutdownCh is closed once Shutdown has completed.
func (a *Agent) ShutdownCh() <-chan struct{} { return a.shutdownCh }

// Leave asks Serf to leave the cluster gracefully.
func (a *Agent) Leave() error {
	if a.serf == nil {
		return nil
	}
	a.logger.Println("[INFO] agent: requesting graceful leave from Serf")
	err := a.serf.Leave()
	// Serf hands over its held events (our own member-leave among them)
	// before Leave returns; see them through the event loop before the
	// caller moves on to Shutdown, so handlers get them and the log reads
	// as Serf v0.10.2's.
	a.syncEvents()
	return err
}

// syncEvents returns once the event loop has delivered every event queued
// when it was called (or the loop has ended).
func (a *Agent) syncEvents() {
	reply := make(chan struct{})
	select {
	case a.syncCh <- reply:
	case <-a.loopDone:
		return
	}
	select {
	case <-reply:
	case <-a.loopDone:
	}
}

// Shutdown stops mDNS discovery, Serf, the handler scripts (killing a
// running one) and the event loop. It is idempotent and safe from any
// goroutine.
func (a *Agent) Shutdown() error {
	a.shutdownMu.Lock()
	m := a.mdns
	a.shutdownMu.Unlock()
	if m != nil {
		m.Shutdown()
	}
	return a.shutdownFrom(false)
}

func (a *Agent) shutdownFrom(inLoop bool) error {
	a.shutdownMu.Lock()
	if a.shutdown {
		a.shutdownMu.Unlock()
		return nil
	}
	a.stopping.Store(true)
	started := a.serf != nil
	if started {
		a.logger.Println("[INFO] agent: requesting serf shutdown")
		if err := a.serf.Shutdown(); err != nil {
			a.shutdownMu.Unlock()
			return err
		}
	}
	a.shutdown = true
	a.shutdownMu.Unlock()

	// serf.Shutdown returns only after its coalescers have flushed what they
	// held (e.g. the member-leave of a graceful leave) into eventCh. Deliver
	// those before declaring the shutdown complete, as Serf v0.10.2's logs
	// read. The lock is not held here: the loop may itself be waiting for it.
	if started {
		if inLoop {
			a.drainEvents()
		} else {
			close(a.drainCh)
			<-a.loopDone
		}
	}
	if a.scripts != nil {
		a.scripts.Stop()
	}
	a.logger.Println("[INFO] agent: shutdown complete")
	close(a.shutdownCh)
	return nil
}

// RegisterEventHandler adds h to the handlers fed by the event loop.
func (a *Agent) RegisterEventHandler(h EventHandler) {
	a.handlersMu.Lock()
	defer a.handlersMu.Unlock()
	for _, x := range a.handlers {
		if x == h {
			return
		}
	}
	next := make([]EventHandler, 0, len(a.handlers)+1)
	next = append(next, a.handlers...)
	a.handlers = append(next, h)
}

// DeregisterEventHandler removes h.
func (a *Agent) DeregisterEventHandler(h EventHandler) {
	a.handlersMu.Lock()
	defer a.handlersMu.Unlock()
	next := make([]EventHandler, 0, len(a.handlers))
	for _, x := range a.handlers {
		if x != h {
			next = append(next, x)
		}
	}
	a.handlers = next
}

// UpdateEventScripts replaces the handler scripts (SIGHUP reload); the
// change applies from the next event.
func (a *Agent) UpdateEventScripts(scripts []EventScript) {
	if a.scripts != nil {
		a.scripts.UpdateScripts(scripts)
	}
}

// EventScripts returns the handler scripts in effect.
func (a *Agent) EventScripts() []EventScript {
	if a.scripts != nil {
		return a.scripts.Scripts()
	}
	return a.conf.EventScripts()
}

// eventLoop logs every event and hands it to the scripts and to every
// registered handler (RPC streams). Handlers never block, so Serf's event
// channel is always drained.
func (a *Agent) eventLoop(s *serf.Serf) {
	defer close(a.loopDone)
	serfDown := s.ShutdownCh()
	for {
		select {
		case e := <-a.eventCh:
			a.deliver(e)
		case <-serfDown:
			serfDown = nil
			// Only news when Serf stopped on its own (e.g. name conflict).
			// During our own Shutdown keep draining the channel until Serf
			// has fully stopped, so Serf can never block on a send to us.
			if !a.stopping.Load() {
				a.logger.Printf("[WARN] agent: Serf shutdown detected, quitting")
				_ = a.shutdownFrom(true)
				// If a concurrent Shutdown won the race, it is waiting for
				// this loop and has not drained.
				a.drainEvents()
				return
			}
		case reply := <-a.syncCh:
			a.drainEvents()
			close(reply)
		case <-a.drainCh:
			a.drainEvents()
			return
		}
	}
}

// drainEvents delivers what is already queued in eventCh. Called once Serf
// has stopped, so nothing more can arrive.
func (a *Agent) drainEvents() {
	for {
		select {
		case e := <-a.eventCh:
			a.deliver(e)
		default:
			return
		}
	}
}

// deliver logs e and hands it to the scripts and the registered handlers.
func (a *Agent) deliver(e serf.Event) {
	a.logger.Printf("[INFO] agent: Received event: %s", e.String())
	a.scripts.HandleEvent(e)
	a.handlersMu.Lock()
	hs := a.handlers
	a.handlersMu.Unlock()
	for _, h := range hs {
		h.HandleEvent(e)
	}
}

// logged runs call, announcing it first with the given line and logging
// its error, if any, as a warning prefixed with failed.
func (a *Agent) logged(announce, failed string, call func() error) error {
	a.logger.Print(announce)
	err := call()
	if err != nil {
		a.logger.Printf("[WARN] agent: %s: %v", failed, err)
	}
	return err
}

// Join joins the cluster through the given addresses; replay=false ignores
// user events older than the join.
func (a *Agent) Join(addrs []string, replay bool) (int, error) {
	var n int
	err := a.logged(fmt.Sprintf("[INFO] agent: joining: %v replay: %v", addrs, replay), "error joining",
		func() (err error) {
			resolved, err := a.resolveJoinAddrs(addrs)
			if err != nil {
				return err
			}
			n, err = a.serf.Join(resolved, !replay)
			if n > 0 {
				a.logger.Printf("[INFO] agent: joined: %d nodes", n)
			}
			return err
		})
	return n, err
}

// ForceLeave moves a failed node to the left state.
func (a *Agent) ForceLeave(node string) error {
	return a.logged("[INFO] agent: Force leaving node: "+node, "failed to remove node",
		func() error { return a.serf.RemoveFailedNode(node) })
}

// ForceLeavePrune also erases the node from the member list.
func (a *Agent) ForceLeavePrune(node string) error {
	return a.logged("[INFO] agent: Force leaving node (prune): "+node, "failed to remove node (prune)",
		func() error { return a.serf.RemoveFailedNodePrune(node) })
}

// UserEvent broadcasts a user event.
func (a *Agent) UserEvent(name string, payload []byte, coalesce bool) error {
	announce := fmt.Sprintf("[DEBUG] agent: Requesting user event send: %s. Coalesced: %#v. Payload: %#v",
		name, coalesce, string(payload))
	return a.logged(announce, "failed to send user event",
		func() error { return a.serf.UserEvent(name, payload, coalesce) })
}

// PingQueryName is the full name of Serf's ping query, the one internal
// query users may send (`serf reachability` does). It is defined here, from
// Serf's parts, because the agent is what enforces the rule and because the
// command package reaches Serf's facts only through the agent.
const PingQueryName = serf.InternalQueryPrefix + serf.PingQuery

// userMaySend reports whether a query may be started on a user's behalf.
// Serf answers "_serf_" queries itself, so users may not forge them; the one
// exception is a payload-less ping, which `serf reachability` relies on.
func userMaySend(name string, payload []byte) bool {
	if !strings.HasPrefix(name, serf.InternalQueryPrefix) {
		return true
	}
	return name == PingQueryName && payload == nil
}

// Query starts a query. Names with Serf's internal prefix are refused,
// except PingQueryName without a payload.
func (a *Agent) Query(name string, payload []byte, params *serf.QueryParam) (*serf.QueryResponse, error) {
	if !userMaySend(name, payload) {
		return nil, errors.New(client.ErrInternalQueryPrefix)
	}
	var resp *serf.QueryResponse
	err := a.logged(fmt.Sprintf("[DEBUG] agent: Requesting query send: %s. Payload: %#v", name, string(payload)),
		"failed to start user query",
		func() (err error) {
			resp, err = a.serf.Query(name, payload, params)
			return err
		})
	return resp, err
}

// SetTags replaces the local tags and gossips the change; the tags file
// (if any) is written once Serf has accepted them.
func (a *Agent) SetTags(tags map[string]string) error {
	a.tagsMu.Lock()
	defer a.tagsMu.Unlock()
	return a.setTagsLocked(tags)
}

// UpdateTags applies a tags RPC: current tags minus del, then plus set.
func (a *Agent) UpdateTags(set map[string]string, del []string) error {
	a.tagsMu.Lock()
	defer a.tagsMu.Unlock()
	tags := make(map[string]string)
	for k, v := range a.serf.LocalMember().Tags {
		tags[k] = v
	}
	for _, k := range del {
		delete(tags, k)
	}
	for k, v := range set {
		tags[k] = v
	}
	return a.setTagsLocked(tags)
}

// setTagsLocked hands tags to Serf first, which refuses tags whose
// encoding exceeds memberlist's metadata limit without changing anything,
// and writes the tags file only for tags Serf took: a refused change must
// not reach the file, or the next start would fail on it. If the file
// cannot be written the previous tags are put back, so file and live tags
// agree either way.
func (a *Agent) setTagsLocked(tags map[string]string) error {
	old := a.serf.LocalMember().Tags
	err := a.serf.SetTags(tags)
	if !maps.Equal(a.serf.LocalMember().Tags, tags) {
		return err // refused: nothing changed
	}
	if a.conf.TagsFile != "" {
		if ferr := a.writeTagsFile(tags); ferr != nil {
			a.logger.Printf("[ERR] agent: %s", ferr)
			_ = a.serf.SetTags(old)
			return ferr
		}
	}
	// An error here is from gossiping the accepted tags (e.g. a broadcast
	// timeout); they are live and persisted all the same.
	return err
}

// InstallKey asks every member to add key to its keyring.
func (a *Agent) InstallKey(key string) (*serf.KeyResponse, error) {
	a.logger.Print("[INFO] agent: Initiating key installation")
	return a.serf.KeyManager().InstallKey(key)
}

// UseKey asks every member to make key its primary key.
func (a *Agent) UseKey(key string) (*serf.KeyResponse, error) {
	a.logger.Print("[INFO] agent: Initiating primary key change")
	return a.serf.KeyManager().UseKey(key)
}

// RemoveKey asks every member to drop key.
func (a *Agent) RemoveKey(key string) (*serf.KeyResponse, error) {
	a.logger.Print("[INFO] agent: Initiating key removal")
	return a.serf.KeyManager().RemoveKey(key)
}

// ListKeys asks every member for its keys.
func (a *Agent) ListKeys() (*serf.KeyResponse, error) {
	a.logger.Print("[INFO] agent: Initiating key listing")
	return a.serf.KeyManager().ListKeys()
}
