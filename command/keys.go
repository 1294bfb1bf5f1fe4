package command

import (
	"fmt"

	"github.com/mitchellh/cli"
	"github.com/ryanuber/columnize"
)

const keysHelp = `Usage: serf keys [options]...

  Manage the internal encryption keyring used by Serf. Modifications made by
  this command will be broadcasted to all members in the cluster and applied
  locally on each member. Operations of this command are idempotent.

  To facilitate key rotation, Serf allows for multiple encryption keys to be in
  use simultaneously. Only one key, the "primary" key, will be used for
  encrypting messages. All other keys are used for decryption only.

  All variations of this command will return 0 if all nodes reply and report
  no errors. If any node fails to respond or reports failure, we return 1.

  WARNING: Running with multiple encryption keys enabled is recommended as a
  transition state only. Performance may be impacted by using multiple keys.

Options:

  -install=<key>            Install a new key onto Serf's internal keyring. This
                            will enable the key for decryption. The key will not
                            be used to encrypt messages until the primary key is
                            changed.
  -use=<key>                Change the primary key used for encrypting messages.
                            All nodes in the cluster must already have this key
                            installed if they are to continue communicating with
                            eachother.
  -remove=<key>             Remove a key from Serf's internal keyring. The key
                            being removed may not be the current primary key.
  -list                     List all currently known keys in the cluster. This
                            will ask all nodes in the cluster for a list of keys
                            and dump a summary containing each key and the
                            number of members it is installed on to the console.
  -rpc-addr=127.0.0.1:7373  RPC address of the Serf agent.
  -rpc-auth=""              RPC auth token of the Serf agent.`

// keysCommand manages the cluster-wide encryption keyring.
type keysCommand struct {
	ui cli.Ui
}

func (c *keysCommand) Synopsis() string {
	return "Manipulate the internal encryption keyring used by Serf"
}
func (c *keysCommand) Help() string { return keysHelp }

// keyAction describes one of the single-key operations.
type keyAction struct {
	key             string
	call            func(key string) (map[string]string, error)
	start, ok, fail string
}

func (c *keysCommand) Run(args []string) int {
	var (
		rpc                  rpcFlags
		install, use, remove string
		list                 bool
	)
	fs := newFlagSet("keys", c.ui, c.Help)
	fs.StringVar(&install, "install", "", "install a new key")
	fs.StringVar(&use, "use", "", "change the primary key")
	fs.StringVar(&remove, "remove", "", "remove a key")
	fs.BoolVar(&list, "list", false, "list cluster keys")
	rpc.register(fs)
	if err := fs.Parse(args); err != nil {
		return 1
	}

	// Progress lines get a "==> " prefix; everything else is unadorned.
	ui := &cli.PrefixedUi{InfoPrefix: "==> ", Ui: c.ui}

	actions := 0
	if list {
		actions++
	}
	for _, k := range []string{install, use, remove} {
		if k != "" {
			actions++
		}
	}
	switch {
	case actions > 1:
		ui.Error("Only one of -install, -use, -remove, or -list allowed")
		return 1
	case actions == 0:
		ui.Error(c.Help())
		return 1
	}

	cl := rpc.connect(ui)
	if cl == nil {
		return 1
	}
	defer cl.Close()

	if list {
		ui.Info("Asking all members for installed keys...")
		keys, total, failures, err := cl.ListKeys()
		if err != nil {
			reportKeyFailures(ui, failures)
			ui.Error(fmt.Sprintf("Failed to gather member keys: %s", err))
			return 1
		}
		ui.Info("Keys gathered, listing cluster keys...")
		ui.Output("")
		rows := make([]string, 0, len(keys))
		for key, n := range keys {
			rows = append(rows, fmt.Sprintf("%s | [%d/%d]", key, n, total))
		}
		ui.Output(columnize.SimpleFormat(rows))
		return 0
	}

	var a keyAction
	switch {
	case install != "":
		a = keyAction{install, cl.InstallKey, "Installing key on all members...",
			"Successfully installed key!", "Error installing key"}
	case use != "":
		a = keyAction{use, cl.UseKey, "Changing primary key on all members...",
			"Successfully changed primary key!", "Error changing primary key"}
	default:
		a = keyAction{remove, cl.RemoveKey, "Removing key on all members...",
			"Successfully removed key!", "Error removing key"}
	}
	ui.Info(a.start)
	if failures, err := a.call(a.key); err != nil {
		reportKeyFailures(ui, failures)
		ui.Error(fmt.Sprintf("%s: %s", a.fail, err))
		return 1
	}
	ui.Info(a.ok)
	return 0
}

// reportKeyFailures prints one aligned "failed:  NODE  MESSAGE" row per node
// that reported a problem, then an empty line.
func reportKeyFailures(ui cli.Ui, failures map[string]string) {
	if len(failures) > 0 {
		rows := make([]string, 0, len(failures))
		for node, msg := range failures {
			rows = append(rows, fmt.Sprintf("failed: | %s | %s", node, msg))
		}
		ui.Error(columnize.SimpleFormat(rows))
	}
	ui.Error("")
}
