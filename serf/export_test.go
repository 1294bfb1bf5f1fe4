package serf

// Internals for the external tests (package serf_test), which run members
// on serftest and so cannot live inside package serf; as net/http's
// export_test.go, this file is compiled only into the tests.

import "time"

// Observed wire messages of a real Serf v0.10.2 agent (messages_test.go).
const (
	ObservedUserEvent = observedUserEvent
	ObservedQuery     = observedQuery
)

// RaceEnabled tells heavy tests that the race detector slows everything.
const RaceEnabled = raceEnabled

var (
	RestoreMemberlistWording = restoreMemberlistWording
	MemberlistError          = memberlistError
	PeerWasBusy              = peerWasBusy
)

// PeerInput feeds raw bytes into s's memberlist delegates, as a peer's
// messages, push-pull states and ping payloads arrive.
type PeerInput struct{ s *Serf }

func PeerInputOf(s *Serf) PeerInput { return PeerInput{s} }

func (p PeerInput) NotifyMsg(buf []byte) { (&delegate{serf: p.s}).NotifyMsg(buf) }

func (p PeerInput) MergeRemoteState(buf []byte, join bool) {
	(&delegate{serf: p.s}).MergeRemoteState(buf, join)
}

func (p PeerInput) NotifyPingComplete(payload []byte) {
	(&pingDelegate{serf: p.s}).NotifyPingComplete(p.s.memberlist.LocalNode(), time.Millisecond, payload)
}

func (p PeerInput) DecodeTags(meta []byte) map[string]string { return p.s.decodeTags(meta) }

// AntiEntropyExchanges is how many anti-entropy push/pulls s attempted.
func AntiEntropyExchanges(s *Serf) uint64 { return s.antiEntropy.exchanges.Load() }

// AntiEntropyBraked is how many anti-entropy rounds s skipped because its
// health score was above zero.
func AntiEntropyBraked(s *Serf) uint64 { return s.antiEntropy.braked.Load() }

// KickAntiEntropy starts s's anti-entropy burst over, as a change would.
func KickAntiEntropy(s *Serf) { s.kickAntiEntropy() }

// HealthScore is memberlist's Lifeguard health score of s.
func HealthScore(s *Serf) int { return s.memberlist.GetHealthScore() }

var (
	AntiEntropyDelay  = antiEntropyDelay
	AntiEntropyScaled = antiEntropyScaled
)

var AckSpreadWindow = ackSpreadWindow

// RefutationPushes is how many push/pulls s started to tell an accuser
// of its refutation (refutation.go).
func RefutationPushes(s *Serf) uint64 { return s.refutation.pushes.Load() }

// RefutationsBraked is how many of s's refutations were left to gossip
// because its health score was at refutationBrakeScore or above.
func RefutationsBraked(s *Serf) uint64 { return s.refutation.braked.Load() }

const RefutationBrakeScore = refutationBrakeScore

var RefutationAccuser = refutationAccuser

// ReliefSent is how many user events and queries s sent directly because
// memberlist left its gossip no room (gossip_relief.go).
func ReliefSent(s *Serf) uint64 { return s.relief.sent.Load() }

// GossipStarved tells whether s sees its gossip starved now.
func GossipStarved(s *Serf) bool { return s.gossipStarved() }
