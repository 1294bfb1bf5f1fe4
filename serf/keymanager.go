package serf

import (
	"errors"
	"sync"
)

// errKeysNotImplemented is returned until cluster key management lands.
var errKeysNotImplemented = errors.New("key management is not implemented")

// KeyManager changes the gossip encryption keyring on every member at once,
// through the _serf_*-key internal queries.
type KeyManager struct {
	serf *Serf
	// lock serialises key operations started from this node.
	lock sync.RWMutex
}

// KeyResponse summarises a cluster-wide key operation.
type KeyResponse struct {
	// Messages holds per-node error or warning text.
	Messages map[string]string
	// NumNodes is the cluster size when the operation started; NumResp the
	// number of answers; NumErr the number of failures.
	NumNodes int
	NumResp  int
	NumErr   int
	// Keys counts, for list operations, how many nodes hold each key.
	Keys map[string]int
	// PrimaryKeys counts how many nodes use each key as primary.
	PrimaryKeys map[string]int
}

// InstallKey adds a base64 key to every member's keyring.
func (k *KeyManager) InstallKey(key string) (*KeyResponse, error) {
	return nil, errKeysNotImplemented
}

// UseKey makes an installed base64 key the primary everywhere.
func (k *KeyManager) UseKey(key string) (*KeyResponse, error) {
	return nil, errKeysNotImplemented
}

// RemoveKey removes a base64 key from every member's keyring.
func (k *KeyManager) RemoveKey(key string) (*KeyResponse, error) {
	return nil, errKeysNotImplemented
}

// ListKeys collects the keys installed on every member.
func (k *KeyManager) ListKeys() (*KeyResponse, error) {
	return nil, errKeysNotImplemented
}

// answerKeyQuery handles the responder side of the key queries.
func (s *Serf) answerKeyQuery(name string, q *Query) {
	s.logger.Printf("[WARN] serf: Unhandled internal query '%s'", name)
}
