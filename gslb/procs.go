package gslb

import (
	"runtime"
	"sync"
)

// procsMu serialises the read-modify-write of GOMAXPROCS by reserveProcs and releaseProcs, which
// several servers in one process (tests, a reload) may run at once. GOMAXPROCS is the process's
// own global; this lock only keeps our changes to it from losing each other.
var procsMu sync.Mutex

// reserveProcs adds n Ps to GOMAXPROCS for n readers that wait inside blocking system calls.
// A goroutine in a system call keeps its P, and the runtime's sysmon takes that P back after
// 20 µs only when no other P is idle: with every P held by a waiting reader (GOMAXPROCS 1 and
// one reader, as on a server pinned to one core), sysmon would wake every 20 µs, take the P and
// start a thread to poll the network with it, and the reader would have to win a P back on
// every datagram. With one P more per reader, the rest of the process keeps the Ps it had, an
// idle P is always there while the readers wait, and sysmon leaves them alone (it looks again
// after 10 ms without a datagram, which is idle anyway).
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
