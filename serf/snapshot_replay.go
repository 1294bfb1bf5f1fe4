package serf

import (
	"bufio"
	"io"
	"log"
	"strconv"
	"strings"
)

// replayState is what a snapshot file says.
type replayState struct {
	alive                         map[string]string
	failed                        map[string]string // failed, not reaped
	reaped                        *addressBook      // reaped after failing, oldest first
	clock, eventClock, queryClock LamportTime
	size                          int64 // bytes up to and including the last newline
	torn                          bool  // bytes follow the last newline
	err                           error // read error (not a format problem)
}

// replaySnapshot reads the records in r. Malformed lines are logged and
// skipped; a final line without its newline is ignored and reported as
// torn.
func replaySnapshot(r io.Reader, rejoinAfterLeave bool, logger *log.Logger) replayState {
	st := replayState{alive: make(map[string]string), failed: make(map[string]string), reaped: newAddressBook(0)}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err != io.EOF {
				st.err = err
			}
			st.torn = line != ""
			return st
		}
		st.size += int64(len(line))
		line = strings.TrimSuffix(line[:len(line)-1], "\r")
		st.apply(line, rejoinAfterLeave, logger)
	}
}

func (st *replayState) apply(line string, rejoinAfterLeave bool, logger *log.Logger) {
	clockLine := func(rest, what string, dst *LamportTime) {
		v, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			logger.Printf("[WARN] serf: Failed to convert %s in snapshot: %v", what, err)
			return
		}
		*dst = LamportTime(v)
	}
	if rest, ok := strings.CutPrefix(line, "alive: "); ok {
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 {
			logger.Printf("[WARN] serf: Failed to parse address: %v", line)
			return
		}
		st.alive[rest[:i]] = rest[i+1:]
		delete(st.failed, rest[:i])
		st.reaped.remove(rest[:i])
	} else if rest, ok := strings.CutPrefix(line, "not-alive: "); ok {
		delete(st.alive, rest)
		delete(st.failed, rest)
	} else if rest, ok := strings.CutPrefix(line, "failed: "); ok {
		if name, addr, ok := nameAddr(rest, line, logger); ok {
			delete(st.alive, name)
			st.failed[name] = addr
		}
	} else if rest, ok := strings.CutPrefix(line, "reaped: "); ok {
		if name, addr, ok := nameAddr(rest, line, logger); ok {
			delete(st.alive, name)
			delete(st.failed, name)
			st.reaped.add(name, addr)
		}
	} else if rest, ok := strings.CutPrefix(line, "clock: "); ok {
		clockLine(rest, "clock time", &st.clock)
	} else if rest, ok := strings.CutPrefix(line, "event-clock: "); ok {
		clockLine(rest, "event clock time", &st.eventClock)
	} else if rest, ok := strings.CutPrefix(line, "query-clock: "); ok {
		clockLine(rest, "query clock time", &st.queryClock)
	} else if strings.HasPrefix(line, "coordinate: ") || strings.HasPrefix(line, "#") {
		// Legacy coordinate persistence and comments carry nothing.
	} else if line == "leave" {
		if rejoinAfterLeave {
			logger.Printf("[INFO] serf: Ignoring previous leave in snapshot")
			return
		}
		clear(st.alive)
		clear(st.failed)
		st.reaped = newAddressBook(0)
		st.clock, st.eventClock, st.queryClock = 0, 0, 0
	} else {
		logger.Printf("[WARN] serf: Unrecognized snapshot line: %v", line)
	}
}

// nameAddr splits "NAME ADDR" at the last space (NAME may contain spaces).
func nameAddr(rest, line string, logger *log.Logger) (string, string, bool) {
	i := strings.LastIndexByte(rest, ' ')
	if i < 0 {
		logger.Printf("[WARN] serf: Failed to parse address: %v", line)
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
