package serf_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// mergeRecorder is a Config.Merge that remembers what it was shown and
// refuses when refuse is set.
type mergeRecorder struct {
	mu     sync.Mutex
	seen   map[string]*serf.Member
	refuse error
}

func (m *mergeRecorder) NotifyMerge(members []*serf.Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mem := range members {
		m.seen[mem.Name] = mem
	}
	return m.refuse
}

func (m *mergeRecorder) member(name string) (*serf.Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.seen[name]
	return mem, ok
}

func TestMergeDelegateSeesJoiningCluster(t *testing.T) {
	rec := &mergeRecorder{seen: map[string]*serf.Member{}}
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		conf.Tags = map[string]string{"role": "r" + string(rune('0'+i))}
		if i == 1 {
			conf.Merge = rec
		}
	})
	c.JoinAll()
	m, ok := rec.member("n0")
	if !ok {
		t.Fatal("Merge delegate was not shown n0")
	}
	if m.Tags["role"] != "r0" || m.Status != serf.StatusNone || len(m.Addr) == 0 {
		t.Fatalf("n0 as shown to the delegate: %+v", m)
	}
}

func TestMergeDelegateCanRefuse(t *testing.T) {
	rec := &mergeRecorder{seen: map[string]*serf.Member{}, refuse: errors.New("not this cluster")}
	c := serftest.NewCluster(t, 2, func(i int, conf *serf.Config) {
		if i == 1 {
			conf.Merge = rec
		}
	})
	_, err := c.Members[1].Serf.Join([]string{c.Members[0].Addr()}, false)
	if err == nil || !strings.Contains(err.Error(), "not this cluster") {
		t.Fatalf("join with a refusing Merge delegate: %v", err)
	}
	if _, ok := serftest.FindMember(c.Members[1].Serf, "n0"); ok {
		t.Fatal("n0 became a member despite the refusal")
	}
}
