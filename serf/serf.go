package serf

import (
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf/coordinate"
)

// SerfState is the lifecycle state of the local Serf instance: it only
// ever moves forward, from SerfAlive towards SerfShutdown.
type SerfState int

const (
	SerfAlive SerfState = iota
	SerfLeaving
	SerfLeft
	SerfShutdown
)

// serfStateNames is indexed by SerfState; never written.
var serfStateNames = [...]string{
	SerfAlive:    "alive",
	SerfLeaving:  "leaving",
	SerfLeft:     "left",
	SerfShutdown: "shutdown",
}

func (s SerfState) String() string {
	if s < 0 || int(s) >= len(serfStateNames) {
		return "unknown"
	}
	return serfStateNames[s]
}

// Serf is one member of a Serf cluster: memberlist's failure detection plus
// Serf's tags, intents, user events and queries.
type Serf struct {
	config  *Config
	logger  *log.Logger
	codec   *wireCodec
	metrics serfMetrics

	// The three Lamport clocks: membership intents, user events, queries.
	clock      LamportClock
	eventClock LamportClock
	queryClock LamportClock

	memberlist *memberlist.Memberlist
	// ready is set once memberlist is assigned. memberlist starts listening
	// inside memberlist.Create, so a peer that still knows our address may
	// send us messages before then; they are dropped, as lost gossip.
	ready atomic.Bool

	// members holds every known node by name. failed and left index the
	// members in those states (for reconnect, reaping and push-pull).
	memberLock    sync.RWMutex
	members       map[string]*memberState
	failed        map[string]*memberState
	left          map[string]*memberState
	recentIntents intentTable

	// emitLock keeps member events in the order their state changes were
	// decided, without holding memberLock while the event pipeline, which
	// may itself need memberLock, is fed.
	emitLock sync.Mutex

	// tags are this node's live tags: Config.Tags at first, then whatever
	// SetTags last installed. Guarded by tagLock; never mutated in place.
	tagLock sync.RWMutex
	tags    map[string]string

	events  eventRing // recent user events, for de-duplication and push-pull
	queries queryState
	limits  receiveLimits // drop counts and warnings of the limits.go bounds

	// eventJoinIgnore is set while a Join with ignoreOld runs, so the
	// push-pull of that join raises eventMinTime instead of replaying.
	eventJoinIgnore atomic.Bool

	// Outgoing gossip, by kind. GetBroadcasts drains them in this order.
	// Leave intents have a queue of their own so that gossip relief can
	// send them without the join intents (gossip_relief.go); together
	// they are Serf's intent queue in stats, metrics and limits.
	leaveBroadcasts *memberlist.TransmitLimitedQueue
	joinBroadcasts  *memberlist.TransmitLimitedQueue
	queryBroadcasts *memberlist.TransmitLimitedQueue
	eventBroadcasts *memberlist.TransmitLimitedQueue

	coordClient    *coordinate.Client
	coordCacheLock sync.RWMutex
	coordCache     map[string]*coordinate.Coordinate

	snapshotter snapshotHooks
	stages      []pipelineStage // head (snapshot) first; see pipeline.go
	keyManager  *KeyManager

	// eventCh is the head of the event pipeline (snapshotter, internal
	// queries, coalescers, then Config.EventCh).
	eventCh chan<- Event

	stateLock sync.Mutex
	state     SerfState

	joinLock sync.Mutex // one Join at a time, for eventJoinIgnore

	antiEntropy antiEntropyState // see anti_entropy.go
	relief      reliefState      // see gossip_relief.go
	refutation  refutationState  // see refutation.go
	// gossipCopies is the transport's memory of handed-on gossip; nil
	// when Config.DropGossipCopies is off or does not apply.
	gossipCopies *gossipCopies
	// secondHand is the transport's list of what not to gossip on; nil
	// when Config.DropSecondHandGossip is off or does not apply.
	secondHand *secondHand
	// joinsInFlight counts the push/pulls this node started that are
	// running (memberlistJoin).
	joinsInFlight atomic.Int32

	// book holds members reaped after failing (address_book.go).
	bookLock sync.Mutex
	book     *addressBook

	shutdownOnce sync.Once
	shutdownCh   chan struct{}

	// Every goroutine Serf starts is counted in wg. Once bgStopped is set
	// no new one may start, so Shutdown's wait cannot race with a late
	// memberlist callback starting one.
	bgLock    sync.Mutex
	bgStopped bool
	wg        sync.WaitGroup
}

// Create builds a Serf instance, starts memberlist and the background
// tasks. It works on its own copy of conf (and of the memberlist config and
// tags in it), so the caller's values are never written to.
func Create(conf *Config) (*Serf, error) {
	if conf == nil {
		return nil, fmt.Errorf("serf: nil config")
	}
	if err := conf.validate(); err != nil {
		return nil, err
	}
	conf = conf.private()
	logger := conf.Logger
	if logger == nil {
		out := conf.LogOutput
		if out == nil {
			out = os.Stderr
		}
		logger = log.New(out, "", log.LstdFlags)
	}

	s := &Serf{
		config:     conf,
		logger:     logger,
		codec:      newWireCodec(conf.MsgpackUseNewTimeFormat),
		metrics:    newSerfMetrics(conf),
		members:    make(map[string]*memberState),
		failed:     make(map[string]*memberState),
		left:       make(map[string]*memberState),
		events:     newEventRing(conf.EventBuffer),
		queries:    newQueryState(conf.QueryBuffer),
		shutdownCh: make(chan struct{}),
		state:      SerfAlive,
		tags:       conf.Tags,
		book:       newAddressBook(conf.AddressBookSize),
	}
	s.keyManager = &KeyManager{serf: s}
	if conf.AntiEntropyInterval > 0 && conf.AntiEntropyRounds > 0 {
		s.antiEntropy.kickCh = make(chan struct{}, 1)
	}
	if conf.GossipRelief {
		s.relief.kickCh = make(chan struct{}, 1)
		s.relief.roomAt.Store(time.Now().UnixNano())
	}
	if conf.PushRefutations {
		s.refutation.accuserCh = make(chan string, 1)
	}

	if n := len(s.encodeTags(conf.Tags)); n > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("Encoded length of tags exceeds limit of %d bytes", memberlist.MetaMaxSize)
	}
	if err := s.ValidateNodeNames(); err != nil {
		return nil, err
	}

	if !conf.DisableCoordinates {
		cc := coordinate.DefaultConfig()
		cc.MetricLabels = conf.MetricLabels
		client, err := coordinate.NewClient(cc)
		if err != nil {
			return nil, fmt.Errorf("Failed to create coordinate client: %v", err)
		}
		s.coordClient = client
	}

	// Goroutines started from here on watch shutdownCh, so every failure
	// path below must close it.
	fail := func(err error) (*Serf, error) {
		close(s.shutdownCh)
		s.stopBackground()
		return nil, err
	}

	prev, err := s.buildEventPipeline()
	if err != nil {
		return fail(err)
	}

	if !conf.DisableCoordinates {
		s.coordCache = map[string]*coordinate.Coordinate{
			conf.NodeName: s.coordClient.GetCoordinate(),
		}
	}

	numNodes := func() int { return s.NumNodes() }
	mult := conf.MemberlistConfig.RetransmitMult
	s.leaveBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: mult}
	s.eventBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: mult}
	s.queryBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: mult}

	// Clocks start at 1 so that an intent with the zero LTime never wins,
	// then move past whatever the snapshot remembers.
	s.clock.Increment()
	s.eventClock.Increment()
	s.queryClock.Increment()
	if s.snapshotter != nil {
		s.clock.Witness(s.snapshotter.LastClock())
		s.eventClock.Witness(s.snapshotter.LastEventClock())
		s.queryClock.Witness(s.snapshotter.LastQueryClock())
	}

	mlConf := conf.MemberlistConfig
	mlConf.Name = conf.NodeName
	mlConf.ProtocolVersion = memberlistProtocolVersion
	mlConf.DelegateProtocolMin = ProtocolVersionMin
	mlConf.DelegateProtocolMax = ProtocolVersionMax
	mlConf.DelegateProtocolVersion = conf.ProtocolVersion
	mlConf.MetricLabels = conf.MetricLabels
	mlConf.Delegate = &delegate{serf: s}
	mlConf.Events = &eventDelegate{serf: s}
	mlConf.Conflict = &conflictDelegate{serf: s}
	if !conf.DisableCoordinates {
		mlConf.Ping = &pingDelegate{serf: s}
	}
	// The merge delegate asks Config.Merge, and tells the transport what a
	// join brought (second_hand.go).
	if conf.Merge != nil || conf.DropSecondHandGossip {
		md := &mergeDelegate{serf: s}
		mlConf.Merge = md
		if conf.Merge != nil {
			mlConf.Alive = md
		}
	}
	if conf.MetricLabels != nil {
		mlConf.MetricLabels = conf.MetricLabels
	}
	if mlConf.Logger == nil && mlConf.LogOutput == nil {
		mlConf.Logger = logger
	}
	rewordMemberlistLogs(mlConf, s.watchMemberlistLog)

	// Our transport unless the caller brought one (net_transport.go says
	// why). With both loggers set memberlist.Create refuses the config;
	// leave that to it.
	var ownTransport *netTransport
	forMemberlist := mlConf
	if mlConf.Transport == nil && (mlConf.Logger == nil || mlConf.LogOutput == nil) {
		var wire wireOptions
		if conf.TransportEncryption && transportCanEncrypt(mlConf) {
			if err := foldSecretKey(mlConf); err != nil {
				return fail(fmt.Errorf("Failed to create memberlist: %v", memberlistError(err)))
			}
			wire.cipher = newWireCipher(mlConf)
		}
		// The transport reads and rewrites memberlist's messages only
		// where memberlist does not encrypt them before handing them over.
		plain := wire.cipher != nil || !gossipEncrypted(mlConf)
		if conf.TransportCompression {
			wire.countSent = s.metrics.wireSent
			if mlConf.EnableCompression && plain {
				wire.compressor = newWireCompressor(s.codec)
				mlConf.EnableCompression = false
			}
		}
		if conf.DropGossipCopies && plain {
			s.gossipCopies = newGossipCopies(mlConf.GossipToTheDeadTime)
			wire.copies = s.gossipCopies
		}
		// Outgoing suspicions and leaves can be read only where memberlist
		// does not compress what it hands the transport either.
		if plain && !mlConf.EnableCompression {
			wire.notices = s.directNoticesFor(conf)
			wire.topUp = s.membershipTopUpFor(conf)
			if conf.DropSecondHandGossip {
				s.secondHand = newSecondHand(s.codec)
				wire.secondHand = s.secondHand
			}
		}
		t, err := newNetTransport(mlConf, wire)
		if err != nil {
			return fail(fmt.Errorf("Failed to create memberlist: %v", memberlistError(err)))
		}
		ownTransport, mlConf.Transport = t, t
		if wire.cipher != nil {
			forMemberlist = withoutEncryption(mlConf)
		}
	}

	// Membership gossip (memberlist's queue and Serf's join intents) may
	// be retransmitted less, where small clusters are topped up.
	membershipMult := conf.membershipRetransmitMult(ownTransport != nil && ownTransport.wire.topUp != nil)
	s.joinBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: membershipMult}
	forMemberlist = withRetransmitMult(forMemberlist, membershipMult)
	ml, err := memberlist.Create(forMemberlist)
	if err != nil {
		if ownTransport != nil {
			_ = ownTransport.Shutdown()
		}
		return fail(fmt.Errorf("Failed to create memberlist: %v", memberlistError(err)))
	}
	s.memberlist = ml
	s.ready.Store(true)

	s.startBackground(s.reapLoop)
	s.startBackground(s.reconnectLoop)
	s.startBackground(s.reapedRejoinLoop)
	s.startBackground(s.queueCheckLoop)
	if s.antiEntropy.kickCh != nil {
		s.startBackground(s.antiEntropyLoop)
	}
	if s.relief.kickCh != nil {
		s.startBackground(s.gossipReliefLoop)
	}
	if s.refutation.accuserCh != nil {
		s.startBackground(s.refutationLoop)
	}
	if len(prev) > 0 {
		s.startBackground(func() { s.rejoin(prev) })
	}
	return s, nil
}

// startBackground runs f in a goroutine that Shutdown waits for. During
// shutdown it does nothing.
func (s *Serf) startBackground(f func()) {
	s.bgLock.Lock()
	defer s.bgLock.Unlock()
	if s.bgStopped {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// stopBackground waits for every goroutine Serf started, once shutdownCh
// is closed: background tasks, then the pipeline stages in the order
// events flow, so each stage's last events reach the next (pipeline.go).
func (s *Serf) stopBackground() {
	s.bgLock.Lock()
	s.bgStopped = true
	s.bgLock.Unlock()
	s.wg.Wait()
	s.stopStages()
}

// ProtocolVersion is the Serf (not memberlist) protocol this node speaks.
func (s *Serf) ProtocolVersion() uint8 { return s.config.ProtocolVersion }

// EncryptionEnabled reports whether gossip is encrypted with a keyring.
func (s *Serf) EncryptionEnabled() bool { return s.config.MemberlistConfig.Keyring != nil }

// Memberlist exposes the memberlist underneath; handle with care.
func (s *Serf) Memberlist() *memberlist.Memberlist { return s.memberlist }

// KeyManager returns the handle for cluster-wide keyring changes.
func (s *Serf) KeyManager() *KeyManager { return s.keyManager }

// State returns the lifecycle state of this instance.
func (s *Serf) State() SerfState {
	s.stateLock.Lock()
	defer s.stateLock.Unlock()
	return s.state
}

// ShutdownCh is closed when this instance shuts down, whatever the cause
// (Shutdown, or losing a name conflict).
func (s *Serf) ShutdownCh() <-chan struct{} { return s.shutdownCh }

// NumNodes is the number of members in any state. The broadcast queues use
// it to size retransmissions.
func (s *Serf) NumNodes() int {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	return len(s.members)
}

// Stats returns counters for `serf info`; every value is a decimal string.
func (s *Serf) Stats() map[string]string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	s.memberLock.RLock()
	members, failed, left := len(s.members), len(s.failed), len(s.left)
	s.memberLock.RUnlock()
	stats := map[string]string{
		"members":      u(uint64(members)),
		"failed":       u(uint64(failed)),
		"left":         u(uint64(left)),
		"health_score": strconv.Itoa(s.memberlist.GetHealthScore()),
		"member_time":  u(uint64(s.clock.Time())),
		"event_time":   u(uint64(s.eventClock.Time())),
		"query_time":   u(uint64(s.queryClock.Time())),
		"intent_queue": strconv.Itoa(s.leaveBroadcasts.NumQueued() + s.joinBroadcasts.NumQueued()),
		"event_queue":  strconv.Itoa(s.eventBroadcasts.NumQueued()),
		"query_queue":  strconv.Itoa(s.queryBroadcasts.NumQueued()),
		"encrypted":    strconv.FormatBool(s.EncryptionEnabled()),
	}
	if s.coordClient != nil {
		stats["coordinate_resets"] = strconv.Itoa(s.coordClient.Stats().Resets)
	}
	return stats
}

// Shutdown stops memberlist and every background task without telling the
// cluster: peers will see this node fail. Call Leave first for a graceful
// exit. Shutdown is idempotent.
func (s *Serf) Shutdown() error {
	s.stateLock.Lock()
	if s.state == SerfShutdown {
		s.stateLock.Unlock()
		return nil
	}
	if s.state != SerfLeft {
		s.logger.Printf("[WARN] serf: Shutdown without a Leave")
	}
	s.state = SerfShutdown
	s.stateLock.Unlock()
	return s.shutdown()
}

// shutdown does the work of Shutdown once, whoever asks first.
func (s *Serf) shutdown() error {
	var err error
	s.shutdownOnce.Do(func() {
		if s.memberlist != nil {
			err = s.memberlist.Shutdown()
		}
		close(s.shutdownCh)
		s.queries.closeAll()
		s.stopBackground()
	})
	return err
}

// shuttingDown reports whether shutdown has begun.
func (s *Serf) shuttingDown() bool {
	select {
	case <-s.shutdownCh:
		return true
	default:
		return false
	}
}

// sleepOrShutdown waits d and reports whether Serf is still running.
func (s *Serf) sleepOrShutdown(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.shutdownCh:
		return false
	}
}
