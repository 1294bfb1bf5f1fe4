package agent

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestSerfConfigMapsAgentSettings(t *testing.T) {
	conf := DefaultConfig()
	conf.NodeName = "n1"
	conf.BindAddr = "127.0.0.1:7000"
	conf.AdvertiseAddr = "127.0.0.2"
	conf.EncryptKey = "UEGYnqFO7ybeecr6h3CQ6HVK1ztGTTThRWpioBXoSD4="
	conf.Profile = "wan"
	conf.Tags = map[string]string{"role": "web"}
	conf.SnapshotPath = "/tmp/snap"
	conf.KeyringFile = "/tmp/keyring"
	conf.Protocol = 4
	conf.RejoinAfterLeave = true
	conf.DisableNameResolution = true
	conf.EnableCompression = true
	conf.QuerySizeLimit = 11
	conf.QueryResponseSizeLimit = 12
	conf.UserEventSizeLimit = 13
	conf.ReconnectTimeout = time.Minute
	conf.BroadcastTimeout = 7 * time.Second

	sc, err := conf.SerfConfig()
	if err != nil {
		t.Fatal(err)
	}
	ml := sc.MemberlistConfig
	wan := memberlist.DefaultWANConfig()
	if ml.ProbeInterval != wan.ProbeInterval || ml.GossipNodes != wan.GossipNodes {
		t.Errorf("profile: probe %v nodes %d, want the wan profile", ml.ProbeInterval, ml.GossipNodes)
	}
	if ml.BindAddr != "127.0.0.1" || ml.BindPort != 7000 || ml.AdvertiseAddr != "127.0.0.2" || ml.AdvertisePort != DefaultBindPort {
		t.Errorf("addresses: bind %s:%d advertise %s:%d", ml.BindAddr, ml.BindPort, ml.AdvertiseAddr, ml.AdvertisePort)
	}
	if len(ml.SecretKey) != 32 || !ml.EnableCompression {
		t.Errorf("key %d bytes, compression %v", len(ml.SecretKey), ml.EnableCompression)
	}
	if sc.NodeName != "n1" || sc.Tags["role"] != "web" || sc.SnapshotPath != "/tmp/snap" || sc.KeyringFile != "/tmp/keyring" {
		t.Errorf("identity: %q %v %q %q", sc.NodeName, sc.Tags, sc.SnapshotPath, sc.KeyringFile)
	}
	if sc.ProtocolVersion != 4 || !sc.RejoinAfterLeave || sc.EnableNameConflictResolution {
		t.Errorf("protocol %d rejoin %v name resolution %v", sc.ProtocolVersion, sc.RejoinAfterLeave, sc.EnableNameConflictResolution)
	}
	if sc.QuerySizeLimit != 11 || sc.QueryResponseSizeLimit != 12 || sc.UserEventSizeLimit != 13 {
		t.Errorf("limits: %d %d %d", sc.QuerySizeLimit, sc.QueryResponseSizeLimit, sc.UserEventSizeLimit)
	}
	if sc.CoalescePeriod != 3*time.Second || sc.QuiescentPeriod != time.Second ||
		sc.UserCoalescePeriod != 3*time.Second || sc.UserQuiescentPeriod != time.Second {
		t.Errorf("coalescing: %v %v %v %v", sc.CoalescePeriod, sc.QuiescentPeriod, sc.UserCoalescePeriod, sc.UserQuiescentPeriod)
	}
	if sc.ReconnectTimeout != time.Minute || sc.BroadcastTimeout != 7*time.Second {
		t.Errorf("set timeouts: %v %v", sc.ReconnectTimeout, sc.BroadcastTimeout)
	}
	// Unset durations keep Serf's defaults.
	if sc.ReconnectInterval != 30*time.Second || sc.TombstoneTimeout != 24*time.Hour {
		t.Errorf("default timeouts: %v %v", sc.ReconnectInterval, sc.TombstoneTimeout)
	}

	// The tags are Serf's own copy: later edits to the agent config do not
	// reach the handed-over Serf config.
	conf.Tags["role"] = "db"
	if sc.Tags["role"] != "web" {
		t.Errorf("serf config shares the tags map")
	}
}

func TestSerfConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.BindAddr = "127.0.0.1:x:y" }, "Invalid bind address: "},
		{func(c *Config) { c.AdvertiseAddr = "127.0.0.1:x:y" }, "Invalid advertise address: "},
		{func(c *Config) { c.EncryptKey = "not base64!" }, "Invalid encryption key: "},
		{func(c *Config) { c.Profile = "moon" }, "Unknown profile: moon"},
	} {
		conf := DefaultConfig()
		tc.edit(conf)
		if _, err := conf.SerfConfig(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want %q...", err, tc.want)
		}
	}
}

// loopback returns the name of the loopback interface with 127.0.0.1.
func loopback(t *testing.T) string {
	t.Helper()
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Skip(err)
	}
	for _, iface := range ifaces {
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.String() == "127.0.0.1" {
				return iface.Name
			}
		}
	}
	t.Skip("no interface carries 127.0.0.1")
	return ""
}

func TestResolveInterface(t *testing.T) {
	lo := loopback(t)

	// A wildcard bind takes the interface's address, keeping the port.
	conf := DefaultConfig()
	conf.BindAddr = "0.0.0.0:7001"
	conf.Interface = lo
	ip, err := conf.ResolveInterface()
	if err != nil || ip != "127.0.0.1" || conf.BindAddr != "127.0.0.1:7001" {
		t.Fatalf("wildcard: %q %v, bind now %q", ip, err, conf.BindAddr)
	}
	sc, err := conf.SerfConfig()
	if err != nil || sc.MemberlistConfig.BindAddr != "127.0.0.1" || sc.MemberlistConfig.BindPort != 7001 {
		t.Fatalf("mapped: %v %+v", err, sc)
	}

	// A concrete bind address must be on the interface.
	conf.BindAddr = "127.0.0.1"
	if ip, err := conf.ResolveInterface(); err != nil || ip != "" || conf.BindAddr != "127.0.0.1" {
		t.Errorf("own address: %q %v %q", ip, err, conf.BindAddr)
	}
	conf.BindAddr = "192.0.2.1"
	want := "Interface '" + lo + "' has no '192.0.2.1' address"
	if _, err := conf.ResolveInterface(); err == nil || err.Error() != want {
		t.Errorf("foreign address: %v, want %q", err, want)
	}
	if _, err := conf.SerfConfig(); err == nil || err.Error() != want {
		t.Errorf("foreign address mapped: %v, want %q", err, want)
	}

	// Without -iface nothing changes.
	conf = DefaultConfig()
	if ip, err := conf.ResolveInterface(); err != nil || ip != "" || conf.BindAddr != "0.0.0.0" {
		t.Errorf("no iface: %q %v %q", ip, err, conf.BindAddr)
	}
}

// rejoin_reaped_interval and address_book_size (serf#605): unset keeps
// Serf's defaults, a positive value is used, a negative one turns it off.
func TestSerfConfigRecoveryKeys(t *testing.T) {
	dec, err := DecodeConfig(strings.NewReader(`{"rejoin_reaped_interval": "5s", "address_book_size": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	if dec.RejoinReapedInterval != 5*time.Second || dec.AddressBookSize != 7 {
		t.Fatalf("decoded %v %d", dec.RejoinReapedInterval, dec.AddressBookSize)
	}
	for _, tc := range []struct {
		interval time.Duration
		size     int
		wantInt  time.Duration
		wantSize int
	}{
		{0, 0, time.Minute, 256},
		{dec.RejoinReapedInterval, dec.AddressBookSize, 5 * time.Second, 7},
		{-time.Second, -1, 0, 0},
	} {
		conf := MergeConfig(DefaultConfig(), &Config{RejoinReapedInterval: tc.interval, AddressBookSize: tc.size})
		conf.NodeName = "n1"
		conf.BindAddr = "127.0.0.1:7000"
		sc, err := conf.SerfConfig()
		if err != nil {
			t.Fatal(err)
		}
		if sc.RejoinReapedInterval != tc.wantInt || sc.AddressBookSize != tc.wantSize {
			t.Errorf("%v/%d: got %v/%d, want %v/%d", tc.interval, tc.size,
				sc.RejoinReapedInterval, sc.AddressBookSize, tc.wantInt, tc.wantSize)
		}
	}
}
