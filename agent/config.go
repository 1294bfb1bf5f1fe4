package agent

import (
	"encoding/base64"
	"fmt"
	"net"
	"time"
)

// DefaultBindPort is the gossip port used when an address has none.
const DefaultBindPort = 7946

// MDNSConfig holds the optional mDNS discovery settings (config key "mdns").
type MDNSConfig struct {
	Interface   string `mapstructure:"interface" json:"interface"`
	DisableIPv4 bool   `mapstructure:"disable_ipv4" json:"disable_ipv4"`
	DisableIPv6 bool   `mapstructure:"disable_ipv6" json:"disable_ipv6"`
}

// Config is everything the agent can be told through config files or flags.
// The mapstructure tags are the JSON keys of the config file. Durations are
// read from the *Raw string fields and parsed into their typed twins.
type Config struct {
	NodeName           string            `mapstructure:"node_name"`
	Role               string            `mapstructure:"role"`
	DisableCoordinates bool              `mapstructure:"disable_coordinates"`
	Tags               map[string]string `mapstructure:"tags"`
	TagsFile           string            `mapstructure:"tags_file"`
	BindAddr           string            `mapstructure:"bind"`
	AdvertiseAddr      string            `mapstructure:"advertise"`
	EncryptKey         string            `mapstructure:"encrypt_key"`
	KeyringFile        string            `mapstructure:"keyring_file"`
	LogLevel           string            `mapstructure:"log_level"`
	RPCAddr            string            `mapstructure:"rpc_addr"`
	RPCAuthKey         string            `mapstructure:"rpc_auth"`
	Protocol           int               `mapstructure:"protocol"`
	ReplayOnJoin       bool              `mapstructure:"replay_on_join"`

	QueryResponseSizeLimit int `mapstructure:"query_response_size_limit"`
	QuerySizeLimit         int `mapstructure:"query_size_limit"`
	UserEventSizeLimit     int `mapstructure:"user_event_size_limit"`

	StartJoin     []string `mapstructure:"start_join"`
	EventHandlers []string `mapstructure:"event_handlers"`
	Profile       string   `mapstructure:"profile"`
	SnapshotPath  string   `mapstructure:"snapshot_path"`

	// LeaveOnTerm makes SIGTERM leave gracefully; SkipLeaveOnInt makes
	// SIGINT skip the graceful leave.
	LeaveOnTerm    bool `mapstructure:"leave_on_terminate"`
	SkipLeaveOnInt bool `mapstructure:"skip_leave_on_interrupt"`

	Discover  string     `mapstructure:"discover"`
	MDNS      MDNSConfig `mapstructure:"mdns"`
	Interface string     `mapstructure:"interface"`

	ReconnectIntervalRaw string        `mapstructure:"reconnect_interval"`
	ReconnectInterval    time.Duration `mapstructure:"-"`
	ReconnectTimeoutRaw  string        `mapstructure:"reconnect_timeout"`
	ReconnectTimeout     time.Duration `mapstructure:"-"`
	TombstoneTimeoutRaw  string        `mapstructure:"tombstone_timeout"`
	TombstoneTimeout     time.Duration `mapstructure:"-"`

	DisableNameResolution bool   `mapstructure:"disable_name_resolution"`
	EnableSyslog          bool   `mapstructure:"enable_syslog"`
	SyslogFacility        string `mapstructure:"syslog_facility"`

	RetryJoin        []string      `mapstructure:"retry_join"`
	RetryMaxAttempts int           `mapstructure:"retry_max_attempts"`
	RetryIntervalRaw string        `mapstructure:"retry_interval"`
	RetryInterval    time.Duration `mapstructure:"-"`

	RejoinAfterLeave bool `mapstructure:"rejoin_after_leave"`

	// EnableCompression is always overwritten by the command line
	// (!-disable-compression), as in Serf: the file key has no effect.
	EnableCompression bool `mapstructure:"enable_compression"`

	StatsiteAddr string `mapstructure:"statsite_addr"`
	StatsdAddr   string `mapstructure:"statsd_addr"`

	BroadcastTimeoutRaw string        `mapstructure:"broadcast_timeout"`
	BroadcastTimeout    time.Duration `mapstructure:"-"`

	// Accepted in files for compatibility; neither is applied (the merge
	// keeps the earlier value, as Serf's does).
	ValidateNodeNames bool `mapstructure:"validate_node_names"`

	// MsgpackUseNewTimeFormat has no tag in Serf, so the key matches the
	// field name case-insensitively. It changes nothing on the wire.
	MsgpackUseNewTimeFormat bool
}

// DefaultConfig returns the values used when neither a file nor a flag
// sets a key.
func DefaultConfig() *Config {
	return &Config{
		Tags:                   make(map[string]string),
		BindAddr:               "0.0.0.0",
		LogLevel:               "INFO",
		RPCAddr:                "127.0.0.1:7373",
		Protocol:               5,
		Profile:                "lan",
		RetryInterval:          30 * time.Second,
		SyslogFacility:         "LOCAL0",
		QueryResponseSizeLimit: 1024,
		QuerySizeLimit:         1024,
		UserEventSizeLimit:     512,
		BroadcastTimeout:       5 * time.Second,
	}
}

// AddrParts splits an address into IP and port, adding DefaultBindPort when
// the address has no port and resolving host names.
func (c *Config) AddrParts(address string) (string, int, error) {
	hostPort := address
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		if ae, ok := err.(*net.AddrError); ok && ae.Err == "missing port in address" {
			hostPort = fmt.Sprintf("%s:%d", address, DefaultBindPort)
		} else {
			return "", 0, err
		}
	}
	addr, err := net.ResolveTCPAddr("tcp", hostPort)
	if err != nil {
		return "", 0, err
	}
	return addr.IP.String(), addr.Port, nil
}

// EncryptBytes decodes the base64 encryption key ("" gives no key).
func (c *Config) EncryptBytes() ([]byte, error) {
	return base64.StdEncoding.DecodeString(c.EncryptKey)
}

// EventScripts expands every event_handlers entry into its scripts.
func (c *Config) EventScripts() []EventScript {
	var out []EventScript
	for _, spec := range c.EventHandlers {
		out = append(out, ParseEventScript(spec)...)
	}
	return out
}

// NetworkInterface looks up the configured interface (nil when unset).
func (c *Config) NetworkInterface() (*net.Interface, error) {
	if c.Interface == "" {
		return nil, nil
	}
	return net.InterfaceByName(c.Interface)
}

// MDNSNetworkInterface is the interface mDNS uses: mdns.interface, falling
// back to interface; nil when neither is set.
func (c *Config) MDNSNetworkInterface() (*net.Interface, error) {
	name := c.MDNS.Interface
	if name == "" {
		name = c.Interface
	}
	if name == "" {
		return nil, nil
	}
	return net.InterfaceByName(name)
}
