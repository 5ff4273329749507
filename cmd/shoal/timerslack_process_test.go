//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"golang.org/x/sys/unix"
)

// startSlackNode starts a shoal process from the calling goroutine's thread, which passes
// its own timer slack to the child (fork copies it), and waits until its node started.
func startSlackNode(t *testing.T, bin string) *exec.Cmd {
	t.Helper()
	ng := testenv.StartNginx(t, testenv.NginxOptions{})
	cfg := fmt.Sprintf(`listen: {http: %q, admin: %q}
node: {name: slack-edge}
origins:
  o: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /}, origin: o, cache: true}
`, testenv.FreePort(t), testenv.FreePort(t), ng.URL)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")
	return cmd
}

// threadSlacks reads the timer slack of each thread of pid.
func threadSlacks(t *testing.T, pid int) map[int]time.Duration {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", tid))
		if err != nil {
			continue // the thread ended
		}
		ns, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		out[tid] = time.Duration(ns)
	}
	return out
}

// TestRun_everyThreadSleepsWithTheNodesTimerSlack: a shoal process started with the kernel's
// default slack gives timerSlack to every one of its threads, the runtime's sysmon (started
// before main) included, which is what cuts its wakeups under load.
func TestRun_everyThreadSleepsWithTheNodesTimerSlack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting another thread's timer slack needs CAP_SYS_NICE; this test runs as root in CI")
	}
	bin := testenv.ShoalBinary(t)
	t.Setenv("SHOAL_TIMER_SLACK", "")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(defaultTimerSlack.Nanoseconds()), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	cmd := startSlackNode(t, bin)
	slacks := threadSlacks(t, cmd.Process.Pid)
	if len(slacks) < 3 {
		t.Fatalf("%d threads read, want at least 3 (main, sysmon, a worker)", len(slacks))
	}
	for tid, d := range slacks {
		if d != timerSlack {
			t.Errorf("thread %d: timer slack %v, want %v (of %d threads: %v)", tid, d, timerSlack, len(slacks), slacks)
		}
	}
}

// TestRun_anOperatorsTimerSlackStays: a process started with another slack (systemd's
// TimerSlackNSec=) keeps it on every thread.
func TestRun_anOperatorsTimerSlackStays(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	t.Setenv("SHOAL_TIMER_SLACK", "")
	const operators = 3 * time.Millisecond
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(operators.Nanoseconds()), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(defaultTimerSlack.Nanoseconds()), 0, 0, 0)
	cmd := startSlackNode(t, bin)
	for tid, d := range threadSlacks(t, cmd.Process.Pid) {
		if d != operators {
			t.Errorf("thread %d: timer slack %v, want the operator's %v", tid, d, operators)
		}
	}
}
