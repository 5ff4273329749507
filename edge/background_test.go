package edge

import (
	"sync"
	"testing"
	"time"
)

// TestBackground_startWhileWaiting is the shutdown race the stateful test found: a fill that
// starts while Shutdown waits must be waited for, and must not race the waiter.
func TestBackground_startWhileWaiting(t *testing.T) {
	var b background
	select {
	case <-b.idleCh():
	default:
		t.Fatal("idle tracker not idle")
	}
	b.start()
	w := b.idleCh()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.start()
			time.Sleep(time.Millisecond)
			b.done()
		}()
	}
	select {
	case <-w:
		t.Fatal("wait ended while work was running")
	case <-time.After(5 * time.Millisecond):
	}
	b.done()
	wg.Wait()
	select {
	case <-b.idleCh():
	case <-time.After(time.Second):
		t.Fatal("wait never ended after all work finished")
	}
}

// Every miss starts and ends background work: with nobody waiting, that allocates nothing.
func TestBackground_startDoneAllocateNothing(t *testing.T) {
	var b background
	if n := testing.AllocsPerRun(100, func() { b.start(); b.done() }); n != 0 {
		t.Errorf("start and done allocate %.1f times, want 0", n)
	}
}
