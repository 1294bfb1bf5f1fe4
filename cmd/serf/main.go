// Command serf is a drop-in clone of HashiCorp Serf's command line: the
// agent and every client subcommand.
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/command"
	"github.com/serf-clone/serf/internal/batchsched"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	// Serf silences the standard logger; anything worth showing goes
	// through the UI or the agent's own logger.
	log.SetOutput(io.Discard)

	shutdownCh := make(chan struct{})
	ui := &cli.BasicUi{Writer: os.Stdout}
	c := command.NewCLI(args, ui, os.Stderr, shutdownCh)

	if c.Subcommand() == "agent" {
		stop := agentRuntime()
		defer stop()
		// The agent's console gathers its lines (console_batch.go).
		console := newBatchedWriter(os.Stdout, consoleBatchDelay)
		ui.Writer = console
		defer console.Flush()
	}

	// Only the commands that handle Ctrl-C themselves get interrupts
	// relayed; for the rest SIGINT keeps its default effect.
	if command.HandlesInterrupt(c.Subcommand()) {
		stop := relayInterrupts(shutdownCh)
		defer stop()
	}

	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error executing CLI: %s\n", err)
		return 1
	}
	return code
}

// agentRuntime tunes the Go runtime for a long-lived, mostly idle agent,
// unless the environment sets the knob itself.
//
// GOMAXPROCS=1: an agent spends its life waiting for timers and packets,
// a few milliseconds of work a second even at thousands of members; with
// a second P, every wake-up also wakes a second thread to look for work
// that is not there. One P measured about a fifth less idle CPU per agent
// (BENCHMARKS.md). Handler scripts are processes of their own, and `serf
// info` shows the value in runtime.max_procs.
//
// GOGC=50 while quiet: an idle agent's live heap is under 1 MiB, but
// with GOGC=100 the runtime lets garbage grow to its 4 MiB minimum heap
// before it collects, and keeps those pages. Half the target
// measured 2.2 MiB less resident memory per agent for about a tenth more
// idle CPU, which is still about half of real Serf's (BENCHMARKS.md).
// While the agent allocates fast, the GC policy (gc_policy.go) raises
// it.
//
// Once start-up is over, the pages of the binary that only start-up
// needed are unmapped (code_pages_linux.go): about 5 MiB less resident
// per idle agent, still in the page cache for whoever touches them again.
// The GC policy does it once the agent is quiet, no sooner than
// startupHoldOff after start; with GOGC set, a timer does it then.
//
// On Linux its threads run in the SCHED_BATCH class (internal/batchsched):
// the same share of the CPU, but a wake-up waits for the running thread
// instead of preempting it, which lets a machine crowded with busy agents
// work in longer slices. Handler scripts start in the default class.
//
// The returned function stops what agentRuntime started.
func agentRuntime() (stop func()) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// An error (no /proc) leaves the agent in the default class.
	_ = batchsched.Enable()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	if os.Getenv("GOGC") == "" {
		// The policy also unmaps start-up's code, once the agent is quiet.
		go func() {
			defer wg.Done()
			agentGCPolicy().run(gcPolicyPeriod, done)
		}()
	} else {
		go func() {
			defer wg.Done()
			settled := time.NewTimer(startupHoldOff)
			defer settled.Stop()
			select {
			case <-settled.C:
				// An error (no /proc) only leaves the pages mapped.
				_, _ = releaseCodePages()
			case <-done:
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// startupHoldOff is how long after its start an agent leaves the pages
// it touched alone: the GC policy's first upkeep (hand free heap pages
// back, unmap start-up's code) waits this long plus its spread, and with
// GOGC set (no GC policy) a timer unmaps the code after it. A new agent
// is quiet while it waits for its first join to be answered, and in a
// storm of hundreds of joins on one machine that wait lasts tens of
// seconds; an agent that handed its pages and code back during it must
// fault them all in again when the answer comes, in the middle of the
// storm. At 15 s, storms of 256 that started 15 s after their agents
// took a third more CPU and converged later in five pairs of five
// (BENCHMARKS.md, session 23).
const startupHoldOff = time.Minute

// agentGCPercent is the agent's GOGC when the environment sets none.
const agentGCPercent = 50

// relayInterrupts sends one value on out for every SIGINT until the
// returned function is called.
func relayInterrupts(out chan<- struct{}) (stop func()) {
	sigCh := make(chan os.Signal, 4)
	signal.Notify(sigCh, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigCh:
				select {
				case out <- struct{}{}:
				case <-done:
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigCh)
		close(done)
	}
}
