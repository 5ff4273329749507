// Package turns serves the connections that became readable in one pass of the Go scheduler
// first come first served, as an event loop (nginx, HAProxy) serves the events of one
// epoll_wait in the order the kernel lists them.
//
// Why: the runtime's network poller hands back the goroutines of one epoll_wait in reverse
// (netpollready pushes each on the head of a list, runtime/netpoll.go), and with one P they
// run in that order. Under a closed loop of many connections on one core (make bench-peers:
// 64 connections), the connection whose request arrived first in a batch is answered last,
// after the whole batch: its wait is the batch's time plus the time the batch took to
// gather, about twice what first-come-first-served gives, at the same mean.
//
// How: each connection's goroutine, once its data is read, waits at the Gate. The first to
// come while no batch is open opens one and yields (runtime.Gosched puts it behind every
// goroutine already runnable, so the rest of the batch reaches the gate and parks; again
// while the batch grows); it then wakes them oldest first and goes on with its own request,
// the newest, without waiting. A wake makes the woken goroutine the scheduler's next to run
// and moves the one there before to the back of the run queue, so the oldest is woken last
// (see dispatch).
//
// What holds: a goroutine that waits is woken by the dispatcher of its batch, which is
// runnable (yielded, never blocked) while the batch is open, so no wait outlasts one pass of
// the run queue plus at most maxYields yields. The order is the scheduler's with one P; with
// more, idle Ps take runnable goroutines from each other and the gate only adds a park and a
// wake per request, so callers use it only with GOMAXPROCS 1. Every method is safe for
// concurrent use.
package turns

import (
	"runtime"
	"sync"
)

// maxYields bounds the dispatcher's yields while its batch gathers.
const maxYields = 4

// Gate orders the goroutines that reach it in one scheduler pass. The zero value is ready.
type Gate struct {
	mu      sync.Mutex
	open    bool
	waiting []chan struct{} // in the order the goroutines reached the gate: newest first
	spare   []chan struct{}
}

// Wait returns when it is the caller's turn. wake is the caller's own channel, buffered
// (capacity 1) and used by no one else while Wait runs.
func (g *Gate) Wait(wake chan struct{}) {
	g.mu.Lock()
	if g.open {
		g.waiting = append(g.waiting, wake)
		g.mu.Unlock()
		<-wake
		return
	}
	g.open = true
	g.mu.Unlock()
	// Gosched puts the caller on the global run queue, which the scheduler takes after the
	// local one, but also once in 61 turns before it: yield again while the batch grew, so a
	// dispatch that came early waits for the rest (bounded: goroutines that keep arriving
	// are the next batch's).
	for seen, i := -1, 0; i < maxYields; i++ {
		runtime.Gosched()
		g.mu.Lock()
		n := len(g.waiting)
		g.mu.Unlock()
		if n == seen {
			break
		}
		seen = n
	}
	g.mu.Lock()
	batch := g.waiting
	g.waiting, g.spare = g.spare[:0], nil
	g.open = false
	g.mu.Unlock()
	dispatch(batch)
	clear(batch)
	g.mu.Lock()
	if g.spare == nil {
		g.spare = batch[:0] // the next batch's list, without growing one again
	}
	g.mu.Unlock()
}

// dispatch wakes a batch, given newest first, so that it runs oldest first. Each wake puts
// the woken goroutine in the scheduler's run-next slot and the one there before at the tail
// of the run queue: waking b[n-2], ..., b[0] and then b[n-1] (the oldest) runs b[n-1], then
// b[n-2], ..., b[0].
func dispatch(b []chan struct{}) {
	if len(b) == 0 {
		return
	}
	for i := len(b) - 2; i >= 0; i-- {
		b[i] <- struct{}{}
	}
	b[len(b)-1] <- struct{}{}
}
