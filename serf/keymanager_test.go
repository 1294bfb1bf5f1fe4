package serf_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func testKey(b byte) []byte {
	k := make([]byte, 16)
	for i := range k {
		k[i] = b
	}
	return k
}

func TestKeyManagerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := serftest.NewCluster(t, 2, func(_ int, conf *serf.Config) {
		kr, err := memberlist.NewKeyring(nil, testKey(1))
		if err != nil {
			t.Fatal(err)
		}
		conf.MemberlistConfig.Keyring = kr
		conf.KeyringFile = filepath.Join(dir, conf.NodeName+".keyring")
		// Each change is fsynced before it is answered; on a loaded
		// machine that can take longer than the test timers' 160 ms.
		conf.QueryTimeoutMult = 500
	})
	c.JoinAll()
	km := c.Members[0].Serf.KeyManager()
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.StdEncoding.EncodeToString(testKey(2))

	if !c.Members[0].Serf.EncryptionEnabled() || c.Members[0].Serf.Stats()["encrypted"] != "true" {
		t.Fatal("encryption not reported")
	}
	resp, err := km.InstallKey(k2)
	if err != nil || resp.NumResp != 2 || resp.NumNodes != 2 || resp.NumErr != 0 {
		t.Fatalf("install: %v %+v", err, resp)
	}
	resp, err = km.ListKeys()
	if err != nil || resp.Keys[k1] != 2 || resp.Keys[k2] != 2 || resp.PrimaryKeys[k1] != 2 {
		t.Fatalf("list: %v %+v", err, resp)
	}
	if _, err := km.UseKey(k2); err != nil {
		t.Fatal(err)
	}
	// Answers carry Serf v0.10.2's wording (memberlist_errors.go).
	resp, err = km.RemoveKey(k2)
	if err == nil || err.Error() != "2/2 nodes reported failure" || resp.Messages["n1"] != "Removing the primary key is not allowed" {
		t.Fatalf("remove primary: %v %+v", err, resp)
	}
	resp, err = km.UseKey(base64.StdEncoding.EncodeToString(testKey(3)))
	if err == nil || resp.Messages["n0"] != "Requested key is not in the keyring" {
		t.Fatalf("use unknown: %v %+v", err, resp)
	}
	if _, err := km.RemoveKey(k1); err != nil {
		t.Fatal(err)
	}
	resp, err = km.ListKeys()
	if err != nil || len(resp.Keys) != 1 || resp.PrimaryKeys[k2] != 2 {
		t.Fatalf("final list: %v %+v", err, resp)
	}
	var onDisk []string
	data, err := os.ReadFile(filepath.Join(dir, "n1.keyring"))
	if err != nil || json.Unmarshal(data, &onDisk) != nil || len(onDisk) != 1 || onDisk[0] != k2 {
		t.Fatalf("keyring file %q (%v)", data, err)
	}

	if _, err := km.InstallKey("not base64!"); err == nil || err.Error() != "illegal base64 data at input byte 3" {
		t.Fatalf("bad key: %v", err)
	}
}

func TestKeyManagerWithoutEncryption(t *testing.T) {
	c := serftest.NewCluster(t, 2, nil)
	c.JoinAll()
	km := c.Members[0].Serf.KeyManager()
	resp, err := km.InstallKey(base64.StdEncoding.EncodeToString(testKey(3)))
	if err == nil || err.Error() != "2/2 nodes reported failure" {
		t.Fatalf("install: %v", err)
	}
	if resp.Messages["n1"] != "No keyring to modify (encryption not enabled)" {
		t.Fatalf("messages %v", resp.Messages)
	}
	resp, err = km.ListKeys()
	if err == nil || resp.Messages["n0"] != "Keyring is empty (encryption not enabled)" {
		t.Fatalf("list: %v %v", err, resp.Messages)
	}
}

// With a relay factor every answer also arrives through other members;
// each node must still be counted once.
func TestKeyManagerWithOptions(t *testing.T) {
	c := serftest.NewCluster(t, 3, func(_ int, conf *serf.Config) {
		kr, err := memberlist.NewKeyring(nil, testKey(1))
		if err != nil {
			t.Fatal(err)
		}
		conf.MemberlistConfig.Keyring = kr
		conf.QueryTimeoutMult = 500
	})
	c.JoinAll()
	km := c.Members[0].Serf.KeyManager()
	opts := &serf.KeyRequestOptions{RelayFactor: 2}
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.StdEncoding.EncodeToString(testKey(2))

	resp, err := km.InstallKeyWithOptions(k2, opts)
	if err != nil || resp.NumResp != 3 || resp.NumNodes != 3 {
		t.Fatalf("install: %v %+v", err, resp)
	}
	if _, err := km.UseKeyWithOptions(k2, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := km.RemoveKeyWithOptions(k1, nil); err != nil {
		t.Fatal(err)
	}
	resp, err = km.ListKeysWithOptions(opts)
	if err != nil || resp.NumResp != 3 || len(resp.Keys) != 1 || resp.Keys[k2] != 3 || resp.PrimaryKeys[k2] != 3 {
		t.Fatalf("list: %v %+v", err, resp)
	}
}
