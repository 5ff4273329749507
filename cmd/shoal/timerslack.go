package main

import (
	"log/slog"
	"os"
	"runtime"
	"time"
)

// While a node is busy, the Go runtime's sysmon thread naps 20 µs at a time (usleep(20) in
// runtime.sysmon, for its first 50 naps after the process was idle, as it is many times a
// second under load). Each nap is a timer the kernel programs and fires, a wakeup of the
// thread, and on a node whose core is shared with other work a preemption of the thread
// running Go code. On make bench-peers' pass and miss workloads that was 0.13-0.15 sysmon
// wakeups per response and about 2 µs of the process's CPU per response (profile-kernel.sh).
//
// Linux lets a sleeping thread wake up to its timer slack late, so that nearby wakeups share
// one timer interrupt (prctl PR_SET_TIMERSLACK, default 50 µs). With a slack of timerSlack the
// naps stay 50 per burst but last up to 20 µs + timerSlack: sysmon woke 0.06 times per pass
// instead of 0.15, and CPU per response fell 7-9% on pass and miss (scripts/bench/
// profile-kernel.sh, 2026-12-01, single runs side by side). What sysmon does late by at most the
// slack: take the P from a thread blocked in a system call (a cold disk read) and hand it
// to another, poll the network when nothing else did for 10 ms, preempt a goroutine that
// ran 10 ms. Go's own timers (deadlines, time.Sleep) wait in epoll_pwait, whose timeout is
// whole milliseconds: the slack adds at most timerSlack to them.
//
// A thread's slack is inherited by the threads it creates, so setting it on every thread
// of the process once, at start, covers the threads the runtime adds later. A process may
// set its own thread's slack, but another thread's only with CAP_SYS_NICE: an unprivileged
// node sets what it can and says so; systemd's TimerSlackNSec= sets it for the whole
// service (deploy/systemd/shoal.service).
const timerSlack = 200 * time.Microsecond

// defaultTimerSlack is the kernel's default: a slack other than it was chosen by whoever
// started the process (systemd's TimerSlackNSec=, prctl in a wrapper), and stays.
const defaultTimerSlack = 50 * time.Microsecond

// timerSlacker reads and sets the timer slack of the process's threads: the calling
// thread's through prctl, the others' through /proc (timerslack_linux.go).
type timerSlacker interface {
	// own returns the calling thread's slack.
	own() (time.Duration, error)
	// threads lists the process's thread ids.
	threads() ([]int, error)
	// get and set read and write one thread's slack.
	get(tid int) (time.Duration, error)
	set(tid int, d time.Duration) error
}

// applyTimerSlack gives every thread of the process a timer slack of d, unless the process
// started with a slack other than the kernel's default or SHOAL_TIMER_SLACK says otherwise
// (a Go duration; 0 leaves the slack alone). It returns how many threads carry d and how
// many refused it (EPERM without CAP_SYS_NICE); it logs what it did.
func applyTimerSlack(ts timerSlacker, d time.Duration, log *slog.Logger) (set, refused int) {
	if v := os.Getenv("SHOAL_TIMER_SLACK"); v != "" {
		e, err := time.ParseDuration(v)
		if err != nil || e < 0 {
			log.Warn("SHOAL_TIMER_SLACK is not a duration of 0 or more: timer slack left alone", "value", v)
			return 0, 0
		}
		d = e
	} else if own, err := ownSlack(ts); err != nil || own != defaultTimerSlack {
		// Chosen by whoever started us (or unreadable): theirs.
		return 0, 0
	}
	if d <= 0 {
		return 0, 0
	}
	// "The calling thread" (timerSlacker.own, set's prctl) is one thread throughout.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Threads the runtime starts while we walk inherit from their creator, which may not have
	// the new slack yet: walk again until a walk finds none left (three walks at most).
	for range 3 {
		tids, err := ts.threads()
		if err != nil {
			log.Warn("timer slack left alone: cannot list the process's threads", "err", err)
			return 0, 0
		}
		set, refused = 0, 0
		changed := false
		for _, tid := range tids {
			if cur, err := ts.get(tid); err == nil && cur == d {
				set++
				continue
			}
			if err := ts.set(tid, d); err != nil {
				refused++
				continue
			}
			set++
			changed = true
		}
		if !changed {
			break
		}
	}
	if refused > 0 {
		log.Info("timer slack set on some threads only: the others need CAP_SYS_NICE (or systemd's TimerSlackNSec=)",
			"timer_slack", d.String(), "threads_set", set, "threads_refused", refused)
	} else {
		log.Debug("timer slack set", "timer_slack", d.String(), "threads", set)
	}
	return set, refused
}

// ownSlack reads the calling thread's slack with the goroutine held on it.
func ownSlack(ts timerSlacker) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return ts.own()
}
