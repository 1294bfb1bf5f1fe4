package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/agent"
)

const (
	// agentGracefulTimeout bounds a graceful leave on SIGINT/SIGTERM.
	agentGracefulTimeout = 3 * time.Second
)

// agentCommand is `serf agent`: it builds the configuration from flags and
// files, starts the agent and its RPC server, prints the banner and then
// waits for signals.
type agentCommand struct {
	ui         cli.Ui
	shutdownCh <-chan struct{}
	args       []string
	logs       *agent.LogSink
	// base is the UI Run was given (made safe for concurrent use); under
	// -log-json, ui becomes a jsonUI over it and json is set.
	base cli.Ui
	json bool
}

// newAgentCommand returns the `agent` subcommand.
func newAgentCommand(ui cli.Ui, shutdownCh <-chan struct{}) cli.Command {
	return &agentCommand{ui: ui, shutdownCh: shutdownCh}
}

func (c *agentCommand) Synopsis() string { return "Runs a Serf agent" }

func (c *agentCommand) Help() string { return agentHelp }

// readConfig parses the arguments and config files into the effective
// configuration, printing warnings and errors through the UI. nil means a
// message was printed and the agent must not start.
func (c *agentCommand) readConfig() *agent.Config {
	var cmd agent.Config
	var configPaths, tagPairs listFlag
	var retryInterval, broadcastTimeout, handlerTimeout string
	var disableCompression bool

	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.Usage = func() { c.ui.Output(c.Help()) }
	fs.StringVar(&cmd.BindAddr, "bind", "", "")
	fs.StringVar(&cmd.AdvertiseAddr, "advertise", "", "")
	fs.Var(&configPaths, "config-file", "")
	fs.Var(&configPaths, "config-dir", "")
	fs.StringVar(&cmd.EncryptKey, "encrypt", "", "")
	fs.StringVar(&cmd.KeyringFile, "keyring-file", "", "")
	fs.Var((*listFlag)(&cmd.EventHandlers), "event-handler", "")
	fs.Var((*listFlag)(&cmd.StartJoin), "join", "")
	fs.BoolVar(&cmd.ReplayOnJoin, "replay", false, "")
	fs.StringVar(&cmd.LogLevel, "log-level", "", "")
	fs.StringVar(&cmd.NodeName, "node", "", "")
	fs.IntVar(&cmd.Protocol, "protocol", -1, "")
	fs.StringVar(&cmd.Role, "role", "", "")
	fs.StringVar(&cmd.RPCAddr, "rpc-addr", "", "")
	fs.StringVar(&cmd.Profile, "profile", "", "")
	fs.StringVar(&cmd.SnapshotPath, "snapshot", "", "")
	fs.Var(&tagPairs, "tag", "")
	fs.StringVar(&cmd.Discover, "discover", "", "")
	fs.StringVar(&cmd.Interface, "iface", "", "")
	fs.StringVar(&cmd.MDNS.Interface, "mdns-iface", "", "")
	fs.BoolVar(&cmd.MDNS.DisableIPv4, "mdns-disable-ipv4", false, "")
	fs.BoolVar(&cmd.MDNS.DisableIPv6, "mdns-disable-ipv6", false, "")
	fs.StringVar(&cmd.TagsFile, "tags-file", "", "")
	fs.BoolVar(&cmd.EnableSyslog, "syslog", false, "")
	fs.Var((*listFlag)(&cmd.RetryJoin), "retry-join", "")
	fs.IntVar(&cmd.RetryMaxAttempts, "retry-max", 0, "")
	fs.StringVar(&retryInterval, "retry-interval", "", "")
	fs.BoolVar(&cmd.RejoinAfterLeave, "rejoin", false, "")
	fs.BoolVar(&disableCompression, "disable-compression", false, "")
	fs.StringVar(&broadcastTimeout, "broadcast-timeout", "", "")
	// Our additions (README, "Operability"); kept out of the help text,
	// which stays Serf v0.10.2's.
	fs.StringVar(&cmd.MetricsAddr, "metrics-addr", "", "")
	fs.BoolVar(&cmd.LogJSON, "log-json", false, "")
	fs.StringVar(&cmd.DNSResolver, "dns-resolver", "", "")
	fs.StringVar(&handlerTimeout, "event-handler-timeout", "", "")
	if err := fs.Parse(c.args); err != nil {
		return nil
	}
	cmd.EnableCompression = !disableCompression

	tags, err := parseTags(tagPairs)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error: %s", err))
		return nil
	}
	cmd.Tags = tags
	for _, d := range []struct {
		raw string
		dst *time.Duration
	}{
		{retryInterval, &cmd.RetryInterval},
		{broadcastTimeout, &cmd.BroadcastTimeout},
		{handlerTimeout, &cmd.EventHandlerTimeout},
	} {
		if d.raw == "" {
			continue
		}
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			c.ui.Error(fmt.Sprintf("Error: %s", err))
			return nil
		}
		*d.dst = v
	}

	config := agent.DefaultConfig()
	if len(configPaths) > 0 {
		fileConf, err := agent.ReadConfigPaths(configPaths)
		if err != nil {
			c.ui.Error(err.Error())
			return nil
		}
		config = agent.MergeConfig(config, fileConf)
	}
	config = agent.MergeConfig(config, &cmd)
	if config.LogJSON {
		c.useJSONUI()
	}

	if err := config.Finish(func(msg string) { c.ui.Output(msg) }); err != nil {
		c.ui.Error(err.Error())
		return nil
	}
	return config
}

// useJSONUI switches the UI to JSON objects (log_json) for the rest of
// the run; the configuration decides it once it is merged.
func (c *agentCommand) useJSONUI() {
	if c.json || c.base == nil {
		return
	}
	c.json = true
	c.ui = &cli.ConcurrentUi{Ui: &jsonUI{ui: c.base}}
}

// setupAgent maps the agent config onto Serf's, with Serf's metrics going
// to telemetry, and creates the agent (not yet started), printing what
// goes wrong.
func (c *agentCommand) setupAgent(config *agent.Config, telemetry *agent.Telemetry) *agent.Agent {
	ip, err := config.ResolveInterface()
	if err != nil {
		c.ui.Error(err.Error())
		return nil
	}
	if ip != "" {
		c.ui.Output(fmt.Sprintf("Using interface '%s' address '%s'", config.Interface, ip))
	}
	serfConf, err := config.SerfConfig()
	if err != nil {
		c.ui.Error(err.Error())
		return nil
	}
	serfConf.Metrics = telemetry.Metrics
	// Telemetry leaves memberlist's counts of bytes sent to the transport
	// (agent.Telemetry.Metrics), which compresses, and with a key
	// encrypts, in memberlist's place.
	serfConf.TransportCompression = true
	serfConf.TransportEncryption = true
	c.ui.Output("Starting Serf agent...")
	a, err := agent.Create(config, serfConf, c.logs)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Failed to setup the Serf agent: %v", err))
		return nil
	}
	return a
}

// running holds what Run must tear down.
type running struct {
	agent     *agent.Agent
	rpc       *agent.RPCServer
	telemetry *agent.Telemetry
	metrics   *agent.MetricsServer
}

// startAgent starts Serf, mDNS and the RPC server and prints the banner.
func (c *agentCommand) startAgent(config *agent.Config, r *running) bool {
	a := r.agent
	if err := a.Start(); err != nil {
		c.ui.Error(fmt.Sprintf("Failed to start the Serf agent: %v", err))
		return false
	}
	bindIP, bindPort, _ := config.AddrParts(config.BindAddr)
	bindAddr := &net.TCPAddr{IP: net.ParseIP(bindIP), Port: bindPort}

	if config.Discover != "" {
		if _, err := a.StartMDNS(c.logs); err != nil {
			c.ui.Error(fmt.Sprintf("Error starting mDNS listener: %s", err))
			return false
		}
	}

	ln, err := net.Listen("tcp", config.RPCAddr)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error starting RPC listener: %s", err))
		return false
	}
	c.ui.Output("Starting Serf agent RPC...")
	r.rpc = agent.NewRPCServer(a, config.RPCAuthKey, ln, c.logs, c.logs.Monitors())

	if config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", config.MetricsAddr)
		if err != nil {
			c.ui.Error(fmt.Sprintf("Error starting metrics listener: %s", err))
			return false
		}
		r.metrics = agent.NewMetricsServer(mln, r.telemetry.Prometheus, a, c.logs.Logger())
	}

	c.ui.Output("Serf agent running!")
	c.ui.Info(fmt.Sprintf("                  Node name: '%s'", config.NodeName))
	c.ui.Info(fmt.Sprintf("                  Bind addr: '%s'", bindAddr.String()))
	if config.AdvertiseAddr != "" {
		ip, port, _ := config.AddrParts(config.AdvertiseAddr)
		c.ui.Info(fmt.Sprintf("Advertise addr: '%s'", (&net.TCPAddr{IP: net.ParseIP(ip), Port: port}).String()))
	}
	c.ui.Info(fmt.Sprintf("                   RPC addr: '%s'", config.RPCAddr))
	c.ui.Info(fmt.Sprintf("                  Encrypted: %#v", a.Serf().EncryptionEnabled()))
	c.ui.Info(fmt.Sprintf("                   Snapshot: %v", config.SnapshotPath != ""))
	c.ui.Info(fmt.Sprintf("                    Profile: %s", config.Profile))
	c.ui.Info(fmt.Sprintf("Message Compression Enabled: %v", config.EnableCompression))
	if config.Discover != "" {
		c.ui.Info(fmt.Sprintf("               mDNS cluster: %s", config.Discover))
	}
	return true
}

// Run starts the agent and blocks until it should exit.
func (c *agentCommand) Run(args []string) int {
	c.base = &cli.ConcurrentUi{Ui: c.ui}
	c.ui = &cli.ConcurrentUi{Ui: &cli.PrefixedUi{
		OutputPrefix: "==> ",
		InfoPrefix:   "    ",
		ErrorPrefix:  "==> ",
		Ui:           c.base,
	}}
	c.args = args
	config := c.readConfig()
	if config == nil {
		return 1
	}

	var console io.Writer = &cli.UiWriter{Ui: c.ui}
	if c.json {
		console = rawWriter{ui: c.base}
	}
	logs, err := agent.NewLogSink(console, config.LogLevel)
	if err != nil {
		c.ui.Error(err.Error())
		return 1
	}
	logs.SetJSON(config.LogJSON)
	c.logs = logs
	if config.EnableSyslog {
		if err := logs.EnableSyslog(config.SyslogFacility); err != nil {
			c.ui.Error(err.Error())
			return 1
		}
	}

	telemetry, err := agent.NewTelemetry(config, true)
	if err != nil {
		c.ui.Error(err.Error())
		return 1
	}
	defer telemetry.Stop()

	r := &running{telemetry: telemetry}
	r.agent = c.setupAgent(config, telemetry)
	if r.agent == nil {
		return 1
	}
	defer func() { _ = r.agent.Shutdown() }()
	ok := c.startAgent(config, r)
	if r.rpc != nil {
		defer r.rpc.Shutdown()
	}
	if r.metrics != nil {
		defer r.metrics.Shutdown()
	}
	if !ok {
		return 1
	}

	if len(config.StartJoin) > 0 {
		c.ui.Output(fmt.Sprintf("Joining cluster...(replay: %v)", config.ReplayOnJoin))
		n, err := r.agent.Join(config.StartJoin, config.ReplayOnJoin)
		if err != nil {
			c.ui.Error(err.Error())
			return 1
		}
		c.ui.Info(fmt.Sprintf("Join completed. Synced with %d initial agents", n))
	}

	c.ui.Info("")
	c.ui.Output("Log data will now stream in as it occurs:\n")
	logs.Flush()

	retryFailed := make(chan struct{})
	ctx, stopRetry := context.WithCancel(context.Background())
	var retryWG sync.WaitGroup
	retryWG.Add(1)
	go func() {
		defer retryWG.Done()
		if r.agent.RetryJoin(ctx) != nil {
			close(retryFailed)
		}
	}()
	defer func() {
		stopRetry()
		retryWG.Wait()
	}()

	return c.waitForSignals(config, r.agent, retryFailed)
}

// waitForSignals acts on signals until one ends the run, and returns the
// exit code: SIGHUP reloads; SIGINT (or the command's shutdown channel) and
// SIGTERM leave gracefully when the configuration asks for it and exit
// otherwise. A retry-join that gave up ends the run with 1, an agent that
// shut itself down with 0.
func (c *agentCommand) waitForSignals(config *agent.Config, a *agent.Agent, retryFailed <-chan struct{}) int {
	sigCh := make(chan os.Signal, 4)
	signal.Notify(sigCh, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigCh)

	for {
		sig, code, ok := c.nextSignal(sigCh, a, retryFailed)
		if !ok {
			return code
		}
		c.ui.Output(fmt.Sprintf("Caught signal: %v", sig))
		switch {
		case sig == syscall.SIGHUP:
			config = c.reload(config, a)
		case sig == os.Interrupt && !config.SkipLeaveOnInt,
			sig == syscall.SIGTERM && config.LeaveOnTerm:
			return c.leave(a, sigCh)
		default:
			return 1
		}
	}
}

// nextSignal waits for the next signal to act on; the command's shutdown
// channel counts as an interrupt. ok is false when the run ended without
// one, with code as its exit code.
func (c *agentCommand) nextSignal(sigCh <-chan os.Signal, a *agent.Agent, retryFailed <-chan struct{}) (sig os.Signal, code int, ok bool) {
	select {
	case sig = <-sigCh:
	case <-c.shutdownCh:
		sig = os.Interrupt
	case <-retryFailed:
		return nil, 1, false
	case <-a.ShutdownCh():
		return nil, 0, false
	}
	return sig, 0, true
}

// leave leaves the cluster gracefully: 0 once done, 1 when it fails, takes
// longer than agentGracefulTimeout or another signal arrives first.
func (c *agentCommand) leave(a *agent.Agent, sigCh <-chan os.Signal) int {
	c.ui.Output("Gracefully shutting down agent...")
	left := make(chan struct{})
	go func() {
		if err := a.Leave(); err != nil {
			c.ui.Error(fmt.Sprintf("Error: %s", err))
			return
		}
		close(left)
	}()
	timer := time.NewTimer(agentGracefulTimeout)
	defer timer.Stop()
	select {
	case <-sigCh:
		return 1
	case <-timer.C:
		return 1
	case <-left:
		return 0
	}
}

// reload re-reads the configuration (SIGHUP) and has the agent apply what
// can change at runtime. It returns the configuration now in effect.
func (c *agentCommand) reload(old *agent.Config, a *agent.Agent) *agent.Config {
	c.ui.Output("Reloading configuration...")
	conf := c.readConfig()
	if conf == nil {
		c.ui.Error("Failed to reload configs")
		return old
	}
	for _, err := range a.Reload(conf, c.logs) {
		c.ui.Error(err.Error())
	}
	return conf
}
