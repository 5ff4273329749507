package loadtest

import (
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Schedule is a vegeta.Pacer that can also say when each hit was due, which is what measuring
// from the schedule (Config.FromSchedule) needs. Due must agree with Pace: hit n (0-based) is
// sent when Pace(elapsed, n) first returns a wait <= 0.
type Schedule interface {
	vegeta.Pacer
	// Due is when hit n is due, as an offset from the start of the attack.
	Due(n uint64) time.Duration
}

// Constant is vegeta.ConstantPacer (Freq hits per Per, hit n due at (n+1)·Per/Freq) that also
// knows its schedule. Freq or Per zero means no pacing at all (as fast as MaxWorkers allow),
// which has no schedule to measure from.
type Constant vegeta.ConstantPacer

// PerSecond is a Constant of n hits per second.
func PerSecond(n int) Constant { return Constant{Freq: n, Per: time.Second} }

// Pace implements vegeta.Pacer with vegeta's own arithmetic.
func (c Constant) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return vegeta.ConstantPacer(c).Pace(elapsed, hits)
}

// Rate implements vegeta.Pacer: hits per second.
func (c Constant) Rate(elapsed time.Duration) float64 { return vegeta.ConstantPacer(c).Rate(elapsed) }

// Due implements Schedule, with the integer interval vegeta.ConstantPacer uses.
func (c Constant) Due(n uint64) time.Duration {
	if c.Freq <= 0 || c.Per <= 0 {
		return 0
	}
	return time.Duration((n + 1) * uint64(c.Per.Nanoseconds()/int64(c.Freq)))
}

func (c Constant) String() string { return vegeta.ConstantPacer(c).String() }

// Burst keeps Constant's average rate but makes Size consecutive hits due at the same instant,
// one burst every Size intervals: the shape of a cache stampede. Hit n is due at
// (n/Size + 1)·Size·Per/Freq, so an attack of duration d sends the same d·Freq/Per hits as
// Constant would.
type Burst struct {
	Constant
	Size int // hits per burst; below 1 means 1
}

// Pace implements vegeta.Pacer.
func (b Burst) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if b.Freq <= 0 || b.Per <= 0 {
		return 0, true
	}
	size := uint64(max(b.Size, 1))
	interval := uint64(b.Per.Nanoseconds() / int64(b.Freq))
	if hits/size+1 > math.MaxInt64/(size*max(interval, 1)) {
		return 0, true // the next due time overflows: the attack is over
	}
	return b.Due(hits) - elapsed, false
}

// Due implements Schedule.
func (b Burst) Due(n uint64) time.Duration {
	size := uint64(max(b.Size, 1))
	return b.Constant.Due(n/size*size + size - 1)
}

func (b Burst) String() string {
	return fmt.Sprintf("Burst{%d hits/%s in bursts of %d}", b.Freq, b.Per, max(b.Size, 1))
}

// scheduled wraps the Schedule of an attack. It ends the attack after the last hit due
// within its duration: vegeta's own check runs between hits, so it would cut a Burst due
// exactly at the end after its first hit, and whether a hit due at the end is sent depends on
// microseconds. With fromDue, it also moves each result's start back to when it was due.
// vegeta stamps a result when a worker starts it, so a hit that waited for a free worker
// (MaxWorkers reached because the target stalled) is measured from the late send and the
// stall disappears from the numbers: coordinated omission. Measured from the schedule, the
// wait is part of the latency, as a user arriving on time would see it.
type scheduled struct {
	Schedule
	duration time.Duration // zero: no end
	fromDue  bool
	began    time.Time
}

// Pace records the start on the first call. vegeta calls Pace from its scheduler goroutine
// before the first hit is handed to a worker, and every result reaches rebase through the
// results channel after that, so rebase reads began without a race.
func (s *scheduled) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if s.began.IsZero() {
		s.began = time.Now().Add(-elapsed)
	}
	if s.duration > 0 && s.Due(hits) > s.duration {
		return 0, true
	}
	return s.Schedule.Pace(elapsed, hits)
}

// rebase moves r's Timestamp to its due time and adds the delay to its Latency, when fromDue.
// vegeta numbers hits in the order workers start them, and starts are in due order, so Seq n
// is the nth hit of the schedule.
func (s *scheduled) rebase(r *vegeta.Result) {
	if !s.fromDue {
		return
	}
	due := s.began.Add(s.Due(r.Seq))
	if late := r.Timestamp.Sub(due); late > 0 {
		r.Timestamp = due
		r.Latency += late
	}
}
