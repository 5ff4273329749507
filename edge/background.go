package edge

import "sync"

// background counts fills and revalidations that outlive the request that started them, so
// Shutdown can wait for them. Unlike a sync.WaitGroup it allows starting new work while
// another goroutine waits: a peer's request still being served during shutdown may start a
// fill after Shutdown began waiting, which WaitGroup forbids (Add racing Wait at zero).
type background struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to zero; nil while n is zero
}

func (b *background) start() {
	b.mu.Lock()
	if b.n == 0 {
		b.idle = make(chan struct{})
	}
	b.n++
	b.mu.Unlock()
}

func (b *background) done() {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
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
	return b.idle
}

// Wait blocks until no background work is running.
func (b *background) Wait() { <-b.idleCh() }
