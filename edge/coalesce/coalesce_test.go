package coalesce

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

func TestGroup_oneLeaderManyFollowersSeeEveryByte(t *testing.T) {
	var g Group[string]
	const followers = 50
	c, leaderReader, leader := g.Join("k", Options{})
	if !leader {
		t.Fatal("first Join must lead")
	}
	readers := []*Reader[string]{leaderReader}
	for i := 0; i < followers; i++ {
		c2, r, lead := g.Join("k", Options{})
		if lead || c2 != c {
			t.Fatalf("join %d: leader=%v same call=%v", i, lead, c2 == c)
		}
		readers = append(readers, r)
	}
	want := bytes.Repeat([]byte("0123456789"), 10000)
	var wg sync.WaitGroup
	got := make([][]byte, len(readers))
	for i, r := range readers {
		wg.Add(1)
		go func(i int, r *Reader[string]) {
			defer wg.Done()
			defer r.Close()
			got[i], _ = io.ReadAll(r)
		}(i, r)
	}
	c.SetHead("head")
	for off := 0; off < len(want); off += 777 {
		end := min(off+777, len(want))
		if _, err := c.Write(want[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	if body, ok := c.Written(); !ok || !bytes.Equal(body, want) {
		t.Errorf("Written kept = %v", ok)
	}
	c.Finish(nil)
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], want) {
			t.Fatalf("reader %d got %d bytes, want %d", i, len(got[i]), len(want))
		}
	}
	if _, ok := c.Body(); ok {
		t.Error("Body still kept after the call ended, left the group and lost its last reader")
	}
	if c.Joined() != followers+1 {
		t.Errorf("Joined = %d", c.Joined())
	}
	if g.InFlight("k") {
		t.Error("finished call still joinable")
	}
}

// A follower receives the first bytes before the leader has finished: streaming, not buffering.
func TestReader_streamsBytesBeforeFinish(t *testing.T) {
	var g Group[string]
	c, _, _ := g.Join("k", Options{})
	_, r, _ := g.Join("k", Options{})
	c.SetHead("1")
	if _, err := c.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "first" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	c.Finish(nil)
	if _, err := r.Read(buf); err != io.EOF {
		t.Fatalf("after Finish: %v", err)
	}
}

func TestCall_abortWakesWaitersWithError(t *testing.T) {
	var g Group[string]
	c, r, _ := g.Join("k", Options{})
	stuck := errors.New("origin timeout")
	done := make(chan error)
	go func() {
		_, err := c.Head()
		done <- err
	}()
	go func() {
		_, err := io.ReadAll(r)
		done <- err
	}()
	c.Abort(stuck)
	for i := 0; i < 2; i++ {
		if err := <-done; !errors.Is(err, stuck) {
			t.Fatalf("waiter %d got %v", i, err)
		}
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, stuck) {
		t.Fatalf("Write after Abort: %v", err)
	}
}

func TestCall_unshareStartsNewCall(t *testing.T) {
	var g Group[string]
	c, _, _ := g.Join("k", Options{})
	c.Unshare()
	c2, _, leader := g.Join("k", Options{})
	if !leader || c2 == c {
		t.Fatal("Join after Unshare must start a new call")
	}
}

// Past KeepLimit the body is not kept, memory stays within a window of the slowest reader,
// and readers still get every byte in order.
func TestCall_boundedMemoryPastKeepLimit(t *testing.T) {
	var g Group[string]
	opts := Options{KeepLimit: 1000, Window: 4096}
	c, r, _ := g.Join("k", opts)
	c.SetHead("1")
	total := 1000 * 1000
	var got bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		io.Copy(&got, r)
		r.Close()
	}()
	maxBuf := 0
	chunk := make([]byte, 1000)
	for sent := 0; sent < total; sent += len(chunk) {
		for i := range chunk {
			chunk[i] = byte((sent + i) % 251)
		}
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		maxBuf = max(maxBuf, len(c.buf))
		c.mu.Unlock()
		if g.InFlight("k") && sent > 1000 {
			t.Fatal("a call past its keep limit must not take new readers")
		}
	}
	c.Finish(nil)
	<-readDone
	if got.Len() != total {
		t.Fatalf("read %d of %d", got.Len(), total)
	}
	for i, b := range got.Bytes() {
		if b != byte(i%251) {
			t.Fatalf("byte %d corrupted", i)
		}
	}
	if maxBuf > 2*(4096+len(chunk)) {
		t.Errorf("buffer grew to %d bytes; window is 4096", maxBuf)
	}
	if _, ok := c.Body(); ok {
		t.Error("a body past KeepLimit must not be reported as kept")
	}
}

func TestReader_closedReaderDoesNotHoldWriter(t *testing.T) {
	var g Group[string]
	c, r, _ := g.Join("k", Options{KeepLimit: 10, Window: 10})
	r.Close()
	c.SetHead("1")
	for i := 0; i < 100; i++ {
		if _, err := c.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	c.Finish(nil)
}

func BenchmarkGroup_joinWriteRead(b *testing.B) {
	var g Group[string]
	payload := make([]byte, 1024)
	buf := make([]byte, 4096)
	for i := 0; i < b.N; i++ {
		c, r, _ := g.Join("k", Options{SizeHint: 1024})
		c.SetHead("1")
		c.Write(payload)
		c.Finish(nil)
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
		r.Close()
	}
}

// A call that finished whole stays joinable for Linger: a late request reads the finished
// body instead of fetching again.
func TestGroup_lingerServesLateJoiners(t *testing.T) {
	g := Group[string]{Linger: time.Hour}
	c, _, _ := g.Join("k", Options{})
	c.SetHead("h")
	c.Write([]byte("body"))
	c.Finish(nil)
	late, r, leader := g.Join("k", Options{})
	if leader || late != c {
		t.Fatal("a late Join within Linger must join the finished call")
	}
	if !r.JoinedLate() {
		t.Error("a reader that joined the finished call must say it joined late")
	}
	if b, _ := io.ReadAll(r); string(b) != "body" {
		t.Fatalf("late joiner read %q", b)
	}
	failed, _, _ := g.Join("f", Options{})
	failed.Finish(errors.New("origin down"))
	if _, _, leader := g.Join("f", Options{}); !leader {
		t.Error("a failed call must not linger")
	}
}

// Whether a reader joined late is decided at its join: a follower of a fetch in flight that
// asks only after the fetch finished still waited for it (Cache-Status collapsed, not hit).
func TestReader_joinedLateIsDecidedAtTheJoin(t *testing.T) {
	g := Group[string]{Linger: time.Hour}
	c, leaderReader, _ := g.Join("k", Options{})
	_, follower, _ := g.Join("k", Options{})
	c.SetHead("h")
	c.Write([]byte("body"))
	c.Finish(nil)
	if leaderReader.JoinedLate() || follower.JoinedLate() {
		t.Error("readers that joined before Finish must not say they joined late")
	}
}

func TestGroup_forgetAllDetachesButLetsReadersFinish(t *testing.T) {
	g := Group[string]{Linger: time.Hour}
	c, r, _ := g.Join("k", Options{})
	g.ForgetAll()
	if _, _, leader := g.Join("k", Options{}); !leader {
		t.Fatal("a Join after ForgetAll must start a new call")
	}
	c.SetHead("1")
	c.Write([]byte("old"))
	c.Finish(nil)
	if b, _ := io.ReadAll(r); string(b) != "old" {
		t.Errorf("an attached reader lost its body: %q", b)
	}
}

// The fill timer may abort a Call while its leader is still reading the origin's head: the
// leader's late SetHead must not panic, and readers keep the abort's error.
func TestCall_setHeadAfterAbortIsIgnored(t *testing.T) {
	for _, end := range []func(*Call[string]){
		func(c *Call[string]) { c.Abort(errors.New("fill timeout")) },
		func(c *Call[string]) { c.Finish(errors.New("origin failed")) },
	} {
		var g Group[string]
		c, r, _ := g.Join("k", Options{})
		end(c)
		c.SetHead("late head")
		if h, err := c.Head(); err == nil {
			t.Fatalf("Head() = %v after the Call ended, want its error", h)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("Write after the Call ended succeeded")
		}
		if _, err := r.Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Errorf("reader: %v, want the Call's error", err)
		}
	}
}

// Unread says when nothing written from now on can be read: the Call streams through a
// window (no reader joins) and every attached reader has closed.
func TestCall_unreadOnceStreamingAndEveryReaderClosed(t *testing.T) {
	var g Group[string]
	c, r, _ := g.Join("k", Options{})
	_, r2, _ := g.Join("k", Options{})
	if c.Unread() {
		t.Fatal("Unread while kept and read")
	}
	c.StopKeeping()
	r.Close()
	if c.Unread() {
		t.Fatal("Unread with a reader still attached")
	}
	r2.Close()
	if !c.Unread() {
		t.Fatal("not Unread: streaming, every reader closed")
	}
	c.Finish(nil)
}
