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
	ids     map[string]struct{}
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
		ids:        make(map[string]struct{}),
	}
}

// claim records r and reports true if its id is new. Exactly one of concurrent claims of one
// id wins, so exactly one caller applies the purge.
func (l *banLog) claim(r Request, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	if _, seen := l.ids[r.ID]; seen {
		return false
	}
	if l.n == l.maxEntries {
		l.dropOldest()
	}
	l.entries[(l.head+l.n)%l.maxEntries] = logEntry{req: r, arrived: now}
	l.n++
	l.ids[r.ID] = struct{}{}
	return true
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
