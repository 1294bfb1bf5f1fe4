// Package agent runs a Serf member as a long-lived process: it reads the
// agent configuration, wraps a *serf.Serf, runs event handler scripts, serves
// the msgpack RPC protocol used by the serf CLI and fans logs out to
// monitors. Nothing here is package-level state: everything hangs off
// *Agent, *RPCServer and *LogSink.
//
// Concurrency, and how it differs from Serf's agent:
//
//   - Events: Serf delivers on one channel; the agent's event loop logs
//     "Received event", then hands the event to the handler-script worker
//     and to every RPC stream. None of these block (each has a bounded queue
//     and drops with a warning when full), so the loop always drains Serf's
//     channel and a hung handler script can never stall gossip, queries or
//     RPC. Serf's own agent runs scripts inside that loop instead.
//   - Scripts still run one at a time, in event order (one worker per
//     ScriptHandler); a hung script delays later scripts only. Shutdown
//     kills a running script.
//   - RPC: one goroutine per connection reads requests in order; each
//     stream (event stream, monitor, query) has its own writer goroutine and
//     a 512-entry buffer; all writes of a connection go through one lock.
//     Each message is framed and size-checked before it is decoded (64 KiB
//     before handshake/auth, 4 MiB after), nesting is bounded, and the
//     server caps connections, handshake time, auth failures and each
//     connection's streams and queries (RPCServerOptions), so hostile input
//     only costs its sender its connection.
//   - Logs: one writer (LogSink) serializes every line, filters it for the
//     console (held back by a gate until the banner is out) and syslog, and
//     keeps all levels in a 512-line MonitorRing for monitors.
//
// Where things are:
//
//	config.go          Config (every key, flag and default) and DefaultConfig
//	config_file.go     reading JSON config files and directories
//	config_merge.go    MergeConfig: flags over files over defaults
//	config_finish.go   Finish: host name, validation, floors, warnings
//	serf_config.go     Config.SerfConfig (the mapping onto serf.Config) and
//	                   -iface resolution
//	agent.go           Agent: Create, Start, Leave, Shutdown, the event loop
//	                   and the operations the RPC server calls
//	agent_files.go     the tags file and the keyring file
//	retry_join.go      Agent.RetryJoin (retry_join, retry_interval, retry_max)
//	join_dns.go        join addresses through DNS: dns+srv:// names and
//	                   dns_resolver, resolved at every attempt
//	reload.go          Agent.Reload: what SIGHUP changes
//	mdns.go            Agent.StartMDNS: discovery through mDNS
//	telemetry.go       Telemetry: the go-metrics set-up and its sinks
//	                   (in-memory, statsd, statsite, Prometheus)
//	line_sink.go       the statsd and statsite sinks: go-metrics' lines,
//	                   batched without a ticking goroutine
//	inmem_sink.go      the in-memory sink SIGUSR1 dumps: go-metrics' lines,
//	                   without a string built per metric
//	metrics_http.go    MetricsServer: /metrics and /health (metrics_addr)
//	event_filter.go, event_handler.go, invoke*.go
//	                   handler scripts: filters, the worker, running one
//	rpc_server.go, rpc_conn.go, rpc_handlers.go, rpc_streams.go
//	                   the msgpack RPC server the serf CLI talks to
//	stats.go           the `serf info` numbers
//	log_sink.go, log_levels.go, console_gate.go, monitor_ring.go
//	                   the log fan-out described above
//	log_json.go        the JSON line format of log_json
package agent
