package main

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGCSwitch_offWhileTheStoreIsFull: GOGC goes off when the store reaches 15/16 of its
// budget, stays off while a full store evicts and refills (down to 3/4), and the percent the
// process had comes back below that and when the switch stops.
func TestGCSwitch_offWhileTheStoreIsFull(t *testing.T) {
	calls := checkGCSteps(t, 1600, []gcStep{
		{0, 100}, {1000, 100}, {1499, 100}, // under 15/16
		{1500, -1}, {1600, -1}, // full
		{1300, -1}, {1200, -1}, // a purge of a few objects, evictions: still off
		{1199, 100},             // under 3/4: back
		{1400, 100}, {1500, -1}, // full again
	})
	if len(calls) != 4 {
		t.Errorf("SetGCPercent called %d times (%v), want 4: only when a threshold is crossed", len(calls), calls)
	}
}

// TestGCSwitch_watchRunsTheSwitchAndRestores: the watcher turns GOGC off once the store
// reports full and gives the old percent back when it stops; with GOGC or GOMEMLIMIT in the
// environment there is no switch.
func TestGCSwitch_watchRunsTheSwitchAndRestores(t *testing.T) {
	var mu sync.Mutex
	percent := 100
	g := &gcSwitch{budget: 1000, log: slog.New(slog.NewTextHandler(io.Discard, nil)), setPercent: func(p int) int {
		mu.Lock()
		defer mu.Unlock()
		old := percent
		percent = p
		return old
	}}
	read := func() int { mu.Lock(); defer mu.Unlock(); return percent }
	done := make(chan struct{})
	g.watch(func() int64 { return 1000 }, time.Millisecond, done)
	waitFor := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); read() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("GOGC %d, want %d", read(), want)
			}
		}
	}
	waitFor(-1)
	close(done)
	waitFor(100)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Setenv("GOGC", "") // whatever the environment running the tests holds
	t.Setenv("GOMEMLIMIT", "")
	if newGCSwitch(1000, log) == nil {
		t.Fatal("no switch without GOGC or GOMEMLIMIT in the environment")
	}
	t.Setenv("GOGC", "200")
	if newGCSwitch(1000, log) != nil {
		t.Fatal("a switch although GOGC is in the environment")
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "2GiB")
	if newGCSwitch(1000, log) != nil {
		t.Fatal("a switch although GOMEMLIMIT is in the environment")
	}
	var nilSwitch *gcSwitch
	nilSwitch.watch(func() int64 { return 1000 }, time.Millisecond, nil) // does nothing
}

// TestGCSwitch_leanWhileTheStoreHoldsMostOfTheHeap: a store past gcLeanFrom (16 MiB) that is
// not full gets a lower GOGC (at most 50), so the collector's headroom is not a second copy
// of the cache; under 3/4 of that the percent comes back, at 15/16 of the budget GOGC goes
// off, and a full store that shrinks below 3/4 of its budget goes back to the lean percent,
// not to 100.
func TestGCSwitch_leanWhileTheStoreHoldsMostOfTheHeap(t *testing.T) {
	const mib = 1 << 20
	calls := checkGCSteps(t, 1024*mib, []gcStep{
		{0, 100}, {16*mib - 1, 100}, // a small store: the process's own pacing
		{16 * mib, 50}, {48 * mib, 50}, // most of the heap
		{12 * mib, 50}, {12*mib - 1, 100}, // back only under 3/4 of gcLeanFrom
		{40 * mib, 50}, {960 * mib, -1}, // full: off
		{800 * mib, -1}, {768*mib - 1, 33}, // emptied below 3/4 of the budget: lean, not 100
		{mib, 100}, {1024 * mib, -1}, // from the process's own straight to off
	})
	if want := []int{50, 100, 50, -1, 33, 100, -1, 100}; !slices.Equal(calls, want) {
		t.Errorf("SetGCPercent calls %v, want %v: only when a threshold is crossed", calls, want)
	}
}

// TestGCSwitch_leanHeadroomIsAnAmountNotAShare: while the store is lean, GOGC follows its
// size so that the collector's headroom stays near gcLeanHeadroom (32 MiB) over the heap of
// the store and gcRestOfHeap (16 MiB), and at least 33 percent of it: with GOGC 50
// throughout, 300,000 1 KiB objects (some 450 MB) had up to 225 MB of headroom, some 750 B
// of RSS per object beyond what they hold. The percent is set again only when it changes.
func TestGCSwitch_leanHeadroomIsAnAmountNotAShare(t *testing.T) {
	const mib = 1 << 20
	calls := checkGCSteps(t, 4096*mib, []gcStep{
		{48 * mib, 50},      // 32 MiB over 64: 50
		{64 * mib, 40},      // 32 over 80
		{72 * mib, 36},      // 32 over 88
		{72*mib + 4096, 36}, // a larger store of the same percent: not set again
		{144 * mib, 33},     // 32 over 160 is 20: at least 33
		{1008 * mib, 33},    // 32 over 1,024
		{64 * mib, 40},      // a purge: the percent grows again
	})
	if want := []int{50, 40, 36, 33, 40, 100}; !slices.Equal(calls, want) {
		t.Errorf("SetGCPercent calls %v, want %v", calls, want)
	}
}

// gcStep is a store size the switch observes and the GOGC percent it must leave set (-1 off).
type gcStep struct {
	bytes int64
	want  int
}

// checkGCSteps feeds steps to a switch over a store of budget bytes, in a process whose
// percent starts at 100, checks the percent after each and after restore, and returns every
// percent the switch set, in order.
func checkGCSteps(t *testing.T, budget int64, steps []gcStep) []int {
	t.Helper()
	percent := 100
	var calls []int
	g := &gcSwitch{budget: budget, log: slog.New(slog.NewTextHandler(io.Discard, nil)), setPercent: func(p int) int {
		calls = append(calls, p)
		old := percent
		percent = p
		return old
	}}
	for _, s := range steps {
		g.observe(s.bytes)
		if percent != s.want {
			t.Fatalf("at %d of %d bytes: GOGC %d, want %d (calls %v)", s.bytes, budget, percent, s.want, calls)
		}
	}
	g.restore()
	if percent != 100 {
		t.Fatalf("after restore: GOGC %d, want 100", percent)
	}
	return calls
}
