package loadtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Config describes one attack run by vegeta's Attacker.
type Config struct {
	// Name is vegeta's attack name: the Attack field of every result and the X-Vegeta-Attack
	// request header.
	Name string
	// Pacer schedules the hits; required. PerSecond(n) is a fixed rate, Burst a stampede, and
	// Constant{} (no pacing) sends as fast as MaxWorkers workers can, a closed loop.
	Pacer vegeta.Pacer
	// Duration bounds the schedule: with a Schedule (PerSecond, Burst) the last hit is the
	// last one due by Duration, and hits due but still waiting for a worker (MaxWorkers) are
	// sent, so the attack may outlast it. Zero runs until ctx ends (or the pacer stops).
	Duration time.Duration
	// Workers is the initial number of workers; zero means vegeta's 10.
	Workers uint64
	// MaxWorkers caps the workers vegeta adds when every worker is busy at a hit's due time;
	// zero means no cap, so a slow target never lowers the rate sent. With a cap, hits wait for
	// a worker and, by vegeta's rule, are measured from when they are sent; see FromSchedule.
	MaxWorkers uint64
	// FromSchedule measures each hit from when it was due instead of when it was sent, so a
	// wait for a worker counts as latency (no coordinated omission): Timestamp becomes the due
	// time and Latency grows by the wait. Needs a Pacer that implements Schedule.
	FromSchedule bool
	// Options go to vegeta.NewAttacker after Workers and MaxWorkers: vegeta.Timeout,
	// vegeta.KeepAlive, vegeta.MaxBody, vegeta.Client and the rest.
	Options []func(*vegeta.Attacker)
}

// Attack runs one attack and hands every result to sink, from this goroutine, in the order
// they finish. It returns when the attack is over: Duration reached, ctx ended (requests in
// flight still finish, bounded by their timeout, unless ctx carries an abandon channel that
// closes: WithAbandon), the targeter ran out of targets, or sink failed, which stops the
// attack and is returned.
func Attack(ctx context.Context, cfg Config, tr vegeta.Targeter, sink func(*vegeta.Result) error) error {
	pacer, duration, sched, err := cfg.pacer()
	if err != nil {
		return err
	}
	opts := []func(*vegeta.Attacker){vegeta.Workers(cfg.Workers), vegeta.MaxWorkers(cfg.MaxWorkers)}
	if cfg.Workers == 0 {
		opts[0] = vegeta.Workers(vegeta.DefaultWorkers)
	}
	if cfg.MaxWorkers == 0 {
		opts[1] = vegeta.MaxWorkers(vegeta.DefaultMaxWorkers)
	}
	atk := vegeta.NewAttacker(append(opts, cfg.Options...)...)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()

	var sinkErr error
	results, abandon := atk.Attack(tr, pacer, duration, cfg.Name), abandonOf(ctx)
wait:
	for {
		select {
		case res, open := <-results:
			if !open {
				break wait
			}
			if sinkErr != nil {
				continue // drain, so vegeta's workers can finish
			}
			if sched != nil {
				sched.rebase(res)
			}
			if sinkErr = sink(res); sinkErr != nil {
				atk.Stop()
			}
		case <-abandon:
			// A second interrupt: stop waiting for the requests in flight (WithAbandon);
			// their workers are drained here, so none stays blocked on a send.
			atk.Stop()
			go func() {
				for range results {
				}
			}()
			break wait
		}
	}
	if sinkErr != nil {
		return fmt.Errorf("loadtest: attack %q: %w", cfg.Name, sinkErr)
	}
	return nil
}

// Run is Attack collecting vegeta's Metrics, for tests and scripts that want numbers, not
// results: Run(ctx, Config{Pacer: PerSecond(200), Duration: 2 * time.Second}, tr).
func Run(ctx context.Context, cfg Config, tr vegeta.Targeter) (*vegeta.Metrics, error) {
	var m vegeta.Metrics
	err := Attack(ctx, cfg, tr, func(r *vegeta.Result) error {
		m.Add(r)
		return nil
	})
	m.Close()
	return &m, err
}

// pacer checks cfg and returns the pacer and duration to give vegeta, and the wrapper that
// rebases results when there is one.
func (cfg Config) pacer() (vegeta.Pacer, time.Duration, *scheduled, error) {
	if cfg.Pacer == nil {
		return nil, 0, nil, errors.New("loadtest: attack needs a pacer")
	}
	if cfg.MaxWorkers > 0 && cfg.Workers > cfg.MaxWorkers {
		return nil, 0, nil, fmt.Errorf("loadtest: %d workers above max workers %d", cfg.Workers, cfg.MaxWorkers)
	}
	unpaced := false
	switch p := cfg.Pacer.(type) {
	case Constant:
		unpaced = p.Freq == 0 || p.Per == 0
	case vegeta.ConstantPacer:
		unpaced = p.Freq == 0 || p.Per == 0
	}
	if unpaced && cfg.MaxWorkers == 0 {
		// vegeta would add a worker for every hit, without bound.
		return nil, 0, nil, errors.New("loadtest: an unpaced attack (rate 0) needs max workers")
	}
	s, ok := cfg.Pacer.(Schedule)
	if cfg.FromSchedule && (!ok || unpaced) {
		return nil, 0, nil, fmt.Errorf("loadtest: measuring from the schedule needs a paced schedule, not %v", cfg.Pacer)
	}
	if !ok || unpaced {
		return cfg.Pacer, cfg.Duration, nil, nil
	}
	sched := &scheduled{Schedule: s, duration: cfg.Duration, fromDue: cfg.FromSchedule}
	return sched, 0, sched, nil
}
