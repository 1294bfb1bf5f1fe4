package command

import (
	"fmt"
	"sync"

	"github.com/hashicorp/logutils"
	"github.com/mitchellh/cli"
)

const monitorHelp = `Usage: serf monitor [options]

  Shows recent log messages of a Serf agent, and attaches to the agent,
  outputting log messages as they occur in real time. The monitor lets you
  listen for log levels that may be filtered out of the Serf agent. For
  example your agent may only be logging at INFO level, but with the monitor
  you can see the DEBUG level logs.

Options:

  -log-level=info          Log level of the agent.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`

// monitorCommand streams an agent's log lines and events until Ctrl-C
// (shutdownCh) or until the agent goes away.
type monitorCommand struct {
	ui         cli.Ui
	shutdownCh <-chan struct{}
}

func (c *monitorCommand) Synopsis() string { return "Stream logs from a Serf agent" }
func (c *monitorCommand) Help() string     { return monitorHelp }

func (c *monitorCommand) Run(args []string) int {
	var (
		rpc      rpcFlags
		logLevel string
	)
	fs := newFlagSet("monitor", c.ui, c.Help)
	fs.StringVar(&logLevel, "log-level", "INFO", "log level")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	cl := rpc.connect(c.ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	events := make(chan map[string]interface{}, 1024)
	eventHandle, err := cl.Stream("*", events)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error starting stream: %s", err))
		return 1
	}
	defer cl.Stop(eventHandle) //nolint:errcheck // best effort on the way out

	logs := make(chan string, 1024)
	logHandle, err := cl.Monitor(logutils.LogLevel(logLevel), logs)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error starting monitor: %s", err))
		return 1
	}
	defer cl.Stop(logHandle) //nolint:errcheck // best effort on the way out

	// The printer owns the UI until the command decides to quit; after
	// that it must not report the (expected) end of the streams.
	var mu sync.Mutex
	quitting := false
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		c.print(logs, events)
		mu.Lock()
		defer mu.Unlock()
		if !quitting {
			c.ui.Info("")
			c.ui.Output("Remote side ended the monitor! This usually means that the\n" +
				"remote side has exited or crashed.")
		}
	}()

	select {
	case <-ended:
		return 1
	case <-c.shutdownCh:
		mu.Lock()
		quitting = true
		mu.Unlock()
		// Closing the connection ends both streams, and so the printer.
		cl.Close()
		<-ended
		return 0
	}
}

// print writes log lines and events until either stream ends.
func (c *monitorCommand) print(logs <-chan string, events <-chan map[string]interface{}) {
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				return
			}
			c.ui.Info(line)
		case ev, ok := <-events:
			if !ok {
				return
			}
			c.ui.Info("Event Info:")
			for k, v := range ev {
				c.ui.Info(fmt.Sprintf("\t%s: %#v", k, v))
			}
		}
	}
}
