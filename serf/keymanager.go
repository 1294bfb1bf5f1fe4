package serf

import (
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/serf-clone/serf/internal/atomicfile"
)

// KeyManager changes the gossip encryption keyring on every member at once,
// through the _serf_*-key internal queries.
type KeyManager struct {
	serf *Serf
	// lock serialises key changes started from this node; listing may run
	// alongside other listings.
	lock sync.RWMutex
	// keyringFile serialises rewrites of Config.KeyringFile: key queries
	// from several members are answered on separate goroutines.
	keyringFile atomicfile.Writer
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

// KeyRequestOptions are the optional parameters of a key operation.
type KeyRequestOptions struct {
	// RelayFactor is how many other members each answer is also relayed
	// through, for redundancy (see QueryParam.RelayFactor). Default 0.
	RelayFactor uint8
}

// InstallKey adds a base64 key to every member's keyring.
func (k *KeyManager) InstallKey(key string) (*KeyResponse, error) {
	return k.InstallKeyWithOptions(key, nil)
}

// InstallKeyWithOptions is InstallKey with options; opts may be nil.
func (k *KeyManager) InstallKeyWithOptions(key string, opts *KeyRequestOptions) (*KeyResponse, error) {
	k.lock.Lock()
	defer k.lock.Unlock()
	return k.request(installKeyQuery, key, opts)
}

// UseKey makes an installed base64 key the primary everywhere.
func (k *KeyManager) UseKey(key string) (*KeyResponse, error) {
	return k.UseKeyWithOptions(key, nil)
}

// UseKeyWithOptions is UseKey with options; opts may be nil.
func (k *KeyManager) UseKeyWithOptions(key string, opts *KeyRequestOptions) (*KeyResponse, error) {
	k.lock.Lock()
	defer k.lock.Unlock()
	return k.request(useKeyQuery, key, opts)
}

// RemoveKey removes a base64 key from every member's keyring.
func (k *KeyManager) RemoveKey(key string) (*KeyResponse, error) {
	return k.RemoveKeyWithOptions(key, nil)
}

// RemoveKeyWithOptions is RemoveKey with options; opts may be nil.
func (k *KeyManager) RemoveKeyWithOptions(key string, opts *KeyRequestOptions) (*KeyResponse, error) {
	k.lock.Lock()
	defer k.lock.Unlock()
	return k.request(removeKeyQuery, key, opts)
}

// ListKeys collects the keys installed on every member.
func (k *KeyManager) ListKeys() (*KeyResponse, error) {
	return k.ListKeysWithOptions(nil)
}

// ListKeysWithOptions is ListKeys with options; opts may be nil.
func (k *KeyManager) ListKeysWithOptions(opts *KeyRequestOptions) (*KeyResponse, error) {
	k.lock.RLock()
	defer k.lock.RUnlock()
	return k.request(listKeysQuery, "", opts)
}

// request runs one key query with the default query parameters (and the
// relay factor of opts, when given) and tallies the answers.
func (k *KeyManager) request(op, key string, opts *KeyRequestOptions) (*KeyResponse, error) {
	s := k.serf
	resp := &KeyResponse{
		Messages:    make(map[string]string),
		Keys:        make(map[string]int),
		PrimaryKeys: make(map[string]int),
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return resp, err
	}
	payload, err := s.codec.encodeMessage(messageKeyRequestType, &messageKeyRequest{Key: raw})
	if err != nil {
		return resp, err
	}
	params := s.DefaultQueryParams()
	if opts != nil {
		params.RelayFactor = opts.RelayFactor
	}
	qr, err := s.Query(InternalQueryPrefix+op, payload, params)
	if err != nil {
		return resp, err
	}
	resp.NumNodes = s.memberlist.NumMembers()
	k.tally(resp, qr.ResponseCh())

	if resp.NumErr != 0 {
		return resp, fmt.Errorf("%d/%d nodes reported failure", resp.NumErr, resp.NumNodes)
	}
	if resp.NumResp != resp.NumNodes {
		return resp, fmt.Errorf("%d/%d nodes reported success", resp.NumResp, resp.NumNodes)
	}
	return resp, nil
}

// tally reads node answers until everyone answered or the query ends.
func (k *KeyManager) tally(resp *KeyResponse, ch <-chan NodeResponse) {
	for r := range ch {
		resp.NumResp++
		k.tallyOne(resp, r)
		if resp.NumResp == resp.NumNodes {
			return
		}
	}
}

func (k *KeyManager) tallyOne(resp *KeyResponse, r NodeResponse) {
	if len(r.Payload) < 1 || messageType(r.Payload[0]) != messageKeyResponseType {
		resp.Messages[r.From] = fmt.Sprintf("Invalid key query response type: %v", r.Payload)
		resp.NumErr++
		return
	}
	var nr messageKeyResponse
	if err := k.serf.codec.decode(r.Payload[1:], &nr); err != nil {
		resp.Messages[r.From] = fmt.Sprintf("Failed to decode key query response: %v", r.Payload)
		resp.NumErr++
		return
	}
	if !nr.Result {
		resp.Messages[r.From] = nr.Message
		resp.NumErr++
	} else if nr.Message != "" {
		// Success with a remark, such as a truncated key list.
		resp.Messages[r.From] = nr.Message
		k.serf.logger.Println("[WARN] serf:", nr.Message)
	}
	for _, key := range nr.Keys {
		resp.Keys[key]++
	}
	resp.PrimaryKeys[nr.PrimaryKey]++
}

// answerKeyQuery is the responder side: apply the change to our keyring
// and report how it went.
func (s *Serf) answerKeyQuery(op string, q *Query) {
	var answer messageKeyResponse
	if op == listKeysQuery {
		s.listKeys(&answer)
		s.sendKeyList(q, &answer)
		return
	}
	s.changeKeyring(op, q.Payload, &answer)
	buf, err := s.codec.encodeMessage(messageKeyResponseType, &answer)
	if err != nil {
		s.logger.Printf("[ERR] serf: Failed to encode key response: %v", err)
		return
	}
	if err := q.Respond(buf); err != nil {
		s.logger.Printf("[ERR] serf: Failed to respond to key query: %v", err)
	}
}

// changeKeyring applies an install, use or remove request to our keyring.
func (s *Serf) changeKeyring(op string, payload []byte, answer *messageKeyResponse) {
	var req messageKeyRequest
	if len(payload) < 1 {
		s.logger.Printf("[ERR] serf: Failed to decode key request: %v", "empty payload")
		return
	}
	if err := s.codec.decode(payload[1:], &req); err != nil {
		s.logger.Printf("[ERR] serf: Failed to decode key request: %v", err)
		return
	}
	keyring := s.config.MemberlistConfig.Keyring
	if keyring == nil {
		answer.Message = "No keyring to modify (encryption not enabled)"
		s.logger.Printf("[ERR] serf: No keyring to modify (encryption not enabled)")
		return
	}

	var err error
	switch op {
	case installKeyQuery:
		s.logger.Printf("[INFO] serf: Received install-key query")
		if err = memberlistError(keyring.AddKey(req.Key)); err != nil {
			s.logger.Printf("[ERR] serf: Failed to install key: %s", err)
		}
	case useKeyQuery:
		s.logger.Printf("[INFO] serf: Received use-key query")
		if err = memberlistError(keyring.UseKey(req.Key)); err != nil {
			s.logger.Printf("[ERR] serf: Failed to change primary key: %s", err)
		}
	case removeKeyQuery:
		s.logger.Printf("[INFO] serf: Received remove-key query")
		if err = memberlistError(keyring.RemoveKey(req.Key)); err != nil {
			s.logger.Printf("[ERR] serf: Failed to remove key: %s", err)
		}
	}
	if err != nil {
		answer.Message = err.Error()
		return
	}
	if err := s.writeKeyringFile(); err != nil {
		answer.Message = err.Error()
		s.logger.Printf("[ERR] serf: Failed to write keyring file: %s", err)
		return
	}
	answer.Result = true
}

// listKeys fills answer with our keys, base64, and the primary.
func (s *Serf) listKeys(answer *messageKeyResponse) {
	keyring := s.config.MemberlistConfig.Keyring
	if keyring == nil {
		answer.Message = "Keyring is empty (encryption not enabled)"
		s.logger.Printf("[ERR] serf: Keyring is empty (encryption not enabled)")
		return
	}
	s.logger.Printf("[INFO] serf: Received list-keys query")
	for _, k := range keyring.GetKeys() {
		answer.Keys = append(answer.Keys, base64.StdEncoding.EncodeToString(k))
	}
	answer.PrimaryKey = base64.StdEncoding.EncodeToString(keyring.GetPrimaryKey())
	answer.Result = true
}

// minEncodedKeyLength is the least a key adds to a list response (a 16-byte
// key in base64 plus framing), which bounds how many keys could ever fit.
const minEncodedKeyLength = 25

// sendKeyList responds with as many keys as fit in one response, saying so
// in the message when the list had to be cut.
func (s *Serf) sendKeyList(q *Query, answer *messageKeyResponse) {
	total := len(answer.Keys)
	n := s.config.QueryResponseSizeLimit / minEncodedKeyLength
	if n > total {
		n = total
	}
	for ; n >= 0; n-- {
		if n < total {
			answer.Keys = answer.Keys[:n]
			answer.Message = fmt.Sprintf("truncated key list response, showing first %d of %d keys", n, total)
		}
		buf, err := s.codec.encodeMessage(messageKeyResponseType, answer)
		if err != nil {
			s.logger.Printf("[ERR] serf: Failed to encode key response: %v", err)
			return
		}
		resp := q.responseFor(buf)
		raw, err := s.codec.encodeMessage(messageQueryResponseType, &resp)
		if err != nil {
			s.logger.Printf("[ERR] serf: Failed to encode key response: %v", err)
			return
		}
		if len(raw) > s.config.QueryResponseSizeLimit {
			continue
		}
		if n < total {
			s.logger.Printf("[WARN] serf: %s", answer.Message)
		}
		if err := q.respondEncoded(&resp, raw); err != nil {
			s.logger.Printf("[ERR] serf: Failed to respond to key query: %v", err)
		}
		return
	}
	s.logger.Printf("[ERR] serf: %v", "Failed to truncate response so that it fits into message")
}

// writeKeyringFile saves the keyring (see keyring_file.go), if a keyring
// file is configured. The file is replaced atomically, and the keys are
// read under the writer's lock so a later change is never overwritten by
// an earlier one.
func (s *Serf) writeKeyringFile() error {
	if s.config.KeyringFile == "" {
		return nil
	}
	// Key material: readable by the owner only.
	err := s.keyManager.keyringFile.Rewrite(s.config.KeyringFile, 0o600, func() ([]byte, error) {
		return EncodeKeyringFile(s.config.MemberlistConfig.Keyring.GetKeys())
	})
	if err != nil {
		return fmt.Errorf("Failed to write keyring file: %s", err)
	}
	return nil
}
