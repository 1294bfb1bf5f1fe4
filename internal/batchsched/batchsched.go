// Package batchsched puts the agent's threads in Linux's SCHED_BATCH
// scheduling class, and starts child processes outside it.
//
// SCHED_BATCH keeps a thread's share of the CPU (its nice value and
// weight are unchanged) and changes one thing: when the thread wakes up,
// it does not preempt the thread that is running; it waits for that one
// to block or for the next scheduler tick. An agent wakes up for every
// packet, timer and poll of the Go runtime's sysmon thread, a few
// milliseconds of work a second in all; on a machine where hundreds of
// agents are busy at once (a join storm of 256 on two cores), each of
// those wake-ups preempted whatever ran, and the machine spent its time
// switching between threads that each got a tenth of a millisecond. With
// SCHED_BATCH the same work runs in longer slices (BENCHMARKS.md,
// "session 21"). On a machine with an idle core a woken thread runs at
// once either way, so nothing changes there but the class `chrt -p`
// shows.
//
// The class is the agent's choice, not its handler scripts': StartOutside
// starts them from a thread put back in the default class for the fork,
// so that is the class they inherit.
//
// Elsewhere than Linux both functions do nothing more than their callers
// would.
package batchsched
