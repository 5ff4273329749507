package coalesce

import (
	"bytes"
	"io"
	"runtime"
	"sync"
	"testing"
)

// heapInuse is the heap in use after the collector ran: what is still reachable.
func heapInuse() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// kept is how many bytes the Call's buffer holds on to (its capacity).
func kept(c *Call[string]) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(cap(c.buf))
}

// writeAll writes body in chunks of 32 KiB, as the fill's copy loop does.
func writeAll(t *testing.T, c *Call[string], body []byte, each func()) {
	t.Helper()
	for off := 0; off < len(body); off += 32 << 10 {
		if _, err := c.Write(body[off:min(off+32<<10, len(body))]); err != nil {
			t.Fatal(err)
		}
		if each != nil {
			each()
		}
	}
}

// Whatever still points at a Call after it ended (the edge's stopped fill timer does, until
// the runtime drops the timer) must not hold its body: 4 ended Calls of 8 MiB held by the
// test cost less than 1 MiB of heap.
func TestCall_releasesBodyOnceNobodyCanRead(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 8<<20)
	var g Group[string]
	base := heapInuse()
	var held []*Call[string]
	for i := range 4 {
		c, r, _ := g.Join(string(rune('a'+i)), Options{KeepLimit: 16 << 20})
		c.SetHead("head")
		done := make(chan []byte)
		go func() { b, _ := io.ReadAll(r); r.Close(); done <- b }()
		writeAll(t, c, body, nil)
		if got, ok := c.Written(); !ok || len(got) != len(body) {
			t.Fatalf("Written before Finish: %d bytes, kept %v", len(got), ok)
		}
		c.Finish(nil)
		if got := <-done; !bytes.Equal(got, body) {
			t.Fatalf("reader got %d bytes", len(got))
		}
		held = append(held, c)
	}
	if grew := heapInuse() - base; grew > 1<<20 {
		t.Errorf("4 ended Calls of 8 MiB still hold %.1f MiB of heap", float64(grew)/(1<<20))
	}
	for _, c := range held {
		if k := kept(c); k != 0 {
			t.Errorf("ended Call keeps a buffer of %d bytes", k)
		}
		if _, ok := c.Body(); ok {
			t.Error("Body still kept by an ended Call nobody reads")
		}
	}
}

// A lingering Call (Group.Linger) keeps its body while it is joinable, and lets go of it when
// it leaves the group.
func TestCall_lingeringCallKeepsBodyUntilItLeaves(t *testing.T) {
	g := Group[string]{Linger: 1 << 62} // never on its own: ForgetAll ends it
	c, r, _ := g.Join("k", Options{})
	c.SetHead("head")
	writeAll(t, c, bytes.Repeat([]byte("y"), 100<<10), nil)
	c.Finish(nil)
	r.Close()
	c2, r2, leader := g.Join("k", Options{})
	if leader || c2 != c {
		t.Fatal("a lingering call was not joinable")
	}
	if b, _ := io.ReadAll(r2); len(b) != 100<<10 {
		t.Fatalf("a reader of the lingering call got %d bytes", len(b))
	}
	r2.Close()
	if kept(c) == 0 {
		t.Fatal("a joinable call let go of its body")
	}
	g.ForgetAll()
	if k := kept(c); k != 0 {
		t.Errorf("a call out of the group keeps %d bytes", k)
	}
}

// After StopKeeping (a body that will not be stored) the Call holds at most two windows
// whatever the body's length, and its readers still get every byte.
func TestCall_stopKeepingStreamsThroughAWindow(t *testing.T) {
	const window = 256 << 10
	body := largeBody(8 << 20)
	var g Group[string]
	c, r, _ := g.Join("k", Options{KeepLimit: 64 << 20, Window: window})
	c.SetHead("head")
	c.StopKeeping()
	if _, r2, leader := g.Join("k", Options{}); !leader {
		t.Error("a Call that stopped keeping its body is still joinable")
	} else {
		r2.Close()
	}
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); r.Close(); done <- b }()
	var most int64
	writeAll(t, c, body, func() { most = max(most, kept(c)) })
	c.Finish(nil)
	if got := <-done; !bytes.Equal(got, body) {
		t.Fatalf("reader got %d bytes, not the body", len(got))
	}
	if most > 2*window+64<<10 {
		t.Errorf("an unkept 8 MiB body held a buffer of %d bytes (window %d)", most, window)
	}
	if _, ok := c.Written(); ok {
		t.Error("Written reports a body the Call stopped keeping")
	}
}

// Past KeepLimit the buffer grown while keeping goes back to the collector: a 4 MiB limit
// does not leave a 4 MiB buffer behind a 1 MiB window for the rest of the transfer.
func TestCall_trimGivesBackTheKeptBuffer(t *testing.T) {
	body := largeBody(16 << 20)
	var g Group[string]
	c, r, _ := g.Join("k", Options{KeepLimit: 4 << 20})
	c.SetHead("head")
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); r.Close(); done <- b }()
	var after int64
	writeAll(t, c, body, func() {
		if c.Size() > 12<<20 {
			after = max(after, kept(c))
		}
	})
	c.Finish(nil)
	if got := <-done; !bytes.Equal(got, body) {
		t.Fatalf("reader got %d bytes, not the body", len(got))
	}
	if after > 2<<20+64<<10 {
		t.Errorf("past the keep limit the Call still holds a buffer of %d bytes", after)
	}
}

// Reserve makes a known-length body one allocation of exactly its size (appends would leave
// up to a quarter spare, uncounted by the store); past KeepLimit or after a Write it does
// nothing.
func TestCall_reserveSizesTheBodyExactly(t *testing.T) {
	const n = 5<<20 + 123
	var g Group[string]
	c, r, _ := g.Join("k", Options{KeepLimit: 8 << 20})
	r.Close()
	c.SetHead("head")
	c.Reserve(n)
	writeAll(t, c, largeBody(n), nil)
	got, ok := c.Written()
	if !ok || len(got) != n || cap(got) != n {
		t.Errorf("reserved body: len %d cap %d kept %v, want len = cap = %d", len(got), cap(got), ok, n)
	}

	c2, r2, _ := g.Join("k2", Options{KeepLimit: 1 << 20})
	r2.Close()
	c2.Reserve(2 << 20)
	if k := kept(c2); k != 0 {
		t.Errorf("Reserve past KeepLimit allocated %d bytes", k)
	}
	c2.Write([]byte("abc"))
	c2.Reserve(1 << 20)
	if k := kept(c2); k >= 1<<20 {
		t.Errorf("Reserve after a Write allocated %d bytes", k)
	}
}

// Joins racing the Write that takes a body past KeepLimit either read the Call from its first
// byte or start a new one; none deadlocks (Write once took the group's lock under the Call's,
// the reverse of Join's order) or reads from a trimmed offset.
func TestGroup_joinsRacingTheEndOfKeeping(t *testing.T) {
	body := largeBody(256 << 10)
	for range 200 {
		var g Group[string]
		c, r, _ := g.Join("k", Options{KeepLimit: 64 << 10, Window: 16 << 10})
		c.SetHead("head")
		var wg sync.WaitGroup
		readers := []*Reader[string]{r}
		var mu sync.Mutex
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c2, r2, leader := g.Join("k", Options{KeepLimit: 64 << 10})
				if leader || c2 != c {
					// Joined after c stopped keeping its body: a new fetch of its own.
					if leader {
						c2.Finish(nil)
					}
					r2.Close()
					return
				}
				mu.Lock()
				readers = append(readers, r2)
				mu.Unlock()
			}()
		}
		var got sync.WaitGroup
		launched := make(chan struct{}) // every reader's got.Add is done
		go func() {
			defer close(launched)
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			for _, r := range readers {
				got.Add(1)
				go func(r *Reader[string]) {
					defer got.Done()
					defer r.Close()
					if b, _ := io.ReadAll(r); !bytes.Equal(b, body) {
						t.Errorf("a joined reader got %d bytes, not the body", len(b))
					}
				}(r)
			}
		}()
		writeAll(t, c, body, nil)
		c.Finish(nil)
		<-launched
		got.Wait()
	}
}

func largeBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}
