package engine

import (
	"runtime"
	"syscall"
	"time"
)

// Usage is the process's memory and CPU at one moment.
type Usage struct {
	Heap  uint64 // live heap after a GC, bytes
	Stack uint64 // goroutine stacks, bytes
	Sys   uint64 // memory obtained from the OS, bytes
	CPU   time.Duration
	Wall  time.Time
	Gor   int
}

// measureUsage collects garbage first, so Heap is what is live.
func measureUsage() Usage {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Usage{Heap: ms.HeapAlloc, Stack: ms.StackInuse, Sys: ms.Sys, CPU: processCPU(), Wall: time.Now(), Gor: runtime.NumGoroutine()}
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Footprint is the cost of one member in a cluster of N, at idle.
type Footprint struct {
	N             int
	BytesPerNode  float64 // live heap + stacks over the empty process
	CPUPerRound   float64 // CPU seconds per member per gossip round
	GoroutinesPer float64
}

// idleFootprint measures the settled cluster s for idleRounds rounds
// against the usage of the process before it was made.
func idleFootprint(s *Sim, base Usage, idleRounds float64) Footprint {
	a := measureUsage()
	time.Sleep(time.Duration(idleRounds * float64(s.Gossip)))
	b := measureUsage()
	n := float64(len(s.Live()))
	mem := float64(b.Heap+b.Stack) - float64(base.Heap+base.Stack)
	rounds := Rounds(b.Wall.Sub(a.Wall), s.Gossip)
	// The GC of the second measurement is not the cluster's work.
	cpu := (b.CPU - a.CPU).Seconds()
	return Footprint{
		N:             len(s.Live()),
		BytesPerNode:  mem / n,
		CPUPerRound:   cpu / n / rounds,
		GoroutinesPer: float64(b.Gor-base.Gor) / n,
	}
}
