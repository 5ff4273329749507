package loadtest

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressLine renders the live status line. It keeps the previous sample so the rate shown is
// the recent one, which is what reveals a node dying mid-run.
type progressLine struct {
	start    time.Time
	lastAt   time.Time
	lastDone uint64
}

func newProgressLine(start time.Time) *progressLine {
	return &progressLine{start: start, lastAt: start}
}

// format returns the line for snapshot p taken at now, starting with \r so it overwrites the
// previous one, padded so a shorter line fully covers a longer one.
func (l *progressLine) format(now time.Time, p Progress) string {
	rps := 0.0
	if dt := now.Sub(l.lastAt).Seconds(); dt > 0 && p.Done >= l.lastDone {
		rps = float64(p.Done-l.lastDone) / dt
	}
	l.lastAt, l.lastDone = now, p.Done
	line := fmt.Sprintf("%8s  %10d req  %9.1f req/s  %8d errors  %6d in flight  %6d workers",
		now.Sub(l.start).Truncate(time.Second), p.Done, rps, p.Errors, p.InFlight, p.Workers)
	return fmt.Sprintf("\r%-90s", line)
}

// runProgress prints a progress line every interval until stop is closed, then ends the line.
// It returns a function that stops it and waits for the final newline.
func runProgress(w io.Writer, interval time.Duration, snapshot func() Progress) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		line := newProgressLine(time.Now())
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		printed := false
		for {
			select {
			case now := <-ticker.C:
				fmt.Fprint(w, line.format(now, snapshot()))
				printed = true
			case <-done:
				if printed {
					fmt.Fprintln(w)
				}
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
