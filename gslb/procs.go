package gslb

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// procsMu serialises the read-modify-write of GOMAXPROCS by reserveProcs and releaseProcs, which
// several servers in one process (tests, a reload) may run at once. GOMAXPROCS is the process's
// own global; this lock only keeps our changes to it from losing each other.
var procsMu sync.Mutex

// reservedProcs counts the Ps that reserveProcs added and releaseProcs has not taken back: the
// blocking readers of every server in the process.
var reservedProcs atomic.Int64

// reserveProcs adds n Ps to GOMAXPROCS for n readers that wait inside blocking system calls
// while keeping their P (RawSyscall: see mmsgReader.recvmmsg). Without it, a server pinned to
// one core (GOMAXPROCS 1) with one reader would have no P left for the rest of the process
// (TCP, timers, the node's HTTP) but the one sysmon takes from the reader every 10 ms. With one
// P more per reader, the rest of the process keeps the Ps it had.
//
// It turns off the runtime's own updates of GOMAXPROCS to the CPU limit (Go 1.25) for the
// process's life.
func reserveProcs(n int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n)
	reservedProcs.Add(int64(n))
}

// releaseProcs takes back n Ps given by reserveProcs.
func releaseProcs(n int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0)-n, 1))
	reservedProcs.Add(-int64(n))
}

// cpuProcs is GOMAXPROCS without the Ps that blocking readers were given: the CPUs the process
// runs on, which is what "one reader per CPU" counts. Counting GOMAXPROCS itself, each server
// started while another's blocking readers listen (a reload, nodes of one test) took twice the
// readers of the one before it: 2, 4, 8... on two cores.
func cpuProcs() int {
	return max(runtime.GOMAXPROCS(0)-int(reservedProcs.Load()), 1)
}

// procsShort tells whether GOMAXPROCS has been lowered, since reserveProcs, to no more Ps than
// the blocking readers hold (by runtime.GOMAXPROCS elsewhere in the process: a library sizing
// it to a CPU quota, testing.AllocsPerRun): then a reader that waits holding its P would leave
// the rest of the process none but what sysmon's preemption takes from a reader every 10 ms
// (100 sleeps of 1 ms took 2 s in TestBlockingReaders_fewerPsThanReadersDoNotStarveTheProcess).
// Readers then wait through Syscall, which lets the runtime hand their P to other work.
// runtime.GOMAXPROCS(0) takes the scheduler's lock: one uncontended lock per wait, which at
// full load is one per batch.
func procsShort() bool {
	return runtime.GOMAXPROCS(0) <= int(reservedProcs.Load())
}
