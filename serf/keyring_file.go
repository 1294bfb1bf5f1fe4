package serf

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// The keyring file (Config.KeyringFile, the agent's keyring_file) holds the
// gossip keys as a JSON array of base64 strings, primary key first. Serf
// rewrites it after every key change; the agent reads it at start-up. Both
// sides use the two functions below, so the format lives only here.

// EncodeKeyringFile renders keys, the primary first, as a keyring file.
func EncodeKeyringFile(keys [][]byte) ([]byte, error) {
	encoded := make([]string, len(keys))
	for i, k := range keys {
		encoded[i] = base64.StdEncoding.EncodeToString(k)
	}
	data, err := json.MarshalIndent(encoded, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("Failed to encode keys: %s", err)
	}
	return data, nil
}

// DecodeKeyringFile reads the keys of a keyring file, the primary first.
// A file without keys is an error. The error texts are the agent's.
func DecodeKeyringFile(data []byte) ([][]byte, error) {
	var encoded []string
	if err := json.Unmarshal(data, &encoded); err != nil {
		return nil, fmt.Errorf("Failed to decode keyring file: %s", err)
	}
	keys := make([][]byte, 0, len(encoded))
	for _, k := range encoded {
		raw, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("Failed to decode key from keyring: %s", err)
		}
		keys = append(keys, raw)
	}
	if len(keys) == 0 {
		return nil, errors.New("Keyring file contains no keys")
	}
	return keys, nil
}
