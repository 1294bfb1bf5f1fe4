package serf_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// encryptedNode is a Serf on 127.0.0.1 with a gossip key, encrypting (and
// compressing) in its transport or leaving both to memberlist.
type encryptedNode struct {
	serf   *serf.Serf
	events chan serf.Event
}

func startEncrypted(t *testing.T, name string, key []byte, inTransport bool) encryptedNode {
	t.Helper()
	conf := onLoopback(name, 0, io.Discard)
	conf.MemberlistConfig.SecretKey = key
	conf.TransportEncryption = inTransport
	conf.TransportCompression = inTransport
	s, events := createWithEvents(t, conf)
	return encryptedNode{s, events}
}

func (n encryptedNode) addr() string { return n.serf.Memberlist().LocalNode().Address() }

// A Serf that encrypts in its transport and one that leaves encryption to
// memberlist form one cluster with the same key: joins from either side
// (a push/pull, a stream each way) work, user events (packets, compressed
// then encrypted) cross in both directions, and after the key is rotated
// with the key manager (install, use, remove the old one) events still
// cross. So each side opens what the other seals, streams and packets.
func TestTransportEncryptionInterworks(t *testing.T) {
	oldKey := bytes.Repeat([]byte{1}, 16)
	newKey := bytes.Repeat([]byte{2}, 32)
	own := startEncrypted(t, "own", oldKey, true)
	ml := startEncrypted(t, "memberlist", oldKey, false)
	third := startEncrypted(t, "third", oldKey, true)

	if _, err := ml.serf.Join([]string{own.addr()}, false); err != nil {
		t.Fatalf("memberlist's side joining the transport's: %v", err)
	}
	if _, err := third.serf.Join([]string{ml.addr()}, false); err != nil {
		t.Fatalf("the transport's side joining memberlist's: %v", err)
	}
	for _, n := range []encryptedNode{own, ml, third} {
		serftest.Eventually(t, 10*time.Second, func() error {
			if got := n.serf.NumNodes(); got != 3 {
				return fmt.Errorf("%s knows %d nodes", n.serf.LocalMember().Name, got)
			}
			return nil
		})
	}

	crossBothWays := func(round string) {
		t.Helper()
		payload := bytes.Repeat([]byte("compressible "), 30)
		for _, pair := range [][2]encryptedNode{{own, ml}, {ml, own}} {
			name := round + "-from-" + pair[0].serf.LocalMember().Name
			if err := pair[0].serf.UserEvent(name, payload, false); err != nil {
				t.Fatal(err)
			}
			awaitUserEvent(t, pair[1].events, name, payload)
		}
	}
	crossBothWays("old-key")

	keys := own.serf.KeyManager()
	encoded := base64.StdEncoding.EncodeToString(newKey)
	for _, step := range []struct {
		op   string
		call func(string) (*serf.KeyResponse, error)
		key  string
	}{
		{"install", keys.InstallKey, encoded},
		{"use", keys.UseKey, encoded},
		{"remove", keys.RemoveKey, base64.StdEncoding.EncodeToString(oldKey)},
	} {
		resp, err := step.call(step.key)
		if err != nil || resp.NumErr != 0 || resp.NumResp != 3 {
			t.Fatalf("%s: %+v %v", step.op, resp, err)
		}
	}
	list, err := ml.serf.KeyManager().ListKeys()
	if err != nil || len(list.Keys) != 1 || list.Keys[encoded] != 3 || list.PrimaryKeys[encoded] != 3 {
		t.Fatalf("keys after the rotation: %+v %v", list, err)
	}
	crossBothWays("new-key")
}

// The transport's encryption is real: a member with another key, or with
// none, cannot join a Serf that encrypts in its transport, nor can it
// join them.
func TestTransportEncryptionRefusesOtherKeys(t *testing.T) {
	own := startEncrypted(t, "own", bytes.Repeat([]byte{1}, 16), true)
	for _, other := range []encryptedNode{
		startEncrypted(t, "other-key", bytes.Repeat([]byte{9}, 16), true),
		startEncrypted(t, "no-key", nil, false),
	} {
		name := other.serf.LocalMember().Name
		if n, err := other.serf.Join([]string{own.addr()}, false); err == nil || n != 0 {
			t.Errorf("%s joined the encrypting Serf: %d %v", name, n, err)
		}
		if n, err := own.serf.Join([]string{other.addr()}, false); err == nil || n != 0 {
			t.Errorf("the encrypting Serf joined %s: %d %v", name, n, err)
		}
	}
	if got := own.serf.NumNodes(); got != 1 {
		t.Fatalf("the encrypting Serf knows %d nodes", got)
	}
}
