package serf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// The start-up rejoin keeps retrying a remembered failed node that is not
// up yet, and joins it once it is (serf#333).
func TestRejoinRetriesUntilPeerIsUp(t *testing.T) {
	t.Parallel()
	net := serftest.NewNetwork(1)
	t.Cleanup(net.Close)
	lateTr := net.NewTransport("late")
	lateAddr := lateTr.Addr()
	_ = lateTr.Shutdown() // nobody answers there yet

	path := filepath.Join(t.TempDir(), "snap")
	snap := "alive: late " + lateAddr + "\nnot-alive: late\nfailed: late " + lateAddr + "\n"
	if err := os.WriteFile(path, []byte(snap), 0600); err != nil {
		t.Fatal(err)
	}
	earlyLogs := &serftest.SyncBuffer{}
	conf := serftest.TestConfig("early", net.NewTransport("early"), earlyLogs)
	conf.SnapshotPath = path
	conf.RejoinRetryInterval, conf.RejoinRetryMax = 50*time.Millisecond, 200*time.Millisecond
	early, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = early.Shutdown() })

	attempt := "Attempting re-join to previously known node: late: " + lateAddr
	serftest.Eventually(t, 10*time.Second, func() error {
		if n := strings.Count(earlyLogs.String(), attempt); n < 2 {
			return fmt.Errorf("%d attempts so far", n)
		}
		return nil
	})
	if !earlyLogs.Contains("[WARN] serf: Failed to re-join any previously known node") {
		t.Fatalf("first round's failure not logged:\n%s", earlyLogs)
	}

	late, err := serf.Create(serftest.TestConfig("late", net.Restart("late"), &serftest.SyncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = late.Shutdown() })
	serftest.Eventually(t, 20*time.Second, func() error {
		if n := early.NumNodes(); n != 2 {
			return fmt.Errorf("early sees %d nodes", n)
		}
		return nil
	})
}

// Two halves separated past ReconnectTimeout reap each other, keep each
// other in the address book, and merge by themselves once healed
// (serf#605).
func TestReapedMembersRejoinAfterHeal(t *testing.T) {
	t.Parallel()
	c := serftest.NewCluster(t, 4, func(i int, conf *serf.Config) {
		conf.ReconnectInterval = time.Hour // only the address book may heal it
		conf.ReconnectTimeout = 300 * time.Millisecond
		conf.ReapInterval = 100 * time.Millisecond
		conf.RejoinReapedInterval = 200 * time.Millisecond
	})
	c.JoinAll()
	c.Net.Partition([]string{"n0", "n1"}, []string{"n2", "n3"})
	serftest.Eventually(t, 20*time.Second, func() error {
		for _, m := range c.Members {
			if n := m.Serf.NumNodes(); n != 2 {
				return fmt.Errorf("%s knows %d nodes", m.Name, n)
			}
			if n := len(m.Serf.AddressBook()); n != 2 {
				return fmt.Errorf("%s has %d book entries", m.Name, n)
			}
		}
		return nil
	})
	c.Net.Heal()
	c.WaitMembers(4)
	serftest.Eventually(t, 10*time.Second, func() error {
		for _, m := range c.Members {
			if book := m.Serf.AddressBook(); len(book) != 0 {
				return fmt.Errorf("%s still has %v", m.Name, book)
			}
		}
		return nil
	})
}
