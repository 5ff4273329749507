package turns

import (
	"runtime"
	"sync"
	"testing"
)

// BenchmarkGate_alone is the cost of a wait no other goroutine shares: a request on an idle
// node (two yields and three locks).
func BenchmarkGate_alone(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var g Gate
	wake := make(chan struct{}, 1)
	for b.Loop() {
		g.Wait(wake)
	}
}

// BenchmarkGate_batch64 is the cost per request of batches of 64 goroutines, each woken as
// the network poller wakes a connection's (a channel receive), then ordered by the gate; the
// same without the gate is the baseline (b.ReportMetric: ns per request).
func BenchmarkGate_batch64(b *testing.B) {
	for _, gated := range []bool{false, true} {
		name := "without"
		if gated {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			const n = 64
			var g Gate
			var socks [n]chan struct{}
			var done sync.WaitGroup
			for i := range socks {
				socks[i] = make(chan struct{}, 1)
			}
			stop := make(chan struct{})
			for i := range n {
				go func() {
					wake := make(chan struct{}, 1)
					for {
						select {
						case <-socks[i]:
						case <-stop:
							return
						}
						if gated {
							g.Wait(wake)
						}
						done.Done()
					}
				}()
			}
			for b.Loop() {
				done.Add(n)
				for i := range socks {
					socks[i] <- struct{}{}
				}
				done.Wait()
			}
			close(stop)
		})
	}
}
