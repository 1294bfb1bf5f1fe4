package agent

import (
	"context"
	"log"
	"sync"
	"time"

	"github.com/serf-clone/serf/serf"
)

// EventHandler receives every event the agent gets from Serf. HandleEvent is
// called from the agent's single event loop, in event order, and must not
// block: slow work belongs on the handler's own goroutine.
type EventHandler interface {
	HandleEvent(serf.Event)
}

// scriptQueueLen bounds the events waiting for handler scripts, separately
// for member and user events and for queries. Beyond it events are dropped
// for the scripts (with a warning) rather than letting a hung script hold
// back gossip, RPC streams or memory.
const scriptQueueLen = 1024

// DefaultMaxConcurrentQueries is how many query scripts a ScriptHandler runs
// at once when ScriptOptions.MaxConcurrentQueries is not set.
const DefaultMaxConcurrentQueries = 16

// ScriptOptions tunes a ScriptHandler. The zero value is Serf's behaviour
// for timeouts (none) and DefaultMaxConcurrentQueries for queries.
type ScriptOptions struct {
	// Timeout kills a script still running after it (on Unix with its
	// whole process group) and logs the failure. 0 means no limit.
	Timeout time.Duration

	// MaxConcurrentQueries bounds the query events whose scripts run at
	// the same time; further queries wait, up to scriptQueueLen of them.
	// 0 or less means DefaultMaxConcurrentQueries.
	MaxConcurrentQueries int
}

// ScriptHandler runs the configured handler scripts.
//
// Serf runs scripts synchronously inside the agent's event loop, so a hung
// script there stalls everything, gossip included, and a slow script for
// one event delays every later one. Here the event loop only enqueues.
// Member and user events go to one worker goroutine that runs their scripts
// one event at a time, in event order. Queries go to a pool of up to
// MaxConcurrentQueries workers, started as queries arrive and gone when
// there are none, so a slow member-event script does not delay query
// responses and concurrent slow queries run side by side. Stop kills
// running scripts.
type ScriptHandler struct {
	self   func() serf.Member
	logger *log.Logger
	opts   ScriptOptions

	mu      sync.Mutex
	scripts []EventScript

	queue chan serf.Event // member and user events, in order

	qmu      sync.Mutex
	qpending []*serf.Query // queries not yet started
	qworkers int           // query workers running
	stopped  bool

	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
	stop    sync.Once
}

// NewScriptHandler starts a handler with the default ScriptOptions. self
// reports the local member at invocation time (for SERF_SELF_* and
// SERF_TAG_*).
func NewScriptHandler(self func() serf.Member, scripts []EventScript, logger *log.Logger) *ScriptHandler {
	return NewScriptHandlerWithOptions(self, scripts, logger, ScriptOptions{})
}

// NewScriptHandlerWithOptions is NewScriptHandler with opts.
func NewScriptHandlerWithOptions(self func() serf.Member, scripts []EventScript, logger *log.Logger, opts ScriptOptions) *ScriptHandler {
	if opts.MaxConcurrentQueries <= 0 {
		opts.MaxConcurrentQueries = DefaultMaxConcurrentQueries
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &ScriptHandler{
		self:    self,
		logger:  logger,
		opts:    opts,
		scripts: scripts,
		queue:   make(chan serf.Event, scriptQueueLen),
		ctx:     ctx,
		cancel:  cancel,
	}
	h.workers.Add(1)
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
	if h.ctx.Err() != nil {
		return
	}
	if q, ok := e.(*serf.Query); ok {
		h.enqueueQuery(q)
		return
	}
	select {
	case h.queue <- e:
	default:
		h.queueFull(e)
	}
}

func (h *ScriptHandler) queueFull(e serf.Event) {
	h.logger.Printf("[WARN] agent: Event handler queue full, scripts skip event: %s", e.String())
}

// enqueueQuery queues q and starts a query worker if none is free and the
// pool has room.
func (h *ScriptHandler) enqueueQuery(q *serf.Query) {
	h.qmu.Lock()
	defer h.qmu.Unlock()
	if h.stopped {
		return
	}
	if len(h.qpending) >= scriptQueueLen {
		h.queueFull(q)
		return
	}
	h.qpending = append(h.qpending, q)
	// A worker exits only when it finds nothing pending, so every running
	// worker is busy or about to take a query: add one while below the bound.
	if h.qworkers < h.opts.MaxConcurrentQueries {
		h.qworkers++
		h.workers.Add(1)
		go h.runQueries()
	}
}

// runQueries is a query worker: it runs queued queries until there are
// none left, then exits.
func (h *ScriptHandler) runQueries() {
	defer h.workers.Done()
	for {
		h.qmu.Lock()
		if len(h.qpending) == 0 || h.ctx.Err() != nil {
			h.qworkers--
			h.qmu.Unlock()
			return
		}
		q := h.qpending[0]
		h.qpending[0] = nil
		h.qpending = h.qpending[1:]
		if len(h.qpending) == 0 {
			h.qpending = nil // let the backing array go
		}
		h.qmu.Unlock()
		h.invoke(q)
	}
}

// Stop kills running scripts, discards queued events and waits for the
// workers to exit. Safe to call more than once.
func (h *ScriptHandler) Stop() {
	h.stop.Do(func() {
		h.qmu.Lock()
		h.stopped = true
		h.qpending = nil
		h.qmu.Unlock()
		h.cancel()
	})
	h.workers.Wait()
}

// run is the member and user event worker.
func (h *ScriptHandler) run() {
	defer h.workers.Done()
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
		if err := runEventScript(h.ctx, h.logger, s.Script, h.opts.Timeout, self, e); err != nil {
			logScriptFailure(h.logger, s.Script, err)
		}
	}
}
