package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"time"
)

// A full cache is a live heap near the memory limit that changes slowly: the store's budget
// in objects the collector must mark on every cycle (some 200-500 ms of one core for a
// 1 GiB cache of 1 KiB objects). While the store is full, the proportional trigger (GOGC)
// adds nothing the memory limit does not already do (the heap goal of twice the live heap is
// above the limit, so the limit decides), except the runtime's forced collection every two
// minutes, which marks the whole cache whether garbage built up or not and, on make
// bench-peers' full 1 GiB cache, put a ~250 ms mark into a 5 s latency window. So while the
// store holds at least gcOffAt of its budget, GOGC is off and only the memory limit starts a
// collection (runtime/debug.SetGCPercent(-1); the limit stays set), and below gcOnAt the
// pacing of a store that is not full comes back, so its RSS follows what it holds rather
// than the limit.
//
// A store that is not full but holds more than gcLeanFrom is most of the heap, and GOGC's
// headroom (a share of the live heap, the whole of it at 100) is then mostly a second copy
// of the cache's size: RSS up to twice what the store holds, 884-1,095 B above each 1 KiB
// body for 100,000 objects where the store itself holds some 480 (cachestore README, In a
// process). Cached objects are cheap to mark for their bytes (a 1 KiB body is one mark bit,
// not scanned), so a collection costs per stored object and runs once per headroom
// allocated: the collector's CPU per byte allocated (a miss's 3 KiB) is the same whatever
// the store's size, and halving the percent doubles it, some 0.3 us more per miss (about
// 125 ns to mark a stored object, one collection per 1,500 B of store per 3 KiB miss)
// against 35-50 us. So above gcLeanFrom GOGC is gcLeanPercent, and under 3/4 of gcLeanFrom the process's own
// again (100: the switch exists only when GOGC is not in the environment), as a small heap
// is mostly connections and fills whose marking costs more per byte.
//
// Not when the operator set GOGC or GOMEMLIMIT: they chose the pacing (with GOGC=off and no
// limit, turning it back on would be wrong; with their own limit, the store's budget is
// theirs to size).

// gcOffAt and gcOnAt are fractions of the store's budget, in sixteenths: GOGC goes off at
// 15/16 full and comes back below 12/16, so a store that evicts as it fills does not flip
// it back and forth.
const (
	gcOffAt = 15
	gcOnAt  = 12
)

// gcLeanFrom is the store size (bytes of Object.Cost) from which GOGC is gcLeanPercent: the
// rest of a busy node's heap is some 16 MiB (listeners, pools, fills in flight; see
// memory.go), so from there the store is at least half the heap. A later start leaves the
// heap to grow at GOGC 100 up to where the fill's last collections find it: lowering the
// percent at 64 MiB took 100,000 1 KiB objects from 914-993 B of RSS above the body to only
// 865-879 (7 and 8 collections in the fill, against 12 with GOGC=50 from the start, 735-788).
const (
	gcLeanFrom    = 16 << 20
	gcLeanPercent = 50
)

// gcState is the pacing the switch has set.
type gcState int

const (
	gcOwn  gcState = iota // the process's own percent
	gcLean                // gcLeanPercent: the store is most of the heap
	gcOff                 // off: the store is full, the memory limit paces
)

// gcSwitch decides GOGC from how full the store is; setPercent is
// runtime/debug.SetGCPercent outside tests.
type gcSwitch struct {
	budget     int64 // bytes: the store's budget
	setPercent func(int) int
	log        *slog.Logger
	state      gcState
	before     int // the percent in force when the switch first changed it
}

// want is the state for a store of bytes, given the state in force (the thresholds to leave
// a state lie below those to enter it).
func (g *gcSwitch) want(bytes int64) gcState {
	switch {
	case bytes*16 >= g.budget*gcOffAt, g.state == gcOff && bytes*16 >= g.budget*gcOnAt:
		return gcOff
	case bytes >= gcLeanFrom, g.state != gcOwn && bytes*4 >= gcLeanFrom*3:
		return gcLean
	}
	return gcOwn
}

// observe takes the store's bytes and switches GOGC when a threshold is crossed.
func (g *gcSwitch) observe(bytes int64) {
	s := g.want(bytes)
	if s == g.state {
		return
	}
	percent := g.before
	switch s {
	case gcOff:
		percent = -1
		g.log.Info("store full: the collector now runs only at the memory limit (GOGC off)",
			"store_bytes", bytes, "budget_bytes", g.budget)
	case gcLean:
		percent = gcLeanPercent
		g.log.Info("store holds most of the heap: GOGC lowered", "store_bytes", bytes,
			"budget_bytes", g.budget, "gogc", percent)
	default:
		g.log.Info("store small again: GOGC back", "store_bytes", bytes,
			"budget_bytes", g.budget, "gogc", percent)
	}
	if old := g.setPercent(percent); g.state == gcOwn {
		g.before = old
	}
	g.state = s
}

// restore gives back the percent the switch took, if it took it.
func (g *gcSwitch) restore() {
	if g.state != gcOwn {
		g.setPercent(g.before)
		g.state = gcOwn
	}
}

// newGCSwitch returns the switch for a store of budget bytes, or nil when GOGC or GOMEMLIMIT
// is in the environment (the operator chose the pacing).
func newGCSwitch(budget int64, log *slog.Logger) *gcSwitch {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || budget <= 0 {
		return nil
	}
	return &gcSwitch{budget: budget, setPercent: debug.SetGCPercent, log: log}
}

// watch runs observe once every interval on storeBytes until done is closed, then restores
// GOGC. It returns at once; a nil switch does nothing.
func (g *gcSwitch) watch(storeBytes func() int64, interval time.Duration, done <-chan struct{}) {
	if g == nil {
		return
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		defer g.restore()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				g.observe(storeBytes())
			}
		}
	}()
}
