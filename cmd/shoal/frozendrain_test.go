package main

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A member frozen (SIGSTOP, as a hung host) in its graceful drain, with forwards waiting on
// it: the ring declares it failed, not left, so those forwards are cut and served by the
// node asked or the next owner. They waited for cache.fill_timeout and got 504, the member
// having been seen draining (a graceful leave keeps its forwards in flight).
func TestCluster_memberFrozenInItsDrainHasItsForwardsServedElsewhere(t *testing.T) {
	// The first request for each path waits 8 s (the owner's fill, in flight as the owner
	// drains and freezes); any later one, a node serving it in the frozen owner's place, is
	// answered at once.
	var mu sync.Mutex
	seen := map[string]bool{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !seen[r.URL.Path]
		seen[r.URL.Path] = true
		mu.Unlock()
		if first {
			select {
			case <-time.After(8 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	procs := launchProcs(t, 3, func(i int, p *proc, join string) string {
		return procYAML(p, join, "http://"+ln.Addr().String(), "memory: 64MiB, fill_timeout: 20s", "")
	})

	asked := make(chan struct{})
	go func() { defer close(asked); askThirty(t, procs[0], "/drain") }() // about a third are node-3's
	// Once node-3's forwards wait on its origin: node-3 drains, node-1 sees it, node-3 freezes.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 30 {
			break // every object's fill waits on the origin, node-3's among them
		}
		if time.Now().After(deadline) {
			t.Fatalf("the origin saw %d of the 30 fills within 20 s", n)
		}
	}
	procs[2].cmd.Process.Signal(syscall.SIGTERM)
	waitMetric(t, procs[0], `shoal_ring_members{state="draining"}`, "1")
	if err := procs[2].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { procs[2].cmd.Process.Signal(syscall.SIGCONT) })
	<-asked
}
