package gslb

import (
	"context"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Shutdown of blocking readers that wait in recvmmsg: it returns without waiting for
// SO_RCVTIMEO (set to an hour here, so only shutdown(2) can end a wait), the port is free for
// a socket without SO_REUSEPORT, and the goroutines, descriptors and Ps the readers took are
// all given back. Twice, so that the second start finds the first one's leftovers if any.
func TestBlockingReaders_shutdownReleasesPortGoroutinesAndDescriptors(t *testing.T) {
	defer func(d time.Duration) { blockingWaitMax = d }(blockingWaitMax)
	blockingWaitMax = time.Hour
	procs, goroutines, fds := runtime.GOMAXPROCS(0), runtime.NumGoroutine(), openFDs(t)
	for round := range 2 {
		s, _ := newTestServer(t, testConfig(), testEdges())
		s.udpBlocking, s.udpReaders = true, 3
		if err := s.ListenAndServe(); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != procs+3 {
			t.Errorf("round %d: GOMAXPROCS %d while 3 readers wait, want %d", round, got, procs+3)
		}
		if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
			t.Fatalf("round %d: no answer: %v", round, r)
		}
		udp, _ := s.Addr()
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done <- s.Shutdown(ctx)
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Shutdown: %v", round, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: Shutdown still waiting after 20 s: a reader was not woken", round)
		}
		c, err := net.ListenPacket("udp", udp.String())
		if err != nil {
			t.Fatalf("round %d: the port is still held after Shutdown: %v", round, err)
		}
		c.Close()
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("round %d: GOMAXPROCS %d after Shutdown, want %d", round, got, procs)
		}
	}
	// Goroutines end and descriptors close around Shutdown's return (the client's too).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines || openFDs(t) > fds {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines (%d before), %d descriptors (%d before):\n%s", runtime.NumGoroutine(),
				goroutines, openFDs(t), fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reader that is answering when Shutdown comes still sends what it has read (SHUT_RD stops
// reads only), and the server under a flood of queries shuts down all the same.
func TestBlockingReaders_shutdownUnderLoad(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpBlocking, s.udpReaders = true, 2
	if err := s.ListenAndServe(); err != nil {
		t.Fatal(err)
	}
	udp, _ := s.Addr()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := udp.(*net.UDPAddr).AddrPort()
	wires := manySubnetQueries(t, 256)
	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				flooded <- n
				return
			default:
			}
			c.WriteToUDPAddrPort(wires[n%len(wires)], to)
			n++
			if n%64 == 0 {
				time.Sleep(time.Millisecond) // the flood is bounded: about 64k queries a second at most
			}
		}
	}()
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatalf("no reply during the flood: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	close(stop)
	t.Logf("%d queries sent", <-flooded)
}

// The reader goroutines' whole loop allocates nothing per query, blocking or not: no garbage,
// so no collection in the tail. Counted for the process, the test's client included, as
// testing.AllocsPerRun does (fewer allocations than queries count as none) but without its
// GOMAXPROCS 1, which would leave no P beside the blocking readers' own.
func TestUDPLoop_allocatesNothingPerQuery(t *testing.T) {
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, _ := startServerBlocking(t, testConfig(), testEdges(), kind.blocking)
			udp, _ := s.Addr()
			to := udp.(*net.UDPAddr).AddrPort()
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wires := manySubnetQueries(t, 256)
			buf := make([]byte, 1500)
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			query := func(i int) {
				if _, err := c.WriteToUDPAddrPort(wires[i%len(wires)], to); err != nil {
					t.Fatal(err)
				}
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					t.Fatal(err)
				}
			}
			query(0) // warm up
			const queries = 2000
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range queries {
				query(i)
			}
			runtime.ReadMemStats(&after)
			if n := (after.Mallocs - before.Mallocs) / queries; n != 0 {
				t.Errorf("%d allocations per query, want 0", n)
			}
		})
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// Readers waiting in recvmmsg keep their P, so the runtime must still reach them to stop the
// world: a collection with every reader waiting (and SO_RCVTIMEO an hour, so only the signal
// the runtime sends can end the wait) finishes, and the readers answer afterwards. Without
// SO_RCVTIMEO the signal restarts recvmmsg and the collection, the test's timer with it, waits
// for a datagram that never comes: the fault shows as this test hanging until go test's
// -timeout.
func TestBlockingReaders_stopTheWorldReachesWaitingReaders(t *testing.T) {
	defer func(d time.Duration) { blockingWaitMax = d }(blockingWaitMax)
	blockingWaitMax = time.Hour
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpBlocking, s.udpReaders = true, 2
	serve(t, s)
	exchange(t, s, "udp", question("www."+zoneName, dns.TypeA))
	time.Sleep(50 * time.Millisecond) // the readers are back in recvmmsg
	for i := range 3 {
		done := make(chan struct{})
		go func() {
			runtime.GC()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("collection %d still stopping the world after 20 s: a waiting reader was not preempted", i)
		}
	}
	if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
		t.Fatalf("no answer after the collections: %v", r)
	}
}

// Blocking readers hold a P each while they wait (RawSyscall). Code elsewhere in the process
// that lowers GOMAXPROCS below readers + 1 (testing.AllocsPerRun sets 1; an operator's
// GOMAXPROCS; a library that sizes it to a CPU quota) must not leave the rest of the process
// only the P that sysmon takes from a reader every 10 ms: 100 sleeps of 1 ms take about 100 ms
// with a P free, and more than a second when every wake-up waited for sysmon's preemption.
func TestBlockingReaders_fewerPsThanReadersDoNotStarveTheProcess(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.udpBlocking, s.udpReaders = true, 2
	serve(t, s)
	exchange(t, s, "udp", question("www."+zoneName, dns.TypeA))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	time.Sleep(50 * time.Millisecond) // the readers are back in recvmmsg
	start := time.Now()
	for range 100 {
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("100 sleeps of 1 ms: %v", took)
	if took > time.Second {
		t.Errorf("100 sleeps of 1 ms took %v with GOMAXPROCS 1 and 2 blocking readers: the readers starve the process", took)
	}
	if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
		t.Fatalf("no answer with GOMAXPROCS 1: %v", r)
	}
}

// One reader per CPU counts the CPUs, not the Ps that blocking readers already listening were
// given: a second server with UDPReaders 0 in the same process (a reload, nodes of one test)
// gets as many readers as the first, where it got twice as many.
func TestBlockingReaders_secondServerGetsOneReaderPerCPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var readers []int
	for range 3 {
		s, _ := newTestServer(t, testConfig(), testEdges())
		s.udpBlocking = true
		serve(t, s)
		readers = append(readers, s.udpLoop.readers)
	}
	if readers[0] != 2 || readers[1] != 2 || readers[2] != 2 {
		t.Errorf("readers of three servers with GOMAXPROCS 2: %v, want 2 each", readers)
	}
}
