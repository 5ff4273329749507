package edge

import "sync"

// background counts fills and revalidations that outlive the request that started them, so
// Shutdown can wait for them. Unlike a sync.WaitGroup it allows starting new work while
// another goroutine waits: a peer's request still being served during shutdown may start a
// fill after Shutdown began waiting, which WaitGroup forbids (Add racing Wait at zero).
//
// start and done allocate nothing (every miss calls them): the channel a waiter needs is
// made by idleCh, only while work is running and only when someone asks.
type background struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // made by idleCh while n > 0, closed and dropped when n drops to zero
}

func (b *background) start() {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
}

func (b *background) done() {
	b.mu.Lock()
	b.n--
	if b.n == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
	b.mu.Unlock()
}

// idleCh returns a channel closed once no background work is running.
func (b *background) idleCh() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if b.idle == nil {
		b.idle = make(chan struct{})
	}
	return b.idle
}

// Wait blocks until no background work is running.
func (b *background) Wait() { <-b.idleCh() }
