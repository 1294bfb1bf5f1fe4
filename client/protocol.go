// Package client defines the Serf RPC (IPC) protocol once, for both ends, and
// implements a Go client for it. The agent's RPC server imports these types.
//
// The protocol is a back-to-back stream of msgpack objects over TCP: every
// request is a RequestHeader optionally followed by one body, every response a
// ResponseHeader optionally followed by one body. Field names are the msgpack
// keys the real Serf uses.
package client

import (
	"net"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// IPCVersion is the only RPC protocol version Serf speaks.
const IPCVersion = 1

// Command names.
const (
	HandshakeCommand       = "handshake"
	AuthCommand            = "auth"
	EventCommand           = "event"
	ForceLeaveCommand      = "force-leave"
	JoinCommand            = "join"
	MembersCommand         = "members"
	MembersFilteredCommand = "members-filtered"
	StreamCommand          = "stream"
	StopCommand            = "stop"
	MonitorCommand         = "monitor"
	LeaveCommand           = "leave"
	InstallKeyCommand      = "install-key"
	UseKeyCommand          = "use-key"
	RemoveKeyCommand       = "remove-key"
	ListKeysCommand        = "list-keys"
	TagsCommand            = "tags"
	QueryCommand           = "query"
	RespondCommand         = "respond"
	StatsCommand           = "stats"
	GetCoordinateCommand   = "get-coordinate"
)

// Error strings that travel in ResponseHeader.Error. Clients compare some of
// them verbatim, so they must match Serf's exactly.
const (
	ErrUnsupportedCommand   = "Unsupported command"
	ErrUnsupportedIPCVer    = "Unsupported IPC version"
	ErrDuplicateHandshake   = "Handshake already performed"
	ErrHandshakeRequired    = "Handshake required"
	ErrMonitorExists        = "Monitor already exists"
	ErrInvalidFilter        = "Invalid event filter"
	ErrStreamExists         = "Stream with given sequence exists"
	ErrInvalidQueryID       = "No pending queries matching ID"
	ErrAuthRequired         = "Authentication required"
	ErrInvalidAuthToken     = "Invalid authentication token"
	ErrInternalQueryPrefix  = "Queries cannot contain the '_serf_' prefix"
	ErrUnknownLogLevelFmt   = "Unknown log level: %s"
	ErrClientClosed         = "client closed"
	ErrStreamClosed         = "Stream closed"
	ErrFeatureNotSupported  = "Feature not supported"
	ErrAlreadyHaveResponded = "response already sent"
)

// Query stream record types.
const (
	QueryRecordAck      = "ack"
	QueryRecordResponse = "response"
	QueryRecordDone     = "done"
)

// RequestHeader precedes every request.
type RequestHeader struct {
	Command string
	Seq     uint64
}

// ResponseHeader precedes every response and every stream record.
type ResponseHeader struct {
	Seq   uint64
	Error string
}

type HandshakeRequest struct {
	Version int32
}

type AuthRequest struct {
	AuthKey string
}

type EventRequest struct {
	Name     string
	Payload  []byte
	Coalesce bool
}

type ForceLeaveRequest struct {
	Node  string
	Prune bool
}

type JoinRequest struct {
	Existing []string
	Replay   bool
}

type JoinResponse struct {
	Num int32
}

type MembersFilteredRequest struct {
	Tags   map[string]string
	Status string
	Name   string
}

type MembersResponse struct {
	Members []Member
}

type KeyRequest struct {
	Key string
}

type KeyResponse struct {
	Messages map[string]string
	Keys     map[string]int
	NumNodes int
	NumErr   int
	NumResp  int
}

type MonitorRequest struct {
	LogLevel string
}

type StreamRequest struct {
	Type string
}

type StopRequest struct {
	Stop uint64
}

type TagsRequest struct {
	Tags       map[string]string
	DeleteTags []string
}

type QueryRequest struct {
	FilterNodes []string
	FilterTags  map[string]string
	RequestAck  bool
	RelayFactor uint8
	Timeout     int64 // nanoseconds; 0 means the agent's default
	Name        string
	Payload     []byte
}

type RespondRequest struct {
	ID      uint64
	Payload []byte
}

type CoordinateRequest struct {
	Node string
}

type CoordinateResponse struct {
	Coord Coordinate
	Ok    bool
}

// Coordinate is a Vivaldi network coordinate as the RPC protocol carries it
// (the same keys as serf/coordinate.Coordinate).
type Coordinate struct {
	Vec        []float64
	Error      float64
	Adjustment float64
	Height     float64
}

// Member is a cluster member as the RPC protocol carries it. The field
// names are the msgpack keys and their order is the wire order.
type Member struct {
	Name string
	Addr net.IP // gossip address, 16 bytes on the wire
	Port uint16
	Tags map[string]string
	// Status is "alive", "leaving", "left", "failed" or "none".
	Status string
	// The range of Serf protocol versions the member speaks, and the one
	// in use...
	ProtocolMin, ProtocolMax, ProtocolCur uint8
	// ...and the same for memberlist's delegate protocol.
	DelegateMin, DelegateMax, DelegateCur uint8
}

// MemberEventRecord is a member-* record on an event stream.
type MemberEventRecord struct {
	Event   string
	Members []Member
}

// UserEventRecord is a user-event record on an event stream.
type UserEventRecord struct {
	Event    string
	LTime    uint64
	Name     string
	Payload  []byte
	Coalesce bool
}

// QueryEventRecord is a query record on an event stream; ID is the
// per-connection handle used with the respond command.
type QueryEventRecord struct {
	Event   string
	ID      uint64
	LTime   uint64
	Name    string
	Payload []byte
}

// QueryRecord is an ack, response or done record on a query stream.
type QueryRecord struct {
	Type    string
	From    string
	Payload []byte
}

// LogRecord is one log line on a monitor stream.
type LogRecord struct {
	Log string
}

// NewMsgpackHandle returns the codec handle both ends of the RPC protocol use:
// new-style str/bin encodings (WriteExt), as Serf's agent and client do.
// Each connection gets its own handle so no state is shared between them.
func NewMsgpackHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{WriteExt: true}
	h.TimeNotBuiltin = true
	return h
}
