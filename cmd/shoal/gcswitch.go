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
// process); GOGC 50 still left 735-922. So above gcLeanFrom the switch aims at a headroom
// of gcLeanHeadroom bytes, an amount and not only a share, as the full store's pacing does
// (memory.go: the limit's reserve), but never under gcLeanMinPercent of the heap: GOGC is
// gcLeanHeadroom over the heap (the store's bytes and gcRestOfHeap), between
// gcLeanMinPercent and gcLeanMaxPercent, set again whenever the store's growth changes it.
// Under 3/4 of gcLeanFrom the process's own percent comes back (100: the switch exists only
// when GOGC is not in the environment), as a small heap is mostly connections and fills
// whose marking costs more per byte.
//
// Why a floor: a collection marks every stored object (about 125 ns each for a 1 KiB
// object: Object, Meta, key and body; the bodies are not scanned) and runs once per
// headroom allocated, so at a fixed percent the collector's CPU per byte a miss allocates
// is the same whatever the store's size, but with a fixed amount it grows with the store.
// With 16 MiB and a floor of 5 (GOGC 9 to 5 over 100,000 to 220,000 objects) make
// bench-peers' miss-1k took 65.7 us of CPU per miss against 56.6 at GOGC 50 (+16%,
// bench-results/bench-20261201T060023Z.txt), for 651 B of RSS above each body against 922.
// At a floor of 20 (GOGC 20 from 144 MiB), 300,000 objects held 635-668 B of RSS above each
// body against 690-847 at 50, but miss-1k took 45.8 and 47.6 us per miss against 43.4 and
// 42.4 (+5 and +12%); at 33, 701-715 B against 814-825, and 46.5 us against 50.0 (cachestore
// README, A cache that is not full). A hit allocates nothing and pays nothing.
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

// gcLeanFrom is the store size (bytes of Object.Cost) from which the switch paces the
// collector by gcLeanHeadroom: the rest of a busy node's heap is some 16 MiB (gcRestOfHeap:
// listeners, pools, fills in flight; see memory.go), so from there the store is at least
// half the heap. A later start leaves the heap to grow at GOGC 100 up to where the fill's
// last collections find it: lowering the percent at 64 MiB took 100,000 1 KiB objects from
// 914-993 B of RSS above the body to only 865-879 (7 and 8 collections in the fill, against
// 12 with GOGC=50 from the start, 735-788).
const (
	gcLeanFrom       = 16 << 20
	gcRestOfHeap     = 16 << 20
	gcLeanHeadroom   = 32 << 20
	gcLeanMaxPercent = 50
	gcLeanMinPercent = 33
)

// leanPercent is the GOGC that gives a heap of a store of bytes (and gcRestOfHeap) a
// headroom of gcLeanHeadroom, within gcLeanMinPercent and gcLeanMaxPercent.
func leanPercent(bytes int64) int {
	p := gcLeanHeadroom * 100 / (max(bytes, 0) + gcRestOfHeap)
	return int(min(max(p, gcLeanMinPercent), gcLeanMaxPercent))
}

// gcState is the pacing the switch has set.
type gcState int

const (
	gcOwn  gcState = iota // the process's own percent
	gcLean                // leanPercent: the store is most of the heap
	gcOff                 // off: the store is full, the memory limit paces
)

// gcSwitch decides GOGC from how full the store is; setPercent is
// runtime/debug.SetGCPercent outside tests.
type gcSwitch struct {
	budget     int64 // bytes: the store's budget
	setPercent func(int) int
	log        *slog.Logger
	state      gcState
	percent    int // the percent the switch set last (in gcLean, leanPercent of the store then)
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

// observe takes the store's bytes and switches GOGC when a threshold is crossed, or, while
// the store is lean, when its size changes the percent that gives it gcLeanHeadroom.
func (g *gcSwitch) observe(bytes int64) {
	s := g.want(bytes)
	if s == g.state && (s != gcLean || leanPercent(bytes) == g.percent) {
		return
	}
	percent := g.before
	switch {
	case s == gcOff:
		percent = -1
		g.log.Info("store full: the collector now runs only at the memory limit (GOGC off)",
			"store_bytes", bytes, "budget_bytes", g.budget)
	case s == gcLean && g.state == gcLean:
		percent = leanPercent(bytes)
		g.log.Debug("store grew or shrank: GOGC follows to keep the collector's headroom",
			"store_bytes", bytes, "gogc", percent, "headroom_bytes", gcLeanHeadroom)
	case s == gcLean:
		percent = leanPercent(bytes)
		g.log.Info("store holds most of the heap: GOGC lowered", "store_bytes", bytes,
			"budget_bytes", g.budget, "gogc", percent, "headroom_bytes", gcLeanHeadroom)
	default:
		g.log.Info("store small again: GOGC back", "store_bytes", bytes,
			"budget_bytes", g.budget, "gogc", percent)
	}
	if old := g.setPercent(percent); g.state == gcOwn {
		g.before = old
	}
	g.state, g.percent = s, percent
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
