package agent

import (
	"encoding/base64"
	"fmt"
	"net"
	"time"
)

// DefaultBindPort is the gossip port used when an address has none.
const DefaultBindPort = 7946

// MDNSConfig is the "mdns" object of a config file: where and how mDNS
// discovery (see Config.Discover) runs.
type MDNSConfig struct {
	// Interface ("interface", -mdns-iface; default: Config.Interface)
	// is the network interface mDNS listens and queries on. Setting it
	// without discover is an error.
	Interface string `mapstructure:"interface" json:"interface"`

	// DisableIPv4 ("disable_ipv4", -mdns-disable-ipv4; default false) and
	// DisableIPv6 ("disable_ipv6", -mdns-disable-ipv6; default false) turn
	// off mDNS over that IP version; disabling both is an error.
	DisableIPv4 bool `mapstructure:"disable_ipv4" json:"disable_ipv4"`
	DisableIPv6 bool `mapstructure:"disable_ipv6" json:"disable_ipv6"`
}

// Config is everything `serf agent` can be told, through JSON config files
// (-config-file, -config-dir) and flags; MergeConfig lays flags over files
// over DefaultConfig, Finish completes the result and SerfConfig maps it
// onto Serf. Each field below names its config key, its flag ("no flag"
// when it has none), its default and what it does. The keys are those of
// Serf v0.10.2. Durations are written as strings ("30s") under the key of
// the *Raw field and parsed into the typed twin, which flags set directly.
type Config struct {
	// Identity.

	// NodeName ("node_name", -node; default: the host name) is the
	// member's name, unique in the cluster.
	NodeName string `mapstructure:"node_name"`
	// Tags ("tags", -tag key=value, repeatable; default none) are the
	// member's initial tags. Not allowed together with a tags file.
	Tags map[string]string `mapstructure:"tags"`
	// TagsFile ("tags_file", -tags-file; default none) persists tags: they
	// are read from it at start and every change is written back.
	TagsFile string `mapstructure:"tags_file"`
	// Role ("role", -role; default none) is deprecated: Finish turns it
	// into the tag "role" and warns.
	Role string `mapstructure:"role"`

	// Network.

	// BindAddr ("bind", -bind; default "0.0.0.0", port 7946 when none is
	// given) is the gossip address (TCP and UDP).
	BindAddr string `mapstructure:"bind"`
	// AdvertiseAddr ("advertise", -advertise; default: the bind address)
	// is the address told to other members, e.g. behind NAT.
	AdvertiseAddr string `mapstructure:"advertise"`
	// Interface ("interface", -iface; default none) binds to this network
	// interface: with a wildcard bind address, its first address that is
	// not link-local is used; otherwise it must carry the bind address.
	Interface string `mapstructure:"interface"`
	// Profile ("profile", -profile; default "lan") picks memberlist's
	// timing profile: "lan", "wan" or "local".
	Profile string `mapstructure:"profile"`
	// Protocol ("protocol", -protocol; default 5) is the Serf protocol
	// version spoken.
	Protocol int `mapstructure:"protocol"`
	// EnableCompression ("enable_compression"; flag: -disable-compression
	// turns it off; default on) compresses gossip messages. The command
	// line always decides it: the file key has no effect, as in Serf.
	EnableCompression bool `mapstructure:"enable_compression"`

	// Encryption.

	// EncryptKey ("encrypt_key", -encrypt; default none) is the base64
	// gossip encryption key (16, 24 or 32 bytes). Not allowed together
	// with a keyring file.
	EncryptKey string `mapstructure:"encrypt_key"`
	// KeyringFile ("keyring_file", -keyring-file; default none) holds the
	// keyring (a JSON array of base64 keys, the first primary); key changes
	// made through `serf keys` are written back to it.
	KeyringFile string `mapstructure:"keyring_file"`

	// Joining the cluster.

	// StartJoin ("start_join", -join, repeatable; default none) are
	// addresses joined once at start; failing that, the agent exits.
	StartJoin []string `mapstructure:"start_join"`
	// ReplayOnJoin ("replay_on_join", -replay; default false) replays
	// past user events when joining (start, retry and mDNS joins).
	ReplayOnJoin bool `mapstructure:"replay_on_join"`
	// RetryJoin ("retry_join", -retry-join, repeatable; default none) are
	// addresses joined in the background, retried until one join works.
	RetryJoin []string `mapstructure:"retry_join"`
	// RetryMaxAttempts ("retry_max_attempts", -retry-max; default 0 for
	// no limit) bounds the retries; once used up the agent exits with 1.
	RetryMaxAttempts int `mapstructure:"retry_max_attempts"`
	// RetryInterval ("retry_interval", -retry-interval; default 30s, at
	// least 1s) is the pause between retries.
	RetryIntervalRaw string        `mapstructure:"retry_interval"`
	RetryInterval    time.Duration `mapstructure:"-"`
	// RejoinAfterLeave ("rejoin_after_leave", -rejoin; default false)
	// rejoins from the snapshot even after this node had left.
	RejoinAfterLeave bool `mapstructure:"rejoin_after_leave"`
	// Discover ("discover", -discover; default none) names a cluster to
	// find and join through mDNS, advertised as "_serf_<name>._tcp".
	Discover string `mapstructure:"discover"`
	// MDNS ("mdns"; flags -mdns-*) tunes mDNS discovery.
	MDNS MDNSConfig `mapstructure:"mdns"`

	// State and failure handling.

	// SnapshotPath ("snapshot_path", -snapshot; default none) is the file
	// Serf records members, clocks and events in, to recover after a
	// restart.
	SnapshotPath string `mapstructure:"snapshot_path"`
	// ReconnectInterval ("reconnect_interval"; no flag; default Serf's,
	// 30s) is how often a failed member is tried again.
	ReconnectIntervalRaw string        `mapstructure:"reconnect_interval"`
	ReconnectInterval    time.Duration `mapstructure:"-"`
	// ReconnectTimeout ("reconnect_timeout"; no flag; default Serf's, 24h)
	// is how long a failed member is tried before it is reaped.
	ReconnectTimeoutRaw string        `mapstructure:"reconnect_timeout"`
	ReconnectTimeout    time.Duration `mapstructure:"-"`
	// RejoinReapedInterval ("rejoin_reaped_interval"; no flag; default
	// 60s; a negative duration turns it off) is how
	// often a few members reaped after failing are joined again, so a
	// partition longer than reconnect_timeout heals (serf#605).
	RejoinReapedIntervalRaw string        `mapstructure:"rejoin_reaped_interval"`
	RejoinReapedInterval    time.Duration `mapstructure:"-"`
	// AddressBookSize ("address_book_size"; no flag; default 256; negative
	// turns it off) bounds how many members reaped after failing are
	// remembered, with the snapshot when there is one (serf#605).
	AddressBookSize int `mapstructure:"address_book_size"`
	// TombstoneTimeout ("tombstone_timeout"; no flag; default Serf's,
	// 24h) is how long a member that left is remembered.
	TombstoneTimeoutRaw string        `mapstructure:"tombstone_timeout"`
	TombstoneTimeout    time.Duration `mapstructure:"-"`
	// DisableNameResolution ("disable_name_resolution"; no flag; default
	// false) turns off Serf's resolution of node name conflicts.
	DisableNameResolution bool `mapstructure:"disable_name_resolution"`
	// DisableCoordinates ("disable_coordinates"; no flag; default false)
	// is read but, as in Serf's agent, not applied: coordinates stay on.
	DisableCoordinates bool `mapstructure:"disable_coordinates"`
	// LeaveOnTerm ("leave_on_terminate"; no flag; default false) makes
	// SIGTERM leave the cluster gracefully before exiting.
	LeaveOnTerm bool `mapstructure:"leave_on_terminate"`
	// SkipLeaveOnInt ("skip_leave_on_interrupt"; no flag; default false)
	// makes SIGINT exit without the graceful leave.
	SkipLeaveOnInt bool `mapstructure:"skip_leave_on_interrupt"`

	// Events and queries.

	// EventHandlers ("event_handlers", -event-handler, repeatable; default
	// none) are handler scripts, "[filter=]script" (see EventScripts).
	EventHandlers []string `mapstructure:"event_handlers"`
	// QuerySizeLimit ("query_size_limit"; no flag; default 1024),
	// QueryResponseSizeLimit ("query_response_size_limit"; no flag;
	// default 1024) and UserEventSizeLimit ("user_event_size_limit"; no
	// flag; default 512) bound the encoded size, in bytes, of a query, of
	// a query response and of a user event.
	QuerySizeLimit         int `mapstructure:"query_size_limit"`
	QueryResponseSizeLimit int `mapstructure:"query_response_size_limit"`
	UserEventSizeLimit     int `mapstructure:"user_event_size_limit"`
	// BroadcastTimeout ("broadcast_timeout", -broadcast-timeout; default
	// 5s, at least 1s) bounds how long a leave or a force-leave waits for
	// its news to be gossiped.
	BroadcastTimeoutRaw string        `mapstructure:"broadcast_timeout"`
	BroadcastTimeout    time.Duration `mapstructure:"-"`

	// RPC.

	// RPCAddr ("rpc_addr", -rpc-addr; default "127.0.0.1:7373") is where
	// the RPC server used by the serf CLI listens.
	RPCAddr string `mapstructure:"rpc_addr"`
	// RPCAuthKey ("rpc_auth"; no flag; default none) is the token RPC
	// clients must present.
	RPCAuthKey string `mapstructure:"rpc_auth"`

	// Logging and telemetry.

	// LogLevel ("log_level", -log-level; default "INFO") is the lowest
	// level printed: TRACE, DEBUG, INFO, WARN or ERR. Monitors choose their
	// own level.
	LogLevel string `mapstructure:"log_level"`
	// EnableSyslog ("enable_syslog", -syslog; default false) also sends
	// the log to syslog, tagged "serf", at SyslogFacility
	// ("syslog_facility"; no flag; default "LOCAL0").
	EnableSyslog   bool   `mapstructure:"enable_syslog"`
	SyslogFacility string `mapstructure:"syslog_facility"`
	// StatsiteAddr ("statsite_addr"; no flag; default none) and StatsdAddr
	// ("statsd_addr"; no flag; default none) send metrics to a statsite or
	// statsd server as well as to the in-memory sink (StartTelemetry).
	StatsiteAddr string `mapstructure:"statsite_addr"`
	StatsdAddr   string `mapstructure:"statsd_addr"`

	// Operability (our additions; Serf v0.10.2 has none of these keys and
	// without them the agent behaves exactly like it).

	// MetricsAddr ("metrics_addr", -metrics-addr; default none: off) is
	// an HTTP address serving /metrics in the Prometheus text format and
	// /health (200 while this member is alive in the cluster, else 503).
	MetricsAddr string `mapstructure:"metrics_addr"`
	// LogJSON ("log_json", -log-json; default false) writes every log
	// line, on the console, to monitors and to syslog, as one JSON object
	// with the keys @timestamp, @level, @module and @message.
	LogJSON bool `mapstructure:"log_json"`
	// DNSResolver ("dns_resolver", -dns-resolver; default none: the
	// system resolver) is the "IP:PORT" of a DNS server used to resolve
	// join addresses. Join addresses written "dns+srv://NAME" are SRV
	// names, expanded to every target:port at every attempt.
	DNSResolver string `mapstructure:"dns_resolver"`
	// EventHandlerTimeout ("event_handler_timeout",
	// -event-handler-timeout; default 0: none, as in Serf) bounds how long
	// an event handler script may run; one past it is killed with its
	// whole process group and the kill is logged (serf#369).
	EventHandlerTimeoutRaw string        `mapstructure:"event_handler_timeout"`
	EventHandlerTimeout    time.Duration `mapstructure:"-"`
	// Serf's queue and buffer sizes; 0 keeps Serf's default.
	// MaxQueueDepth ("max_queue_depth"; no flag; default 4096) is the
	// broadcast queue length above which old messages are pruned;
	// MinQueueDepth ("min_queue_depth"; no flag; default 0: off), when
	// set, replaces it with max(min_queue_depth, 2 x members);
	// QueueDepthWarning ("queue_depth_warning"; no flag; default 128) is
	// the length at which a warning is logged. EventBuffer
	// ("event_buffer"; no flag; default 512) and QueryBuffer
	// ("query_buffer"; no flag; default 512) are how many Lamport times
	// of user events and queries are remembered to drop duplicates.
	MaxQueueDepth     int `mapstructure:"max_queue_depth"`
	MinQueueDepth     int `mapstructure:"min_queue_depth"`
	QueueDepthWarning int `mapstructure:"queue_depth_warning"`
	EventBuffer       int `mapstructure:"event_buffer"`
	QueryBuffer       int `mapstructure:"query_buffer"`

	// Accepted for compatibility, without effect.

	// ValidateNodeNames ("validate_node_names"; no flag) is read but never
	// applied; merging keeps the earlier value, as Serf's does.
	ValidateNodeNames bool `mapstructure:"validate_node_names"`
	// MsgpackUseNewTimeFormat has no key of its own in Serf, so a file
	// key matching the field name case-insensitively sets it. It changes
	// nothing on the wire.
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
