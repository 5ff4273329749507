package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeSlack is a process of threads whose slack applyTimerSlack sets; spawn adds threads
// during the first walk, as the runtime may while the node starts.
type fakeSlack struct {
	ownSlack time.Duration
	slack    map[int]time.Duration
	refuse   map[int]bool // threads whose set fails as EPERM would
	spawn    []int        // threads that appear (with the default slack) after the first list
	walks    int
}

func (f *fakeSlack) own() (time.Duration, error) { return f.ownSlack, nil }

func (f *fakeSlack) threads() ([]int, error) {
	f.walks++
	if f.walks == 2 {
		for _, tid := range f.spawn {
			f.slack[tid] = defaultTimerSlack
		}
	}
	var tids []int
	for tid := range f.slack {
		tids = append(tids, tid)
	}
	return tids, nil
}

func (f *fakeSlack) get(tid int) (time.Duration, error) { return f.slack[tid], nil }

func (f *fakeSlack) set(tid int, d time.Duration) error {
	if f.refuse[tid] {
		return errors.New("operation not permitted")
	}
	f.slack[tid] = d
	return nil
}

func newFakeSlack(own time.Duration, tids ...int) *fakeSlack {
	f := &fakeSlack{ownSlack: own, slack: map[int]time.Duration{}, refuse: map[int]bool{}}
	for _, tid := range tids {
		f.slack[tid] = own
	}
	return f
}

func TestApplyTimerSlack(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name        string
		env         string
		fake        *fakeSlack
		wantSet     int
		wantRefused int
		want        time.Duration // every thread's slack after, when not refused
		wantLog     string
	}{
		{name: "default slack: every thread gets timerSlack", fake: newFakeSlack(defaultTimerSlack, 1, 2, 3), wantSet: 3, want: timerSlack},
		{name: "an operator's slack stays", fake: newFakeSlack(ms, 1, 2, 3), want: ms},
		{name: "SHOAL_TIMER_SLACK sets another", env: "1ms", fake: newFakeSlack(defaultTimerSlack, 1, 2), wantSet: 2, want: ms},
		{name: "SHOAL_TIMER_SLACK=0 leaves it alone", env: "0", fake: newFakeSlack(defaultTimerSlack, 1, 2), want: defaultTimerSlack},
		{name: "a bad SHOAL_TIMER_SLACK is named and left", env: "fast", fake: newFakeSlack(defaultTimerSlack, 1), want: defaultTimerSlack, wantLog: "SHOAL_TIMER_SLACK"},
		{name: "a negative SHOAL_TIMER_SLACK is named and left", env: "-1ms", fake: newFakeSlack(defaultTimerSlack, 1), want: defaultTimerSlack, wantLog: "SHOAL_TIMER_SLACK"},
		{name: "SHOAL_TIMER_SLACK wins over an operator's slack", env: "2ms", fake: newFakeSlack(ms, 1), wantSet: 1, want: 2 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("SHOAL_TIMER_SLACK", c.env)
			var buf bytes.Buffer
			set, refused := applyTimerSlack(c.fake, timerSlack, slog.New(slog.NewTextHandler(&buf, nil)))
			if set != c.wantSet || refused != c.wantRefused {
				t.Errorf("set %d, refused %d; want %d, %d", set, refused, c.wantSet, c.wantRefused)
			}
			for tid, d := range c.fake.slack {
				if d != c.want {
					t.Errorf("thread %d: slack %v, want %v", tid, d, c.want)
				}
			}
			if !strings.Contains(buf.String(), c.wantLog) {
				t.Errorf("log %q does not name %q", buf.String(), c.wantLog)
			}
		})
	}
}

// TestApplyTimerSlack_threadsStartedDuringTheWalk: a thread the runtime starts while the slack
// is being set, from a thread that did not have it yet, gets it on the next walk.
func TestApplyTimerSlack_threadsStartedDuringTheWalk(t *testing.T) {
	t.Setenv("SHOAL_TIMER_SLACK", "")
	f := newFakeSlack(defaultTimerSlack, 1, 2)
	f.spawn = []int{7, 8}
	set, refused := applyTimerSlack(f, timerSlack, slog.New(slog.DiscardHandler))
	if set != 4 || refused != 0 {
		t.Errorf("set %d, refused %d; want 4, 0", set, refused)
	}
	for tid, d := range f.slack {
		if d != timerSlack {
			t.Errorf("thread %d: slack %v, want %v", tid, d, timerSlack)
		}
	}
}

// TestApplyTimerSlack_refusedThreadsAreCountedAndLogged: without CAP_SYS_NICE only the calling
// thread takes the slack; the log says how many refused and what to do.
func TestApplyTimerSlack_refusedThreadsAreCountedAndLogged(t *testing.T) {
	t.Setenv("SHOAL_TIMER_SLACK", "")
	f := newFakeSlack(defaultTimerSlack, 1, 2, 3)
	f.refuse[2], f.refuse[3] = true, true
	var buf bytes.Buffer
	set, refused := applyTimerSlack(f, timerSlack, slog.New(slog.NewTextHandler(&buf, nil)))
	if set != 1 || refused != 2 {
		t.Errorf("set %d, refused %d; want 1, 2", set, refused)
	}
	if !strings.Contains(buf.String(), "threads_refused=2") || !strings.Contains(buf.String(), "TimerSlackNSec") {
		t.Errorf("log %q: want the refused count and TimerSlackNSec", buf.String())
	}
}
