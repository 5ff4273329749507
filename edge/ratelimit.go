package edge

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is nginx limit_req with nodelay: a token bucket per client address holding up to
// 1+burst tokens, refilled at rate tokens a second; a request takes one token or is refused.
// All methods are safe for concurrent use; the caller passes the time, so tests drive it.
//
// Memory is bounded: buckets that have refilled completely carry no state and are swept, and
// when maxBuckets clients are active at once, clients without a bucket share one overflow
// bucket. A flood from many addresses then limits itself rather than growing the table or
// letting new clients through unlimited.
type rateLimiter struct {
	rate     float64
	capacity float64 // 1 + burst
	max      int

	mu       sync.Mutex
	buckets  map[netip.Addr]*bucket
	overflow bucket
	swept    time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

const (
	maxBuckets = 1 << 16
	// minSweepInterval keeps a fast rate (a refill time of milliseconds) from sweeping a large
	// table on nearly every request.
	minSweepInterval = time.Second
)

func newRateLimiter(rate float64, burst int) *rateLimiter {
	l := &rateLimiter{rate: rate, capacity: float64(max(burst, 0)) + 1, max: maxBuckets, buckets: map[netip.Addr]*bucket{}}
	l.overflow.tokens = l.capacity
	return l
}

// allow takes a token for client at now. When none is left it returns false and how long
// until one will be (never zero).
func (l *rateLimiter) allow(client netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= max(l.refillTime(), minSweepInterval) && len(l.buckets) > 0 {
		l.sweep(now)
	}
	b, ok := l.buckets[client]
	switch {
	case ok:
	case len(l.buckets) < l.max:
		b = &bucket{tokens: l.capacity, last: now}
		l.buckets[client] = b
	default:
		b = &l.overflow
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		// A clock that steps back must not mint tokens, hence only positive elapsed time.
		b.tokens = math.Min(l.capacity, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Round((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, max(wait, time.Nanosecond)
}

// refillTime is how long an empty bucket takes to fill: after that long unused, a bucket is
// the same as no bucket.
func (l *rateLimiter) refillTime() time.Duration {
	return time.Duration(l.capacity / l.rate * float64(time.Second))
}

// sweep drops buckets that have refilled completely. It runs at most once per refill time
// (and per second), so its cost is spread over many requests.
func (l *rateLimiter) sweep(now time.Time) {
	full := l.refillTime()
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// size is the number of clients holding a bucket (tests).
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
