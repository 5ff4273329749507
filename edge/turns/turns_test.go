package turns

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestGate_servesABatchOldestFirst plays the network poller's hand-over of one epoll_wait:
// n goroutines, parked as on their sockets, become runnable newest first (as netpoll's list
// runs them), each reaches the gate, and the order they are served in is recorded. Without
// the gate the oldest is served last; with it, only the newest (the one that opened the
// batch) goes before the others, who follow oldest first.
//
// The order is the scheduler's with one P; the race detector randomises the scheduler, so
// the test skips under it (make test runs it again without: ALLOCTESTS).
func TestGate_servesABatchOldestFirst(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector randomises the run queue's order")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 8
	for _, tc := range []struct {
		name  string
		gated bool
		want  []int // arrival order 0 (oldest) .. n-1 (newest)
	}{
		{"without the gate", false, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"with the gate", true, []int{7, 0, 1, 2, 3, 4, 5, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				g       Gate
				mu      sync.Mutex
				served  []int
				parked  sync.WaitGroup
				done    sync.WaitGroup
				sockets [n]chan struct{}
			)
			for i := range sockets {
				sockets[i] = make(chan struct{})
				parked.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					parked.Done()
					<-sockets[i] // readable
					if tc.gated {
						g.Wait(make(chan struct{}, 1))
					}
					mu.Lock()
					served = append(served, i)
					mu.Unlock()
				}()
			}
			parked.Wait()
			// Every goroutine is parked on its socket once each has run to the receive:
			// with one P, yielding until none is left runnable gets there (bounded).
			for range 100 {
				runtime.Gosched()
			}
			// Wake them as netpoll's list runs them, newest first: with the run-next slot,
			// waking n-2, ..., 0 and then n-1 runs n-1, n-2, ..., 0 (dispatch's rule).
			for i := n - 2; i >= 0; i-- {
				sockets[i] <- struct{}{}
			}
			sockets[n-1] <- struct{}{}
			done.Wait()
			if !slices.Equal(served, tc.want) {
				t.Fatalf("served in order %v, want %v", served, tc.want)
			}
		})
	}
}
