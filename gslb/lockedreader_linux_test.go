package gslb

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// A blocking reader waits in recvmmsg on one thread for its whole life (runtime.LockOSThread),
// as gdnsd's threads do. Unlocked, every preemption by sysmon (every 10 ms: the reader never
// yields) put it on the global run queue, where a thread woken for it took it up as often as
// its own: at 10,000 qps it ran on two threads in turn. The test answers queries for 300 ms
// (about 30 preemptions) and looks after each answer at which threads wait in recvmmsg on the
// reader's socket (/proc/self/task/*/syscall: the call's number and its first argument, the
// descriptor): unlocked it found 4 or 5 threads in every run, locked it finds one.
func TestBlockingReaders_stayOnTheirThread(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpBlocking, s.udpReaders = true, 1
	serve(t, s)
	sock, ok := s.udpLoop.socks[0].(*blockingSocket)
	if !ok {
		t.Fatalf("socket %T, want a blocking socket", s.udpLoop.socks[0])
	}
	waiting := fmt.Sprintf("%d 0x%x ", unix.SYS_RECVMMSG, sock.fd)
	threads := map[string]int{}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
			t.Fatalf("no answer: %v", r)
		}
		for range 100 { // the reader is back in recvmmsg within microseconds of its reply
			if tid := threadIn(t, waiting); tid != "" {
				threads[tid]++
				break
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	if len(threads) == 0 {
		t.Fatalf("no thread seen waiting in recvmmsg on descriptor %d", sock.fd)
	}
	if len(threads) != 1 {
		t.Errorf("the reader waited on %d threads (thread: samples %v), want one", len(threads), threads)
	}
}

// threadIn returns the id of a thread of this process whose current system call line in
// /proc starts with prefix, or "".
func threadIn(t *testing.T, prefix string) string {
	tasks, err := filepath.Glob("/proc/self/task/*/syscall")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		if strings.HasPrefix(string(b), prefix) {
			return filepath.Base(filepath.Dir(p))
		}
	}
	return ""
}
