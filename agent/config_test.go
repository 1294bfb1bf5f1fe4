package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeConfigAllKeys(t *testing.T) {
	body := `{
		"node_name": "n1", "role": "web", "disable_coordinates": true,
		"tags": {"a": "1"}, "tags_file": "/t", "bind": "127.0.0.1:1", "advertise": "127.0.0.2",
		"encrypt_key": "k", "keyring_file": "/k", "log_level": "debug", "rpc_addr": "127.0.0.1:2",
		"rpc_auth": "sec", "protocol": 4, "replay_on_join": true,
		"query_response_size_limit": 10, "query_size_limit": 11, "user_event_size_limit": 12,
		"start_join": ["x"], "event_handlers": ["h.sh"], "profile": "wan", "snapshot_path": "/s",
		"leave_on_terminate": true, "skip_leave_on_interrupt": true, "discover": "c",
		"mdns": {"interface": "eth9", "disable_ipv4": true, "disable_ipv6": true},
		"interface": "eth0", "reconnect_interval": "1s", "reconnect_timeout": "2s",
		"tombstone_timeout": "3s", "disable_name_resolution": true, "enable_syslog": true,
		"syslog_facility": "LOCAL1", "retry_join": ["y"], "retry_max_attempts": 3,
		"retry_interval": "4s", "rejoin_after_leave": true, "enable_compression": true,
		"statsite_addr": "s:1", "statsd_addr": "d:1", "broadcast_timeout": "5s",
		"validate_node_names": true, "msgpackusenewtimeformat": true
	}`
	c, err := DecodeConfig(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeName != "n1" || c.Protocol != 4 || c.MDNS.Interface != "eth9" || !c.MDNS.DisableIPv6 ||
		c.RetryInterval != 4*time.Second || c.BroadcastTimeout != 5*time.Second ||
		c.ReconnectInterval != time.Second || c.TombstoneTimeout != 3*time.Second ||
		!c.MsgpackUseNewTimeFormat || c.RPCAuthKey != "sec" || c.Tags["a"] != "1" {
		t.Fatalf("bad decode: %+v", c)
	}
}

func TestDecodeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"bad.json":     `{"bogus_key": 1}`,
		"badtype.json": `{"protocol": "5"}`,
		"baddur.json":  `{"retry_interval": "xyz"}`,
		"bad2.json":    `{nope}`,
	}
	want := map[string]string{
		"bad.json":     "Error decoding '%s': 1 error(s) decoding:\n\n* '' has invalid keys: bogus_key",
		"badtype.json": "Error decoding '%s': 1 error(s) decoding:\n\n* 'protocol' expected type 'int', got unconvertible type 'string', value: '5'",
		"baddur.json":  `Error decoding '%s': time: invalid duration "xyz"`,
		"bad2.json":    "Error decoding '%s': invalid character 'n' looking for beginning of object key string",
	}
	for name, body := range cases {
		p := writeFile(t, dir, name, body)
		_, err := ReadConfigPaths([]string{p})
		if err == nil || err.Error() != strings.Replace(want[name], "%s", p, 1) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	_, err := ReadConfigPaths([]string{"/nonexistent.json"})
	if err == nil || err.Error() != "Error reading '/nonexistent.json': open /nonexistent.json: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadConfigDirLexicalMerge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "20-b.json", `{"tags": {"b": "3"}, "event_handlers": ["two.sh"], "node_name": "late"}`)
	writeFile(t, dir, "10-a.json", `{"tags": {"a": "1", "b": "2"}, "event_handlers": ["one.sh"], "node_name": "early"}`)
	writeFile(t, dir, "ignored.txt", `{garbage`)
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0755); err != nil {
		t.Fatal(err)
	}
	fc, err := ReadConfigPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	cmd := &Config{Tags: map[string]string{"c": "4"}, EventHandlers: []string{"three.sh"}, EnableCompression: true}
	c := MergeConfig(MergeConfig(DefaultConfig(), fc), cmd)
	if !reflect.DeepEqual(c.Tags, map[string]string{"a": "1", "b": "3", "c": "4"}) {
		t.Errorf("tags %v", c.Tags)
	}
	if !reflect.DeepEqual(c.EventHandlers, []string{"one.sh", "two.sh", "three.sh"}) {
		t.Errorf("handlers %v", c.EventHandlers)
	}
	if c.NodeName != "late" || c.LogLevel != "INFO" || c.RPCAddr != "127.0.0.1:7373" || !c.EnableCompression {
		t.Errorf("merge result %+v", c)
	}
}

func TestMergeConfigRules(t *testing.T) {
	a := &Config{LeaveOnTerm: true, Protocol: 5, RetryJoin: []string{"a"}, EnableCompression: true,
		ValidateNodeNames: false, RetryInterval: time.Second}
	b := &Config{LeaveOnTerm: false, Protocol: -1, RetryJoin: []string{"b"}, EnableCompression: false,
		ValidateNodeNames: true}
	r := MergeConfig(a, b)
	if !r.LeaveOnTerm {
		t.Error("a boolean must not be switched off by a later source")
	}
	if r.Protocol != 5 {
		t.Error("protocol -1 must not override")
	}
	if !reflect.DeepEqual(r.RetryJoin, []string{"a", "b"}) {
		t.Errorf("retry join %v", r.RetryJoin)
	}
	if r.EnableCompression {
		t.Error("EnableCompression always comes from the later source")
	}
	if r.ValidateNodeNames {
		t.Error("validate_node_names is dropped by the merge")
	}
	if r.RetryInterval != time.Second {
		t.Error("zero duration must not override")
	}
	// Merging must not alias the inputs' slices or maps.
	r.RetryJoin[0] = "x"
	if a.RetryJoin[0] != "a" {
		t.Error("merge aliased a slice")
	}
}

func TestAddrParts(t *testing.T) {
	c := DefaultConfig()
	cases := []struct {
		in   string
		ip   string
		port int
	}{
		{"127.0.0.1", "127.0.0.1", 7946},
		{"127.0.0.1:5000", "127.0.0.1", 5000},
		{"[::1]", "::1", 7946},
		{"[::1]:80", "::1", 80},
	}
	for _, tc := range cases {
		ip, port, err := c.AddrParts(tc.in)
		if err != nil || ip != tc.ip || port != tc.port {
			t.Errorf("%s: %s %d %v", tc.in, ip, port, err)
		}
	}
	if _, _, err := c.AddrParts("1.2.3.4:x:y"); err == nil {
		t.Error("want error")
	}
}

func TestConfigFinish(t *testing.T) {
	var warnings []string
	warn := func(s string) { warnings = append(warnings, s) }

	c := DefaultConfig()
	c.Role = "web"
	c.RetryInterval = time.Millisecond
	c.BroadcastTimeout = 0
	c.RejoinAfterLeave = true
	if err := c.Finish(warn); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if c.NodeName != host || c.Tags["role"] != "web" || c.RetryInterval != time.Second || c.BroadcastTimeout != time.Second {
		t.Errorf("finished config %+v", c)
	}
	want := []string{
		"Deprecation warning: 'Role' has been replaced with 'Tags'",
		"Warning: 'RetryInterval' is too low. Setting to 1s",
		"Warning: 'BroadcastTimeout' is too low. Setting to 1s",
		"Warning: 'RejoinAfterLeave' enabled without snapshot file",
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings %q", warnings)
	}

	errCases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.EventHandlers = []string{"bogus-type=foo.sh"} }, "Invalid event script: Event 'bogus-type' invoking 'foo.sh'"},
		{func(c *Config) { c.EventHandlers = []string{"user:x,zap:y=s"} }, "Invalid event script: Event 'zap:y' invoking 's'"},
		{func(c *Config) { c.Interface = "nosuchif0" }, "Invalid network interface: route ip+net: no such network interface"},
		{func(c *Config) { c.MDNS.Interface = "lo" }, "mDNS interface specified without enabling mDNS discovery"},
		{func(c *Config) { c.MDNS.Interface = "nosuchif0"; c.Discover = "x" }, "Invalid mDNS network interface: route ip+net: no such network interface"},
	}
	for _, tc := range errCases {
		c := DefaultConfig()
		c.NodeName = "n"
		tc.edit(c)
		if err := c.Finish(warn); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

func TestOperabilityKeys(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader(`{"metrics_addr": "127.0.0.1:9100", "log_json": true,
		"dns_resolver": "127.0.0.1:5353", "event_handler_timeout": "3s",
		"max_queue_depth": 10000, "min_queue_depth": 2048, "queue_depth_warning": 512,
		"event_buffer": 1024, "query_buffer": 2048}`))
	if err != nil {
		t.Fatal(err)
	}
	m := MergeConfig(DefaultConfig(), c)
	if m.MetricsAddr != "127.0.0.1:9100" || !m.LogJSON || m.DNSResolver != "127.0.0.1:5353" ||
		m.EventHandlerTimeout != 3*time.Second || m.MaxQueueDepth != 10000 || m.MinQueueDepth != 2048 ||
		m.QueueDepthWarning != 512 || m.EventBuffer != 1024 || m.QueryBuffer != 2048 {
		t.Fatalf("merged: %+v", m)
	}
	if err := m.Finish(func(string) {}); err != nil {
		t.Fatal(err)
	}
	m.BindAddr = "127.0.0.1:0"
	sc, err := m.SerfConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.MaxQueueDepth != 10000 || sc.MinQueueDepth != 2048 || sc.QueueDepthWarning != 512 ||
		sc.EventBuffer != 1024 || sc.QueryBuffer != 2048 {
		t.Errorf("serf config: %+v", sc)
	}
}

func TestQueueDefaultsAreSerfs(t *testing.T) {
	d := DefaultConfig()
	d.BindAddr = "127.0.0.1:0"
	sc, err := d.SerfConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.MaxQueueDepth != 4096 || sc.MinQueueDepth != 0 || sc.QueueDepthWarning != 128 ||
		sc.EventBuffer != 512 || sc.QueryBuffer != 512 {
		t.Errorf("defaults: max %d min %d warn %d events %d queries %d", sc.MaxQueueDepth,
			sc.MinQueueDepth, sc.QueueDepthWarning, sc.EventBuffer, sc.QueryBuffer)
	}
}

func TestOperabilityValidation(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxQueueDepth = -1 }, "Invalid max_queue_depth: -1 (must be between 1 and 2147483647, or 0 for the default)"},
		{func(c *Config) { c.MinQueueDepth = -5 }, "Invalid min_queue_depth: -5 (must be between 1 and 2147483647, or 0 for the default)"},
		{func(c *Config) { c.QueueDepthWarning = -1 }, "Invalid queue_depth_warning: -1 (must be between 1 and 2147483647, or 0 for the default)"},
		{func(c *Config) { c.EventBuffer = 1<<20 + 1 }, "Invalid event_buffer: 1048577 (must be between 1 and 1048576, or 0 for the default)"},
		{func(c *Config) { c.QueryBuffer = -1 }, "Invalid query_buffer: -1 (must be between 1 and 1048576, or 0 for the default)"},
		{func(c *Config) { c.MetricsAddr = "9100" }, "Invalid metrics address: address 9100: missing port in address"},
		{func(c *Config) { c.DNSResolver = "dns.example:53" }, `Invalid DNS resolver: "dns.example" is not an IP address`},
		{func(c *Config) { c.DNSResolver = "127.0.0.1" }, "Invalid DNS resolver: address 127.0.0.1: missing port in address"},
		{func(c *Config) { c.EventHandlerTimeout = -time.Second }, "Invalid event handler timeout: -1s"},
	} {
		c := DefaultConfig()
		c.NodeName = "n"
		tc.edit(c)
		err := c.Finish(func(string) {})
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
