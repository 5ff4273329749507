// Package coalesce collapses concurrent fetches of one key into a single fetch whose body
// streams to every waiter as the bytes arrive, so N requests for a cold object cost one origin
// request and no waiter has to wait for the whole object.
//
// A Call is bounded: its leader must Finish it, and Abort (from a timer the caller owns) wakes
// every waiter with an error, so a stuck origin never holds waiters forever. Memory is bounded
// too: once a body outgrows the keep limit (or the leader says it will not be stored) the Call
// stops keeping it, drops the bytes every reader has consumed, gives back the buffer it grew
// while keeping, and makes the writer wait while the slowest reader is a window behind. A Call
// that ended, left its Group and has no reader lets go of its body, so whatever still points
// at it (a stopped timer's closure, a pooled request) holds a few hundred bytes, not the body.
// Every method is safe for concurrent use.
//
// A fetch costs the Group two allocations: the Call (its first Reader and room for a few
// more are inside it) and the body; a channel for the head is made only for whoever asks
// for one (HeadReady), as a leader that fetches on its own goroutine never does. Lingering
// calls wait in one queue per Group behind one timer, not a timer each.
package coalesce

import (
	"errors"
	"io"
	"sync"
	"time"
)

// ErrAborted is returned to readers and the writer of a Call aborted without a reason.
var ErrAborted = errors.New("coalesce: fetch aborted")

// Group holds the Calls in flight, one per key. H is the type of the response head a
// leader publishes to its readers (SetHead, Head).
type Group[H any] struct {
	// Linger keeps a call that finished whole joinable this long after it finished, so that
	// requests arriving before the stored object becomes visible (a disk tier's write is
	// queued; an object the store refused is never visible), or whose lookup missed just
	// before the store showed it and whose Join comes just after the call finished, read it
	// from the call instead of starting a second fetch. Zero means a call leaves the group
	// as soon as it finishes. Set it before the first Join. A call
	// may stay up to a quarter of Linger longer: the calls due within that much of each
	// other leave in one sweep.
	Linger time.Duration

	mu    sync.Mutex
	calls map[string]*Call[H]
	// lingering[lingerHead:] holds the calls that finished whole, oldest first, each until
	// Linger after it finished; every entry has the same Linger, so the queue is in deadline
	// order and one timer (sweepTimer, armed for the oldest) ends them all. Guarded by mu.
	lingering  []lingerEntry[H]
	lingerHead int
	sweepTimer *time.Timer
}

// lingerEntry is one call kept joinable until until.
type lingerEntry[H any] struct {
	c     *Call[H]
	until time.Time
}

// Options bound one Call's memory.
type Options struct {
	// KeepLimit is the largest body kept whole (for storing). Past it the Call streams through
	// with a sliding window. 0 means no limit.
	KeepLimit int64
	// Window is how far the writer may run ahead of the slowest reader once the body is no longer
	// kept. 0 means 1 MiB.
	Window int64
	// SizeHint preallocates the body when the length is known in advance.
	SizeHint int64
}

// Join returns the Call for key and a Reader registered on it from the first byte. leader is
// true when the caller created the Call and must fetch, SetHead, Write and Finish it. A Call
// that was Unshared, failed, or finished more than Linger ago is no longer joinable; Join
// then starts a new one.
func (g *Group[H]) Join(key string, opts Options) (c *Call[H], r *Reader[H], leader bool) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[string]*Call[H])
	}
	c, r, ok := g.joinLocked(key)
	if !ok {
		c = newCall(g, key, opts)
		g.calls[key] = c
		r = c.tryReader()
	}
	g.mu.Unlock()
	return c, r, !ok
}

// JoinInFlight is Join for a caller that must not fetch: it joins key's Call from the first
// byte, or reports false and starts nothing. An owner's adoption probe, which may only read
// what the peer has or is already fetching, uses it.
func (g *Group[H]) JoinInFlight(key string) (c *Call[H], r *Reader[H], ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.joinLocked(key)
}

// joinLocked registers a reader on key's Call; g.mu held. Under g.mu a Call leaves the map
// before it can stop taking readers. One that stopped keeping its body a moment ago (Write,
// StopKeeping) may still be in it: it cannot be read from its first byte, so it leaves and
// makes way for a new Call.
func (g *Group[H]) joinLocked(key string) (*Call[H], *Reader[H], bool) {
	c, ok := g.calls[key]
	if !ok {
		return nil, nil, false
	}
	r := c.tryReader()
	if r == nil {
		c.leave()
		delete(g.calls, key)
		return nil, nil, false
	}
	return c, r, true
}

// InFlight reports whether key has a joinable Call (tests and metrics).
func (g *Group[H]) InFlight(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}

// Joined is how many readers joined key's Call, the leader's included; 0 without one
// (tests and metrics).
func (g *Group[H]) Joined(key string) int {
	g.mu.Lock()
	c, ok := g.calls[key]
	g.mu.Unlock()
	if !ok {
		return 0
	}
	return c.Joined()
}

// ForgetAll makes every call unjoinable, in flight or lingering: readers already attached
// finish, later Joins start new calls. A purge calls it, so nothing fetched before the purge
// is handed to a request that arrives after it.
func (g *Group[H]) ForgetAll() {
	g.mu.Lock()
	for _, c := range g.calls {
		c.leave()
	}
	clear(g.calls)
	clear(g.lingering)
	g.lingering, g.lingerHead = g.lingering[:0], 0
	g.mu.Unlock()
}

// linger keeps c joinable for Linger: it queues c behind the calls that finished before it
// and arms the sweep timer when the queue was empty.
func (g *Group[H]) linger(c *Call[H]) {
	g.mu.Lock()
	if len(g.lingering) == g.lingerHead {
		if g.sweepTimer == nil {
			g.sweepTimer = time.AfterFunc(g.Linger, g.sweep)
		} else {
			g.sweepTimer.Reset(g.Linger)
		}
	}
	g.lingering = append(g.lingering, lingerEntry[H]{c: c, until: time.Now().Add(g.Linger)})
	g.mu.Unlock()
}

// sweep ends the lingering calls whose time is up and arms the timer for the next one, no
// sooner than a quarter of Linger from now: under load a call finishes every few
// microseconds, and a sweep (a goroutine of the timer's) for each would cost a miss more
// than its fetch's own bookkeeping. It runs on the timer's goroutine; a sweep that finds
// nothing due (the timer re-armed by linger for a newer call) only re-arms it. Popping
// moves lingerHead; the array is compacted once more than half of it is dead, so each
// entry is copied O(1) times.
func (g *Group[H]) sweep() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	i := g.lingerHead
	for ; i < len(g.lingering) && !g.lingering[i].until.After(now); i++ {
		c := g.lingering[i].c
		if g.calls[c.key] == c {
			delete(g.calls, c.key)
		}
		c.leave()
		g.lingering[i] = lingerEntry[H]{} // the Call goes with its last reader, not with the queue
	}
	g.lingerHead = i
	switch live := len(g.lingering) - i; {
	case live == 0:
		g.lingering, g.lingerHead = g.lingering[:0], 0
		return
	case i > live:
		copy(g.lingering, g.lingering[i:])
		clear(g.lingering[live:])
		g.lingering, g.lingerHead = g.lingering[:live], 0
	}
	g.sweepTimer.Reset(max(g.lingering[g.lingerHead].until.Sub(now), g.Linger/4))
}

// forget takes c out of the group; it must not be called with c.mu held (Join locks g.mu,
// then c.mu).
func (g *Group[H]) forget(key string, c *Call[H]) {
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	c.leave() // not in the map whether or not it was: nobody joins it any more
	g.mu.Unlock()
}

// Call is one fetch shared by its readers.
type Call[H any] struct {
	group *Group[H]
	key   string
	opts  Options

	mu sync.Mutex
	// headDone is set by SetHead or Finish/Abort, whichever comes first; Head waits for it
	// on cond. headReady, made by the first HeadReady before that, is closed with it.
	// Guarded by mu, like head and hasHead.
	headDone  bool
	headReady chan struct{}
	head      H
	hasHead   bool // SetHead ran: head is the leader's, even a zero H

	cond     sync.Cond
	buf      []byte // body bytes from offset base
	base     int64  // offset of buf[0]; > 0 only once trimming began
	size     int64  // total bytes written
	trimming bool   // body outgrew KeepLimit or StopKeeping: no longer kept whole
	left     bool   // out of the group: no reader joins any more
	released bool   // buf dropped: done, left and no readers (release)
	done     bool
	err      error
	// readers are the open readers, in no order; the first to join is first, and it and
	// the next few need no allocation of their own (inline).
	readers []*Reader[H]
	joined  int
	first   Reader[H]
	inline  [4]*Reader[H]
}

func newCall[H any](g *Group[H], key string, opts Options) *Call[H] {
	if opts.Window <= 0 {
		opts.Window = 1 << 20
	}
	c := &Call[H]{group: g, key: key, opts: opts}
	c.readers = c.inline[:0]
	if opts.SizeHint > 0 && (opts.KeepLimit == 0 || opts.SizeHint <= opts.KeepLimit) {
		c.buf = make([]byte, 0, opts.SizeHint)
	}
	c.cond.L = &c.mu
	return c
}

// Key is the key the Call was joined under.
func (c *Call[H]) Key() string { return c.key }

// Joined is how many readers joined, the leader's included.
func (c *Call[H]) Joined() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined
}

// SetHead publishes the response head to every reader. Call it once, before Write. A Call
// that already ended without a head (Abort from the caller's timer, Finish with an error)
// ignores it: its readers have their error, and the leader learns of it at its next Write.
func (c *Call[H]) SetHead(head H) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headDone {
		// The fill timer may fire while the leader is reading the origin's head: the Call
		// ended without it, and its readers already have their error.
		return
	}
	c.head, c.hasHead = head, true
	c.endHead()
}

// endHead wakes whoever waits for the head (Head, HeadReady); c.mu held, c.headDone false.
func (c *Call[H]) endHead() {
	c.headDone = true
	if c.headReady != nil {
		close(c.headReady)
	}
	c.cond.Broadcast()
}

// closedHead is what HeadReady returns once the head is known: no channel to make.
var closedHead = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// HeadReady is closed once the head is set or the Call ended without one. The first call
// before that makes the channel (one allocation); Head waits without one.
func (c *Call[H]) HeadReady() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headDone {
		return closedHead
	}
	if c.headReady == nil {
		c.headReady = make(chan struct{})
	}
	return c.headReady
}

// HeadDone reports, without waiting, whether the head is set or the Call ended without one.
func (c *Call[H]) HeadDone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.headDone
}

// Head returns the head, or the error that ended the Call before a head was set.
func (c *Call[H]) Head() (H, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.headDone {
		c.cond.Wait()
	}
	if !c.hasHead {
		var none H
		if c.err == nil {
			return none, ErrAborted
		}
		return none, c.err
	}
	return c.head, nil
}

// Unshare stops new readers from joining: later Joins of the key start their own fetch. The
// leader calls it when the response must not be shared (not storable, private).
func (c *Call[H]) Unshare() { c.group.forget(c.key, c) }

// Reserve sizes the kept body for n bytes before the first Write, when the leader knows the
// length (Content-Length): the body is then one allocation of exactly n bytes, not a slice
// grown by appends (a quarter of it spare capacity on average, and about four times its size
// allocated on the way). It does nothing past KeepLimit, once bytes were written, or once
// the Call stopped keeping the body.
func (c *Call[H]) Reserve(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= 0 || c.trimming || c.size > 0 || c.released || c.opts.KeepLimit > 0 && n > c.opts.KeepLimit || int64(cap(c.buf)) >= n {
		return
	}
	c.buf = make([]byte, 0, n)
}

// StopKeeping makes the Call stream its body through a window instead of keeping it whole,
// as it does on its own past KeepLimit: for a body that will not be stored (unshared, too
// large for memory), keeping it up to KeepLimit would only hold memory until the last reader
// is done. Readers already attached read on; later Joins start a new Call; Body and Written
// report false.
func (c *Call[H]) StopKeeping() {
	c.mu.Lock()
	was := c.trimming
	c.trimming = true
	if !was {
		c.trim()
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	if !was {
		c.group.forget(c.key, c) // a newcomer could no longer read from the first byte
	}
}

// Write appends body bytes and wakes the readers. Once the body is no longer kept it blocks
// while the slowest reader is more than a window behind; it fails when the Call was aborted.
func (c *Call[H]) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.trimming && c.opts.KeepLimit > 0 && c.size+int64(len(p)) > c.opts.KeepLimit {
		c.trimming = true
		// A newcomer could no longer read from the first byte. Not under c.mu (Join locks
		// g.mu, then c.mu); a Join in between finds the Call trimming and starts another.
		c.mu.Unlock()
		c.group.forget(c.key, c)
		c.mu.Lock()
	}
	for c.trimming && c.err == nil && len(c.readers) > 0 && c.size-c.slowest() > c.opts.Window {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.trimming {
		c.trim()
	}
	c.buf = append(c.buf, p...)
	c.size += int64(len(p))
	c.cond.Broadcast()
	return len(p), nil
}

// Unread reports whether nobody will read what is written from now on: the Call streams its
// body through a window (StopKeeping, or past KeepLimit), so no reader joins any more, and
// every reader that was attached has closed. A writer with no other use for the body (not
// storing it) may stop fetching it.
func (c *Call[H]) Unread() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trimming && len(c.readers) == 0
}

// slowest is the smallest read offset; c.mu held.
func (c *Call[H]) slowest() int64 {
	low := c.size
	for _, r := range c.readers {
		if r.off < low {
			low = r.off
		}
	}
	return low
}

// trim drops bytes every reader has consumed; c.mu held. It compacts only once half the
// buffer is dead, so the copying stays amortised O(1) per byte written. A buffer grown while
// the body was kept (up to KeepLimit) is replaced by one of two windows once what is left to
// read fits a window: the writer never runs more than a window ahead, so a stream needs no
// more, and the large one goes back to the collector.
func (c *Call[H]) trim() {
	drop := c.slowest() - c.base
	if drop <= 0 || drop < int64(len(c.buf))/2 {
		return
	}
	live := c.buf[drop:]
	if window := c.opts.Window; int64(cap(c.buf)) > 4*window && int64(len(live)) <= window {
		c.buf = append(make([]byte, 0, 2*window), live...)
	} else {
		rest := copy(c.buf, live)
		c.buf = c.buf[:rest]
	}
	c.base += drop
}

// leave marks the Call out of its group (no reader joins any more) and releases its body if
// nobody reads it. g.mu may be held; c.mu must not be.
func (c *Call[H]) leave() {
	c.mu.Lock()
	c.left = true
	c.release()
	c.mu.Unlock()
}

// release drops the body once nobody can read it: the Call ended, left the group and has no
// reader; c.mu held. The leader stores the body before it finishes the Call (Written), and
// the store keeps its own reference, so only the Call's goes.
func (c *Call[H]) release() {
	if c.done && c.left && len(c.readers) == 0 && !c.released {
		c.buf, c.released = nil, true
	}
}

// Finish ends the Call: err nil means the body is complete. Readers drain what was written and
// then see io.EOF or err.
func (c *Call[H]) Finish(err error) {
	c.mu.Lock()
	if !c.done {
		c.done = true
		if c.err == nil {
			c.err = err
		}
	}
	whole := c.err == nil && !c.trimming
	c.cond.Broadcast()
	c.release()
	c.mu.Unlock()
	if whole && c.group.Linger > 0 {
		c.group.linger(c)
	} else {
		c.group.forget(c.key, c)
	}
	c.closeHead()
}

// Abort fails the Call now: the writer's next Write fails and readers stop with err at once.
func (c *Call[H]) Abort(err error) {
	if err == nil {
		err = ErrAborted
	}
	c.group.forget(c.key, c)
	c.mu.Lock()
	if c.err == nil && !c.done {
		c.err = err
		c.done = true
	}
	c.cond.Broadcast()
	c.release()
	c.mu.Unlock()
	c.closeHead()
}

func (c *Call[H]) closeHead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.headDone {
		c.endHead()
	}
}

// Body returns the whole body and true when the Call finished without error and kept it,
// until the Call lets go of it (it left the group and its last reader closed). The slice is
// shared and must not be modified.
func (c *Call[H]) Body() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done || c.err != nil || c.trimming || c.released {
		return nil, false
	}
	return c.buf, true
}

// Written returns the body written so far and true while it is kept whole (not past
// KeepLimit, not failed). The writer uses it to store a complete body before Finish, so that
// whoever reads to the end finds the object already handed to the store.
func (c *Call[H]) Written() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.trimming || c.released {
		return nil, false
	}
	return c.buf, true
}

// Size is the number of body bytes written so far.
func (c *Call[H]) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// tryReader registers a reader from the first byte, or returns nil when the Call no longer
// has its first byte (it stopped keeping the body).
func (c *Call[H]) tryReader() *Reader[H] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trimming || c.released {
		return nil
	}
	var r *Reader[H]
	if c.joined == 0 {
		r = &c.first
		r.call = c
	} else {
		r = &Reader[H]{call: c, late: c.done}
	}
	c.readers = append(c.readers, r)
	c.joined++
	return r
}

// Reader reads a Call's body from the first byte. Close it when done: an open Reader holds
// the writer back once the body is no longer kept.
type Reader[H any] struct {
	call   *Call[H]
	off    int64
	closed bool
	late   bool // joined after the Call finished (JoinedLate)
}

// JoinedLate reports whether r joined the Call after it had finished: a reader of a Call
// kept joinable for a while (Group.Linger), which waited for no fetch. Decided under the
// Call's lock at the join, so a reader that joined a fetch in flight never reports true,
// however late it looks afterwards.
func (r *Reader[H]) JoinedLate() bool { return r.late }

// Read blocks until bytes past the reader's offset exist or the Call ends.
func (r *Reader[H]) Read(p []byte) (int, error) {
	c := r.call
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if r.closed {
			return 0, io.ErrClosedPipe
		}
		if r.off < c.size {
			n := copy(p, c.buf[r.off-c.base:])
			r.off += int64(n)
			if c.trimming {
				c.cond.Broadcast() // the writer may be waiting for the slowest reader
			}
			return n, nil
		}
		if c.done {
			if c.err != nil {
				return 0, c.err
			}
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		c.cond.Wait()
	}
}

// Whole returns the Call's whole body and true when the Call finished without error, kept
// the body and r has read none of it: the caller may send it as it is instead of reading
// it through r (the bytes are never written again). r stays open until Close, which the
// caller still owes.
func (r *Reader[H]) Whole() ([]byte, bool) {
	c := r.call
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.closed || r.off != 0 || !c.done || c.err != nil || c.trimming || c.released {
		return nil, false
	}
	return c.buf[:c.size:c.size], true
}

// Close unregisters the reader. It is idempotent.
func (r *Reader[H]) Close() error {
	c := r.call
	c.mu.Lock()
	if !r.closed {
		r.closed = true
		for i, o := range c.readers {
			if o == r {
				last := len(c.readers) - 1
				c.readers[i], c.readers[last] = c.readers[last], nil
				c.readers = c.readers[:last]
				break
			}
		}
		c.cond.Broadcast()
		c.release()
	}
	c.mu.Unlock()
	return nil
}
