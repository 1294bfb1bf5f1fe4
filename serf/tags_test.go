package serf_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestSetTagsUpdatesPeers(t *testing.T) {
	c := serftest.NewCluster(t, 2, nil)
	c.JoinAll()

	if err := c.Members[0].Serf.SetTags(map[string]string{"role": "web"}); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, waitFor, func() error {
		m, _ := serftest.FindMember(c.Members[1].Serf, "n0")
		if m.Tags["role"] != "web" || !serftest.Contains(c.Members[1].Events.MemberEvents(serf.EventMemberUpdate), "n0") {
			return fmt.Errorf("n1 sees n0 with tags %v and no update event yet", m.Tags)
		}
		return nil
	})
	if got := c.Members[0].Serf.LocalMember().Tags["role"]; got != "web" {
		t.Fatalf("local member tags not updated: %q", got)
	}
	big := map[string]string{"x": string(make([]byte, 600))}
	err := c.Members[0].Serf.SetTags(big)
	if err == nil || err.Error() != "Encoded length of tags exceeds limit of 512 bytes" {
		t.Fatalf("big tags: %v", err)
	}
}

// Protocol 2 only carries the "role" tag.
func TestProtocol2CarriesRoleOnly(t *testing.T) {
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		if i == 0 {
			conf.ProtocolVersion = 2
			conf.Tags = map[string]string{"role": "web", "dc": "east"}
		}
	})
	c.JoinAll()
	serftest.Eventually(t, 5*time.Second, func() error {
		m, ok := serftest.FindMember(c.Members[1].Serf, "n0")
		if !ok || m.Tags["role"] != "web" || len(m.Tags) != 1 || m.DelegateCur != 2 {
			return fmt.Errorf("n1 sees n0 as %+v (known: %v)", m, ok)
		}
		return nil
	})
}
