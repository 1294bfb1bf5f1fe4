package command

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/mitchellh/cli"
)

const keygenHelp = `Usage: serf keygen

  Generates a new encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.`

// keygenCommand prints a fresh random 32-byte key, base64 encoded.
type keygenCommand struct {
	ui cli.Ui
	// random is the entropy source; nil means crypto/rand.
	random io.Reader
}

func (c *keygenCommand) Synopsis() string { return "Generates a new encryption key" }
func (c *keygenCommand) Help() string     { return keygenHelp }

// Run ignores its arguments.
func (c *keygenCommand) Run([]string) int {
	src := c.random
	if src == nil {
		src = rand.Reader
	}
	key := make([]byte, 32)
	n, err := src.Read(key)
	if err != nil {
		c.ui.Error(fmt.Sprintf("Error reading random data: %s", err))
		return 1
	}
	if n != len(key) {
		c.ui.Error("Couldn't read enough entropy. Generate more entropy!")
		return 1
	}
	c.ui.Output(base64.StdEncoding.EncodeToString(key))
	return 0
}
