package purge

import (
	"sync"
	"time"
)

// banLog remembers the recent purges, by id and in arrival order, bounded by count and by age.
// It answers two questions: "is this purge new?" (so a purge delivered by fan-out, gossip and
// catch-up is applied once) and "what happened since t?" (for a node returning from a
// partition). A purge forgotten by the log and delivered again is applied again; that costs
// the objects filled since, never correctness. Safe for concurrent use.
type banLog struct {
	maxEntries int
	maxAge     time.Duration

	mu      sync.Mutex
	entries []logEntry // ring buffer in arrival order; entries[head] is the oldest
	head    int
	n       int
	// ids holds, for each purge in the log, the objects its apply removed or marked here,
	// so that every delivery acknowledges what this node purged, not only the first: the
	// gossip copy usually wins the race with the originator's fan-out, which waits on it
	// and then acks nothing it counted (TestService_secondDeliveryAcksWhatTheFirstPurged).
	ids map[string]int
	// applying holds, for each claimed id whose apply has not finished, a channel closed
	// when it has (applied). A second delivery of that id waits on it before it reports the
	// purge done: a peer that acked a fan-out while its gossip copy was still being applied
	// let the originator report the node acked while it still served the purged object.
	applying map[string]chan struct{}
}

type logEntry struct {
	req     Request
	arrived time.Time // local clock; what ages entries out
}

func newBanLog(maxEntries int, maxAge time.Duration) *banLog {
	return &banLog{
		maxEntries: maxEntries,
		maxAge:     maxAge,
		entries:    make([]logEntry, maxEntries),
		ids:        make(map[string]int),
		applying:   make(map[string]chan struct{}),
	}
}

// claim records r and reports true if its id is new. Exactly one of concurrent claims of one
// id wins, so exactly one caller applies the purge; it must call applied(r.ID) once it has.
func (l *banLog) claim(r Request, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	if _, seen := l.ids[r.ID]; seen {
		return false
	}
	l.applying[r.ID] = make(chan struct{})
	if l.n == l.maxEntries {
		l.dropOldest()
	}
	l.entries[(l.head+l.n)%l.maxEntries] = logEntry{req: r, arrived: now}
	l.n++
	l.ids[r.ID] = 0
	return true
}

// applied marks the apply of a claimed id finished, having purged n objects, and releases
// those waiting for it.
func (l *banLog) applied(id string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.ids[id]; ok {
		l.ids[id] = n
	}
	if c, ok := l.applying[id]; ok {
		close(c)
		delete(l.applying, id)
	}
}

// pending returns a channel closed once the claimed id's apply has finished, or nil when no
// apply of id is under way (finished, or never claimed).
func (l *banLog) pending(id string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.applying[id]; ok {
		return c
	}
	return nil
}

// purged reports the objects the apply of id purged: 0 while it is under way or once the
// log forgot it.
func (l *banLog) purged(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[id]
}

// since returns the purges the originating node accepted at or after t, oldest arrival first.
func (l *banLog) since(t, now time.Time) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	var out []Request
	for i := range l.n {
		if r := l.entries[(l.head+i)%l.maxEntries].req; !r.Time.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

func (l *banLog) expire(now time.Time) {
	for l.n > 0 && now.Sub(l.entries[l.head].arrived) > l.maxAge {
		l.dropOldest()
	}
}

func (l *banLog) dropOldest() {
	delete(l.ids, l.entries[l.head].req.ID)
	l.entries[l.head] = logEntry{}
	l.head = (l.head + 1) % l.maxEntries
	l.n--
}
