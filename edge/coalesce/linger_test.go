package coalesce

import (
	"strconv"
	"testing"
	"time"
)

// Calls that finish at different times each stay joinable for Linger after their own
// Finish: the Group's one sweep timer, armed for the oldest, must neither end a younger call
// early nor leave an older one joinable.
func TestGroup_lingerEndsEachCallOnItsOwnTime(t *testing.T) {
	const linger = time.Second
	g := Group[string]{Linger: linger}
	finish := func(key string) time.Time {
		c, r, _ := g.Join(key, Options{})
		c.SetHead("h")
		c.Write([]byte("body"))
		c.Finish(nil)
		r.Close()
		return time.Now()
	}
	doneA := finish("a")
	time.Sleep(linger / 2)
	doneB := finish("b")
	for g.InFlight("a") {
		if time.Since(doneA) > 10*linger {
			t.Fatal("a stayed joinable ten times its Linger")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if gone := time.Since(doneA); gone < linger {
		t.Fatalf("a left after %v, before its Linger of %v", gone, linger)
	}
	if !g.InFlight("b") && time.Since(doneB) < linger {
		t.Fatalf("b left %v after it finished, before its Linger of %v", time.Since(doneB), linger)
	}
	for g.InFlight("b") {
		if time.Since(doneB) > 10*linger {
			t.Fatal("b stayed joinable ten times its Linger")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The queue is empty again: a call finished now arms the timer anew.
	doneC := finish("c")
	for g.InFlight("c") {
		if time.Since(doneC) > 10*linger {
			t.Fatal("c stayed joinable ten times its Linger: the timer was not armed again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A whole fetch (Join, head, a body of known length, Finish, the leader's reader closed)
// allocates the Call and the body, nothing per reader or per lingering call, and no head
// channel when nobody asks for one (HeadReady): the miss path runs this once per request
// (BenchmarkNode_miss1KiB in edge).
func TestGroup_fetchAllocations(t *testing.T) {
	g := Group[string]{Linger: time.Hour}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	body := make([]byte, 1024)
	i := 0
	fetch := func() {
		c, r, _ := g.Join(keys[i%len(keys)], Options{})
		i++
		c.Reserve(int64(len(body)))
		c.SetHead("h")
		c.Write(body)
		c.Finish(nil)
		r.Close()
		g.ForgetAll() // the steady state: the map and the linger queue keep their room
	}
	fetch() // the map and the queue get their room
	if n := testing.AllocsPerRun(200, fetch); n > 2 {
		t.Errorf("a fetch allocates %.1f times, want at most 2 (Call, body)", n)
	}
}
