package serf_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Key changes arriving at once rewrite the keyring file from separate
// goroutines. A reader must never see a torn file, and the last rewrite
// must hold the whole keyring, not an older snapshot of it.
func TestKeyringFileRewritesAreAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "n0.keyring")
	kr, err := memberlist.NewKeyring(nil, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	c := serftest.NewCluster(t, 1, func(_ int, conf *serf.Config) {
		conf.MemberlistConfig.Keyring = kr
		conf.KeyringFile = path
	})
	s := c.Members[0].Serf
	km := s.KeyManager()

	stop := make(chan struct{})
	readerDone := make(chan struct{})
	var torn []string
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if err != nil {
				continue // not written yet
			}
			if _, err := serf.DecodeKeyringFile(data); err != nil && len(torn) < 3 {
				torn = append(torn, fmt.Sprintf("%q: %v", data, err))
			}
		}
	}()

	const writers, perWriter = 8, 6
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				key := base64.StdEncoding.EncodeToString(testKey(byte(10 + w*perWriter + i)))
				// On a loaded machine the answer may come after the
				// query's deadline; the key is installed all the same.
				if _, err := km.InstallKey(key); err != nil {
					t.Logf("install: %v", err)
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	<-readerDone
	if len(torn) > 0 {
		t.Fatalf("reader saw a torn keyring file: %v", torn)
	}
	// Once the last change is written, the file holds the live keyring.
	serftest.Eventually(t, 30*time.Second, func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		keys, err := serf.DecodeKeyringFile(data)
		if err != nil {
			return serftest.Permanent(err)
		}
		live := kr.GetKeys()
		if len(live) != 1+writers*perWriter {
			return fmt.Errorf("keyring holds %d keys, want %d", len(live), 1+writers*perWriter)
		}
		if len(keys) != len(live) {
			return fmt.Errorf("keyring file holds %d keys, keyring %d", len(keys), len(live))
		}
		for i := range keys {
			if !bytes.Equal(keys[i], live[i]) {
				return fmt.Errorf("keyring file key %d differs from the keyring's", i)
			}
		}
		return nil
	})
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file mode %v (%v), want 0600", fi.Mode(), err)
	}
}
