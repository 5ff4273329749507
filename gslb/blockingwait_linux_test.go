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

// A blocking reader waits inside recvmmsg on its blocking socket, not in the netpoller, and is
// not locked to a thread: sysmon preempts it every 10-20 ms (it never yields), and each
// preemption ends its wait with EINTR and sends it through the scheduler, after which it waits
// again, on whichever thread took it up. The test answers queries for 300 ms (many times
// sysmon's 10 ms) and looks after each answer for a thread of the process waiting in recvmmsg on
// the reader's socket (/proc/self/task/*/syscall: the call's number and its first argument, the
// descriptor): every query is answered, and the reader is seen waiting in the kernel.
func TestBlockingReaders_waitInRecvmmsgThroughPreemptions(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpBlocking, s.udpReaders = true, 1
	serve(t, s)
	sock, ok := s.udpLoop.socks[0].(*blockingSocket)
	if !ok {
		t.Fatalf("socket %T, want a blocking socket", s.udpLoop.socks[0])
	}
	waiting := fmt.Sprintf("%d 0x%x ", unix.SYS_RECVMMSG, sock.fd)
	threads := map[string]int{}
	queries := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); queries++ {
		if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
			t.Fatalf("query %d: no answer: %v", queries, r)
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
		t.Fatalf("no thread seen waiting in recvmmsg on descriptor %d in %d queries", sock.fd, queries)
	}
	t.Logf("%d queries; the reader waited on %d threads (thread: samples %v)", queries, len(threads), threads)
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
