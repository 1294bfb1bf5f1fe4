package agent

import (
	"context"
	"log"
	"sync"

	"github.com/serf-clone/serf/serf"
)

// EventHandler receives every event the agent gets from Serf. HandleEvent is
// called from the agent's single event loop, in event order, and must not
// block: slow work belongs on the handler's own goroutine.
type EventHandler interface {
	HandleEvent(serf.Event)
}

// scriptQueueLen bounds the events waiting for handler scripts. Beyond it
// events are dropped for the scripts (with a warning) rather than letting a
// hung script hold back gossip, RPC streams or memory.
const scriptQueueLen = 1024

// ScriptHandler runs the configured handler scripts.
//
// Serf runs scripts synchronously inside the agent's event loop, so a hung
// script there stalls everything, gossip included. Here the event loop only
// enqueues; one worker goroutine per ScriptHandler runs the scripts, one
// event at a time and in order, exactly as before for the scripts
// themselves. A hung script therefore delays later scripts only; RPC
// streams, queries and gossip keep flowing. Stop kills a running script.
type ScriptHandler struct {
	self   func() serf.Member
	logger *log.Logger

	mu      sync.Mutex
	scripts []EventScript

	queue  chan serf.Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

// NewScriptHandler starts the worker. self reports the local member at
// invocation time (for SERF_SELF_* and SERF_TAG_*).
func NewScriptHandler(self func() serf.Member, scripts []EventScript, logger *log.Logger) *ScriptHandler {
	ctx, cancel := context.WithCancel(context.Background())
	h := &ScriptHandler{
		self:    self,
		logger:  logger,
		scripts: scripts,
		queue:   make(chan serf.Event, scriptQueueLen),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go h.run()
	return h
}

// UpdateScripts replaces the scripts; events not yet started use the new set.
func (h *ScriptHandler) UpdateScripts(scripts []EventScript) {
	h.mu.Lock()
	h.scripts = scripts
	h.mu.Unlock()
}

// Scripts returns the current scripts.
func (h *ScriptHandler) Scripts() []EventScript {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]EventScript(nil), h.scripts...)
}

// HandleEvent queues e for the scripts without blocking.
func (h *ScriptHandler) HandleEvent(e serf.Event) {
	select {
	case <-h.ctx.Done():
		return
	default:
	}
	select {
	case h.queue <- e:
	default:
		h.logger.Printf("[WARN] agent: Event handler queue full, scripts skip event: %s", e.String())
	}
}

// Stop kills a running script, discards queued events and waits for the
// worker to exit. Safe to call more than once.
func (h *ScriptHandler) Stop() {
	h.stop.Do(h.cancel)
	<-h.done
}

func (h *ScriptHandler) run() {
	defer close(h.done)
	for {
		select {
		case <-h.ctx.Done():
			return
		case e := <-h.queue:
			h.invoke(e)
		}
	}
}

func (h *ScriptHandler) invoke(e serf.Event) {
	h.mu.Lock()
	scripts := h.scripts
	h.mu.Unlock()

	var self serf.Member
	haveSelf := false
	for _, s := range scripts {
		if !s.Matches(e) {
			continue
		}
		if h.ctx.Err() != nil {
			return
		}
		if !haveSelf {
			self = h.self()
			haveSelf = true
		}
		if err := runEventScript(h.ctx, h.logger, s.Script, self, e); err != nil {
			h.logger.Printf("[ERR] agent: Error invoking script '%s': %s", s.Script, err)
		}
	}
}
