package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// procSlack is timerSlacker on Linux: prctl for the calling thread, /proc/TID/timerslack_ns
// (Linux 4.6) for the others. The caller keeps its goroutine on one thread (LockOSThread)
// while it uses it, so "the calling thread" is one thread.
type procSlack struct{}

func (procSlack) own() (time.Duration, error) {
	ns, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return 0, fmt.Errorf("timer slack: prctl: %w", err)
	}
	return time.Duration(ns), nil
}

func (procSlack) threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("timer slack: %w", err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

func (procSlack) get(tid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns")
	if err != nil {
		return 0, fmt.Errorf("timer slack: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timer slack: thread %d: %w", tid, err)
	}
	return time.Duration(ns), nil
}

func (procSlack) set(tid int, d time.Duration) error {
	if tid == unix.Gettid() {
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(d.Nanoseconds()), 0, 0, 0); err != nil {
			return fmt.Errorf("timer slack: prctl: %w", err)
		}
		return nil
	}
	// Another thread's slack needs CAP_SYS_NICE: EPERM without it.
	err := os.WriteFile("/proc/"+strconv.Itoa(tid)+"/timerslack_ns", []byte(strconv.FormatInt(d.Nanoseconds(), 10)), 0)
	if err != nil {
		return fmt.Errorf("timer slack: thread %d: %w", tid, err)
	}
	return nil
}

// processSlack is the process's timerSlacker.
func processSlack() timerSlacker { return procSlack{} }
