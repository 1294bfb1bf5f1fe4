package agent

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/serf-clone/serf/serf"
)

// loadTagsFile replaces the configured tags with the file's, if the file
// exists. Tags from flags or config cannot be combined with a tags file.
func (a *Agent) loadTagsFile(path string) error {
	if len(a.conf.Tags) > 0 {
		return fmt.Errorf("Tags config not allowed while using tag files")
	}
	if _, err := os.Stat(path); err != nil {
		return nil // created on the first tag change
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("Failed to read tags file: %s", err)
	}
	var tags map[string]string
	if err := json.Unmarshal(data, &tags); err != nil {
		return fmt.Errorf("Failed to decode tags file: %s", err)
	}
	a.serfConf.Tags = tags
	a.logger.Printf("[INFO] agent: Restored %d tag(s) from %s", len(tags), path)
	return nil
}

// writeTagsFile stores tags as indented JSON (no trailing newline), 0600
// for a new file. The file is replaced atomically (see atomicfile), so a
// crash mid-write leaves the previous tags, never a torn file.
func (a *Agent) writeTagsFile(tags map[string]string) error {
	data, err := json.MarshalIndent(tags, "", "  ")
	if err != nil {
		return fmt.Errorf("Failed to encode tags: %s", err)
	}
	err = a.tagsFile.Rewrite(a.conf.TagsFile, 0600, func() ([]byte, error) { return data, nil })
	if err != nil {
		return fmt.Errorf("Failed to write tags file: %s", err)
	}
	return nil
}

// loadKeyringFile installs the keys of a keyring file (serf's format, see
// serf.DecodeKeyringFile) into the memberlist config.
func (a *Agent) loadKeyringFile(path string) error {
	if a.conf.EncryptKey != "" {
		return fmt.Errorf("Encryption key not allowed while using a keyring")
	}
	if _, err := os.Stat(path); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("Failed to read keyring file: %s", err)
	}
	keys, err := serf.DecodeKeyringFile(data)
	if err != nil {
		return err
	}
	keyring, err := serf.NewKeyring(keys, keys[0])
	if err != nil {
		return fmt.Errorf("Failed to restore keyring: %s", err)
	}
	a.serfConf.MemberlistConfig.Keyring = keyring
	a.serfConf.KeyringFile = path
	a.logger.Printf("[INFO] agent: Restored keyring with %d keys from %s", len(keys), path)
	return nil
}
