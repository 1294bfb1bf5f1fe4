package command

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/client"
)

// Defaults of the connection flags, overridable through the environment.
const (
	defaultRPCAddr = "127.0.0.1:7373"
	envRPCAddr     = "SERF_RPC_ADDR"
	envRPCAuth     = "SERF_RPC_AUTH"
)

// rpcFlags are the -rpc-addr and -rpc-auth flags every client subcommand
// accepts. Defaults are read from the environment when the flags are
// registered, i.e. for each run.
type rpcFlags struct {
	addr string
	auth string
}

func (r *rpcFlags) register(fs *flag.FlagSet) {
	addr := os.Getenv(envRPCAddr)
	if addr == "" {
		addr = defaultRPCAddr
	}
	fs.StringVar(&r.addr, "rpc-addr", addr, "RPC address of the Serf agent")
	fs.StringVar(&r.auth, "rpc-auth", os.Getenv(envRPCAuth), "RPC auth token of the Serf agent")
}

// connect dials the agent. On failure it reports the error the way every
// subcommand does and returns nil.
func (r *rpcFlags) connect(ui cli.Ui) *client.RPCClient {
	c, err := client.ClientFromConfig(&client.Config{Addr: r.addr, AuthKey: r.auth})
	if err != nil {
		ui.Error(fmt.Sprintf("Error connecting to Serf agent: %s", err))
		return nil
	}
	return c
}

// newFlagSet returns a flag set that reports parse errors on stderr (the
// flag package's default) and then prints the command's help through the
// UI, as Serf does.
func newFlagSet(name string, ui cli.Ui, help func() string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { ui.Output(help()) }
	return fs
}

// usageError prints a message, an empty line and the help, all through
// Ui.Error, and returns the exit code for bad usage.
func usageError(ui cli.Ui, msg string, help string) int {
	ui.Error(msg)
	ui.Error("")
	ui.Error(help)
	return 1
}

// listFlag is a repeatable string flag; each use appends one value.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseTags turns KEY=VALUE strings into a map. The split is at the first
// '=', and the key must not be empty. The result is never nil.
func parseTags(pairs []string) (map[string]string, error) {
	tags := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("Invalid tag: '%s'", p)
		}
		tags[k] = v
	}
	return tags, nil
}

// joinTags renders tags as k=v pairs separated by commas, in map order,
// as Serf's member listing does.
func joinTags(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for k, v := range tags {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}
