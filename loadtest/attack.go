package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Hitter performs request seq and fills in res: Code, bytes, Error, Method, URL, Headers.
// The attacker sets Attack, Seq, Timestamp and Latency itself. Hit is called from many worker
// goroutines at once, so it must be safe for concurrent use, and it must give up on its own
// (a timeout, or ctx) so one stuck target cannot hold a worker forever.
type Hitter interface {
	Hit(ctx context.Context, seq uint64, res *Result)
}

// HitterFunc adapts a function to Hitter.
type HitterFunc func(ctx context.Context, seq uint64, res *Result)

// Hit implements Hitter.
func (f HitterFunc) Hit(ctx context.Context, seq uint64, res *Result) { f(ctx, seq, res) }

// Sink receives every result. It is called from one goroutine, never concurrently, and must
// copy what it keeps: res is valid only during the call.
type Sink func(res *Result)

// AttackConfig describes one attack. The zero value is a closed-loop attack with 10 workers
// that runs until its context is cancelled.
type AttackConfig struct {
	// Name goes into every Result's Attack field.
	Name string
	// Pacer schedules requests (open loop). Nil means closed loop: Workers send as fast as
	// responses come back, which measures capacity, not latency under a given load.
	Pacer Pacer
	// Duration bounds the schedule: no request is due at or after it. Zero means until ctx ends.
	// Requests already due are still sent and awaited after the schedule ends.
	Duration time.Duration
	// Workers is the closed-loop concurrency and the open-loop starting pool; zero means 10.
	Workers int
	// MaxWorkers caps the open-loop pool, which grows whenever a request is due and every
	// worker is busy; zero means 10000. At the cap, due requests wait for a worker and the
	// wait is counted in their latency.
	MaxWorkers int
}

// Progress is a live snapshot of an attack, safe to take from any goroutine.
type Progress struct {
	Done     uint64 // results delivered to the sink
	Errors   uint64 // of which failed (error set or code 0 / >= 400)
	InFlight int64  // requests sent and not yet answered
	Workers  int64  // current worker goroutines
}

// Summary describes a finished attack.
type Summary struct {
	Requests    uint64
	Errors      uint64
	Workers     int
	Interrupted bool // ctx ended before the schedule did
}

// Attacker runs attacks. Attack may be called again after it returns, but not concurrently.
type Attacker struct {
	cfg AttackConfig

	done, errors      atomic.Uint64
	inFlight, workers atomic.Int64
}

// NewAttacker validates cfg.
func NewAttacker(cfg AttackConfig) (*Attacker, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 10
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 10000
	}
	if cfg.MaxWorkers < cfg.Workers {
		return nil, fmt.Errorf("loadtest: max workers %d below workers %d", cfg.MaxWorkers, cfg.Workers)
	}
	if cfg.Duration < 0 {
		return nil, fmt.Errorf("loadtest: negative duration %s", cfg.Duration)
	}
	return &Attacker{cfg: cfg}, nil
}

// Progress returns live counters for the attack in progress (or the last one).
func (a *Attacker) Progress() Progress {
	return Progress{
		Done: a.done.Load(), Errors: a.errors.Load(),
		InFlight: a.inFlight.Load(), Workers: a.workers.Load(),
	}
}

// Attack runs one attack and delivers every result to sink before returning. Cancelling ctx
// stops the schedule; requests in flight still finish (bounded by the Hitter's timeout).
func (a *Attacker) Attack(ctx context.Context, h Hitter, sink Sink) Summary {
	a.done.Store(0)
	a.errors.Store(0)
	results := make(chan Result, 1024)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for res := range results {
			a.done.Add(1)
			if failed(&res) {
				a.errors.Add(1)
			}
			sink(&res)
		}
	}()

	var interrupted bool
	if a.cfg.Pacer == nil {
		interrupted = a.closedLoop(ctx, h, results)
	} else {
		interrupted = a.openLoop(ctx, h, results)
	}
	close(results)
	<-collected
	return Summary{
		Requests: a.done.Load(), Errors: a.errors.Load(),
		Workers: int(a.workers.Swap(0)), Interrupted: interrupted,
	}
}

type due struct {
	seq uint64
	at  time.Time
}

// openLoop is the scheduler: it walks the timeline and hands each due request to an idle
// worker, spawning one when none is idle. It never waits for a response before scheduling the
// next request, so a slow target cannot slow the offered load (no coordinated omission).
func (a *Attacker) openLoop(ctx context.Context, h Hitter, results chan<- Result) (interrupted bool) {
	work := make(chan due)
	var wg sync.WaitGroup
	spawn := func() {
		a.workers.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				a.hit(ctx, h, d, results)
			}
		}()
	}
	for range a.cfg.Workers {
		spawn()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	start := time.Now()
	timer := time.NewTimer(time.Hour)
	timer.Stop() // since Go 1.23 a stopped timer holds no stale tick, so Reset is safe
	defer timer.Stop()
	for seq := uint64(0); ; seq++ {
		offset := a.cfg.Pacer.Due(seq)
		if a.cfg.Duration > 0 && offset >= a.cfg.Duration {
			return false
		}
		at := start.Add(offset)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return true
			}
		}
		d := due{seq: seq, at: at}
		select {
		case work <- d:
			continue
		case <-ctx.Done():
			return true
		default:
		}
		if a.workers.Load() < int64(a.cfg.MaxWorkers) {
			spawn()
		}
		// At the cap this blocks; the request keeps its scheduled time, so the wait shows up
		// in its latency instead of vanishing from the measurement.
		select {
		case work <- d:
		case <-ctx.Done():
			return true
		}
	}
}

// closedLoop runs a fixed pool that sends the next request as soon as the last one returns.
func (a *Attacker) closedLoop(ctx context.Context, h Hitter, results chan<- Result) (interrupted bool) {
	var (
		wg  sync.WaitGroup
		seq atomic.Uint64
	)
	start := time.Now()
	for range a.cfg.Workers {
		a.workers.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				now := time.Now()
				if a.cfg.Duration > 0 && now.Sub(start) >= a.cfg.Duration {
					return
				}
				a.hit(ctx, h, due{seq: seq.Add(1) - 1, at: now}, results)
			}
		}()
	}
	wg.Wait()
	return ctx.Err() != nil
}

func (a *Attacker) hit(ctx context.Context, h Hitter, d due, results chan<- Result) {
	a.inFlight.Add(1)
	res := Result{Attack: a.cfg.Name, Seq: d.seq, Timestamp: d.at}
	h.Hit(ctx, d.seq, &res)
	res.Latency = time.Since(d.at)
	a.inFlight.Add(-1)
	results <- res
}

// failed is the progress line's notion of an error; reports use vegeta's success rule.
func failed(r *Result) bool { return r.Error != "" || r.Code == 0 || r.Code >= 400 }
