// Package command is the serf command line: one file per subcommand, each a
// mitchellh/cli Command built fresh per run by Commands, and NewCLI, which
// cmd/serf runs.
//
// Every subcommand except `agent`, `keygen` and `version` is a thin client:
// it parses its flags (-rpc-addr and -rpc-auth via rpcFlags, with the
// SERF_RPC_ADDR and SERF_RPC_AUTH environment defaults), dials the agent
// through package client, makes one call or stream, and prints the result
// as text or, where Serf offers it, JSON (output.go). `agent` (agent.go)
// turns flags and config files into an agent.Config, starts an agent.Agent
// and its RPC server, prints the banner and waits for signals; everything
// else about running an agent lives in package agent.
//
// Help texts, messages and exit codes are those of Serf v0.10.2, byte for
// byte. Imports go one way: command uses client and agent, never serf.
//
// File index:
//
//	cli.go, commands.go  NewCLI and the table of subcommands
//	common.go            RPC flags, repeatable flags, usage errors, tags
//	output.go            text and JSON output
//	agent.go             `serf agent`: flags, banner, signal loop
//	agent_help.go        `serf agent -h`
//	event.go, force_leave.go, info.go, join.go, keygen.go, keys.go,
//	leave.go, members.go, monitor.go, query.go, reachability.go, rtt.go,
//	tags.go, version.go  one subcommand each
package command
