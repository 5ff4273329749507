package gslb

import (
	"runtime"
	"sync"
)

// procsMu serialises the read-modify-write of GOMAXPROCS by reserveProcs and releaseProcs, which
// several servers in one process (tests, a reload) may run at once. GOMAXPROCS is the process's
// own global; this lock only keeps our changes to it from losing each other.
var procsMu sync.Mutex

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
}

// releaseProcs takes back n Ps given by reserveProcs.
func releaseProcs(n int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0)-n, 1))
}
