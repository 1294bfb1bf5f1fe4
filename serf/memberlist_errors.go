package serf

import (
	"io"
	"log"
	"strings"

	"github.com/hashicorp/memberlist"
)

// Serf v0.10.2 was built against memberlist v0.5.2; we use v0.7.0, which
// lowered the first letter of most of its error messages ("failed to join
// 127.0.0.1:1: ..." where v0.5.2 said "Failed to join 127.0.0.1:1: ...").
// Those texts reach users verbatim: `serf join`, `serf agent -join`, agent
// start-up failures, key-change answers that travel to other members (and
// to the real `serf keys` CLI), and memberlist's own log lines, which embed
// the same errors (e.g. "[WARN] memberlist: Failed to resolve ..."). To stay
// a drop-in replacement, every error that comes out of memberlist passes
// through memberlistError on its way out of this package, and memberlist
// logs through rewordMemberlistLogs; both restore the v0.5.2 wording.
// Nothing else about an error changes: it still unwraps to memberlist's
// original.

// memberlistWording pairs a v0.7.0 phrase with the v0.5.2 phrase it
// replaced. Only phrases that can surface from Create, Join or the keyring
// are listed; messages new in v0.7.0 have no older form and pass unchanged.
// A phrase is rewritten only where a message or a wrapped message begins:
// at the start, after ": " (fmt's "%s: %v" wrapping), or after "* "
// (go-multierror's bullet), so addresses, host names and OS errors inside
// the text are never touched. Built once; never written.
var memberlistWording = [...][2]string{
	// Join (memberlist.go) and the push/pull exchange it performs (net.go,
	// security.go, util.go).
	{"failed to join ", "Failed to join "},
	{"failed to resolve ", "Failed to resolve "},
	{"remote node state is larger than limit (", "Remote node state is larger than limit ("},
	{"remote state is encrypted and encryption is not configured", "Remote state is encrypted and encryption is not configured"},
	{"encryption is configured but remote state is not encrypted", "Encryption is configured but remote state is not encrypted"},
	{"failed to read full user ", "Failed to read full user "},
	{"cannot decompress unknown algorithm ", "Cannot decompress unknown algorithm "},
	{"cannot decrypt empty payload", "Cannot decrypt empty payload"},
	{"unsupported encryption version ", "Unsupported encryption version "},
	{"payload is too small to decrypt: ", "Payload is too small to decrypt: "},
	{"no installed keys could decrypt the message", "No installed keys could decrypt the message"},
	{"cannot parse IP from ", "Cannot parse IP from "},

	// Create (memberlist.go, net_transport.go).
	{"could not set up network transport: ", "Could not set up network transport: "},
	{"failed to start TCP listener on ", "Failed to start TCP listener on "},
	{"failed to start UDP listener on ", "Failed to start UDP listener on "},
	{"failed to resize UDP buffer: ", "Failed to resize UDP buffer: "},
	{"at least one bind address is required", "At least one bind address is required"},
	{"failed to parse advertise address", "Failed to parse advertise address"},
	{"failed to get interface addresses: ", "Failed to get interface addresses: "},
	{"no private IP address found, and explicit IP not provided", "No private IP address found, and explicit IP not provided"},
	{"failed to parse interface addresses: ", "Failed to parse interface addresses: "},
	{"failed to get final advertise address: ", "Failed to get final advertise address: "},
	{"protocol version '", "Protocol version '"},
	{"cannot specify both LogOutput and Logger; please choose a single log configuration setting",
		"Cannot specify both LogOutput and Logger. Please choose a single log configuration setting."},

	// Keyring (keyring.go).
	{"empty primary key not allowed", "Empty primary key not allowed"},
	{"requested key is not in the keyring", "Requested key is not in the keyring"},
	{"removing the primary key is not allowed", "Removing the primary key is not allowed"},
}

// translatedError carries memberlist's error with the v0.5.2 wording.
type translatedError struct {
	msg string
	err error
}

func (e *translatedError) Error() string { return e.msg }
func (e *translatedError) Unwrap() error { return e.err }

// memberlistError returns err with Serf v0.10.2's wording, or err itself
// when nothing needed rewriting (including nil).
func memberlistError(err error) error {
	if err == nil {
		return nil
	}
	orig := err.Error()
	msg := restoreMemberlistWording(orig)
	if msg == orig {
		return err
	}
	return &translatedError{msg: msg, err: err}
}

// restoreMemberlistWording rewrites the v0.7.0 phrases in msg that start a
// message or a wrapped message. msg is returned as is when none does.
func restoreMemberlistWording(msg string) string {
	var b strings.Builder
	copied := 0 // msg[:copied] is in b
	for i := 0; i < len(msg); i++ {
		if !startsMessage(msg, i) {
			continue
		}
		if from, to, ok := phraseAt(msg[i:]); ok {
			b.WriteString(msg[copied:i])
			b.WriteString(to)
			copied = i + len(from)
			i = copied - 1
		}
	}
	if copied == 0 {
		return msg
	}
	b.WriteString(msg[copied:])
	return b.String()
}

// startsMessage reports whether a (possibly wrapped) message begins at
// msg[i].
func startsMessage(msg string, i int) bool {
	head := msg[:i]
	return i == 0 || strings.HasSuffix(head, ": ") || strings.HasSuffix(head, "* ")
}

// phraseAt finds the memberlistWording phrase s begins with, if any.
func phraseAt(s string) (from, to string, ok bool) {
	for _, p := range memberlistWording {
		if strings.HasPrefix(s, p[0]) {
			return p[0], p[1], true
		}
	}
	return "", "", false
}

// handlerQueueFullLine is in memberlist's log line for received gossip it
// drops because its queue is full.
const handlerQueueFullLine = "memberlist: handler queue full, dropping message"

// watchMemberlistLog is the watch Create gives rewordMemberlistLogs, for
// what memberlist tells only in its log: a refutation of a suspicion of
// this node (refutation.go), and received gossip dropped for a full queue,
// after which the transport forgets what it handed on so that the dropped
// message's next copy is not taken for one memberlist has seen
// (gossip_copies.go). It runs under memberlist's locks and never blocks.
func (s *Serf) watchMemberlistLog(line string) {
	if s.gossipCopies != nil && strings.Contains(line, handlerQueueFullLine) {
		s.gossipCopies.forget()
	}
	s.noteRefutation(line)
}

// rewordMemberlistLogs makes memberlist log through a writer that restores
// the v0.5.2 wording of each line. Its log lines all read "[LEVEL]
// memberlist: message", so the rewording anchors at message starts just as
// for errors. watch, when not nil, also sees each line as memberlist wrote
// it: memberlist tells of some events only in its log (watchMemberlistLog). It
// is called on memberlist's goroutine, at times under its locks, so it
// must not block or call back into memberlist. A config with both Logger
// and LogOutput is left alone for memberlist.Create to reject.
func rewordMemberlistLogs(c *memberlist.Config, watch func(line string)) {
	switch {
	case c.Logger != nil && c.LogOutput != nil:
	case c.Logger != nil:
		// Lines go through the given logger, which adds its own prefix
		// and flags and serialises them with its other output.
		c.Logger = log.New(&rewordToLogger{to: c.Logger, watch: watch}, "", 0)
	case c.LogOutput != nil:
		c.LogOutput = &rewordWriter{to: c.LogOutput, watch: watch}
	}
}

// rewordWriter rewrites each line memberlist's logger writes (a
// *log.Logger writes one whole line per call) and passes it on.
type rewordWriter struct {
	to    io.Writer
	watch func(string)
}

func (w *rewordWriter) Write(p []byte) (int, error) {
	line := string(p)
	if w.watch != nil {
		w.watch(line)
	}
	if _, err := io.WriteString(w.to, restoreMemberlistWording(line)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rewordToLogger hands each reworded line to a logger.
type rewordToLogger struct {
	to    *log.Logger
	watch func(string)
}

func (w *rewordToLogger) Write(p []byte) (int, error) {
	line := string(p)
	if w.watch != nil {
		w.watch(line)
	}
	if err := w.to.Output(2, restoreMemberlistWording(line)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// NewKeyring is memberlist.NewKeyring with Serf v0.10.2's error wording,
// for callers (such as an agent restoring a keyring file) that build the
// keyring they put in Config.MemberlistConfig.
func NewKeyring(keys [][]byte, primaryKey []byte) (*memberlist.Keyring, error) {
	kr, err := memberlist.NewKeyring(keys, primaryKey)
	return kr, memberlistError(err)
}
