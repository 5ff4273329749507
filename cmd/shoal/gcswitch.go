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
// percent the process started with comes back: a store that is not full keeps the usual
// pacing, so its RSS follows what it holds rather than the limit.
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

// gcSwitch decides GOGC from how full the store is; setPercent is
// runtime/debug.SetGCPercent outside tests.
type gcSwitch struct {
	budget     int64 // bytes: the store's budget
	setPercent func(int) int
	log        *slog.Logger
	off        bool
	before     int // the percent in force when the switch turned it off
}

// observe takes the store's bytes and switches GOGC off or back when a threshold is crossed.
func (g *gcSwitch) observe(bytes int64) {
	switch {
	case !g.off && bytes*16 >= g.budget*gcOffAt:
		g.before = g.setPercent(-1)
		g.off = true
		g.log.Info("store full: the collector now runs only at the memory limit (GOGC off)",
			"store_bytes", bytes, "budget_bytes", g.budget)
	case g.off && bytes*16 < g.budget*gcOnAt:
		g.setPercent(g.before)
		g.off = false
		g.log.Info("store below 3/4 of its budget: GOGC back", "store_bytes", bytes,
			"budget_bytes", g.budget, "gogc", g.before)
	}
}

// restore gives back the percent the switch took, if it took it.
func (g *gcSwitch) restore() {
	if g.off {
		g.setPercent(g.before)
		g.off = false
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
