package cachestore

import "hash/maphash"

// The store chooses what to evict with S3-FIFO (Yang, Zhang, Qiu, Yue, Vinayak: "FIFO queues
// are all you need for cache eviction", SOSP 2023), not with ristretto's TinyLFU, which it
// used before (and then kept as its concurrent map until table.go replaced it).
//
// Why: ristretto counts a Get in its frequency sketch only when the batch of 64 holding it
// reaches its policy goroutine, and drops the batch when that goroutine is busy (and the
// runtime drops pooled batches at each collection); a tight loop of misses had 50,176 of
// 57,921 Gets dropped. Its admission then compared an object Set right after its miss
// (estimate 0: the miss not yet counted) with victims whose single access had been counted
// (1), and refused it: on make bench-peers' full 1 GiB cache, 327,830 of a one-pass fill's
// Sets were refused, the store kept the fill's coldest objects, and 42% of the Zipf requests
// went to the origin against 4-17% for Varnish, HAProxy and nginx. S3-FIFO counts an access
// with one atomic add on the object itself, nothing is lost, and no counter sketch is needed.
//
// How: a new object enters the small queue (a tenth of the budget), unless its key is a
// ghost (evicted from the small queue a short while ago), then it enters the main queue.
// The small queue's oldest object moves to the main queue if it was hit since it entered,
// else it leaves and its key becomes a ghost: a one-hit wonder (a scan, a crawler) passes
// through the small queue without touching the main one, which holds what was asked for
// again. The main queue's oldest object is put back at its head, its count lowered, while it
// has hits (at most 3), else it leaves. Only Set evicts, under the store's index mutex; a hit
// writes one counter of the object and takes no lock. Over a one-pass fill larger than the
// store, nothing was hit, so the store keeps the newest objects, as an LRU would.

const (
	// smallShare is the small queue's part of the budget: the paper's 10%.
	smallShare = 10
	// maxFreq caps an object's hit count: a main-queue object survives at most this many
	// passes without a hit.
	maxFreq = 3
	// ghostBytes is the budget per ghost slot: about one slot per object of 4 KiB.
	ghostBytes = 4 << 10
	minGhosts  = 1 << 10
)

// fifo is a queue of objects, oldest at head, in blocks of 255 (2 KiB with the link, a size
// class), so a queue costs 8 B per object and at most two blocks of slack, however long it
// once was. Objects a purge, Del or replacement removed stay queued until they reach the
// head, where the store skips them.
type fifo struct {
	head, tail *fifoBlock // pop from head at hi, push to tail at ti
	hi, ti     int
	n          int
	bytes      int64 // the queued objects' Cost, removed ones included until popped
}

const fifoBlockLen = 255

type fifoBlock struct {
	objs [fifoBlockLen]*Object
	next *fifoBlock
}

func (f *fifo) push(o *Object) {
	if f.tail == nil || f.ti == fifoBlockLen {
		b := new(fifoBlock)
		if f.tail == nil {
			f.head, f.hi = b, 0
		} else {
			f.tail.next = b
		}
		f.tail, f.ti = b, 0
	}
	f.tail.objs[f.ti] = o
	f.ti++
	f.n++
	f.bytes += o.Cost()
}

func (f *fifo) pop() *Object {
	if f.n == 0 {
		return nil
	}
	o := f.head.objs[f.hi]
	f.head.objs[f.hi] = nil
	f.hi++
	f.n--
	if f.hi == fifoBlockLen || f.n == 0 && f.head == f.tail {
		if f.head == f.tail {
			f.head, f.tail, f.hi, f.ti = nil, nil, 0, 0
		} else {
			f.head, f.hi = f.head.next, 0
		}
	}
	f.bytes -= o.Cost()
	return o
}

func (f *fifo) len() int { return f.n }

// s3fifo is the eviction policy. Not safe for concurrent use: Memory calls it under its
// index mutex, so the queues hold only objects that were indexed when they were queued.
type s3fifo struct {
	small, main fifo
	smallMax    int64
	// ghosts holds key hashes, one per slot; a newer ghost overwrites an older. nil until
	// the first object leaves the small queue: a store that never evicted has no ghosts,
	// and the table, sized for the whole budget (8 MiB for a 4 GiB cache), would be heap
	// the collector counts in its pacing while the store fills (GOGC's headroom is a share
	// of it) and that holds nothing.
	ghosts     []uint64
	ghostSlots int // len(ghosts) once made: a power of 2, so a hash's low bits pick the slot
	seed       maphash.Seed
}

func newS3FIFO(maxBytes int64) *s3fifo {
	n := minGhosts
	for int64(n) < maxBytes/ghostBytes {
		n <<= 1
	}
	return &s3fifo{smallMax: maxBytes / smallShare, ghostSlots: n, seed: maphash.MakeSeed()}
}

// add queues o, which the store has just indexed.
func (p *s3fifo) add(o *Object) {
	o.freq.Store(0)
	if p.ghosts == nil {
		p.small.push(o)
		return
	}
	if g, h := p.ghost(o); *g == h {
		*g = 0
		p.main.push(o)
		return
	}
	p.small.push(o)
}

// evict picks the next object to leave and returns it, or nil when nothing queued is live.
// live tells whether a queued object is still stored (a purge, Del or replacement may have
// removed it). As in the paper, the small queue gives up an object while it is over its share
// (or the main queue is empty), moving the hit ones it passes to the main queue; else the
// main queue does.
func (p *s3fifo) evict(live func(*Object) bool) *Object {
	if p.small.bytes > p.smallMax || p.main.len() == 0 {
		if v := p.evictSmall(live); v != nil {
			return v
		}
	}
	if v := p.evictMain(live); v != nil {
		return v
	}
	return p.evictSmall(live)
}

// evictSmall pops the small queue until an object without a hit leaves (its key becomes a
// ghost); a hit one moves to the main queue, its count reset.
func (p *s3fifo) evictSmall(live func(*Object) bool) *Object {
	for o := p.small.pop(); o != nil; o = p.small.pop() {
		if !live(o) {
			continue
		}
		if o.freq.Load() > 0 {
			o.freq.Store(0)
			p.main.push(o)
			continue
		}
		if p.ghosts == nil {
			p.ghosts = make([]uint64, p.ghostSlots)
		}
		g, h := p.ghost(o)
		*g = h
		return o
	}
	return nil
}

// evictMain pops the main queue until an object without a hit leaves; one with hits goes
// back to the head, one hit less. Each object is put back at most maxFreq times unless hits
// come faster than this runs; the bound ends it then too.
func (p *s3fifo) evictMain(live func(*Object) bool) *Object {
	for passes := (maxFreq+1)*p.main.len() + 1; passes > 0; passes-- {
		o := p.main.pop()
		if o == nil {
			return nil
		}
		if !live(o) {
			continue
		}
		if f := o.freq.Load(); f > 0 && passes > 1 {
			o.freq.Store(min(f, maxFreq) - 1)
			p.main.push(o)
			continue
		}
		return o
	}
	return nil
}

// ghost returns o's ghost slot and the value that marks o's key in it: the key's hash with
// its top bit set, so never 0, an empty slot (the low bits pick the slot).
func (p *s3fifo) ghost(o *Object) (*uint64, uint64) {
	h := maphash.String(p.seed, o.Key)
	return &p.ghosts[h&uint64(len(p.ghosts)-1)], h | 1<<63
}

// bytes is the Cost of every queued object, those the store no longer holds included: what
// the queues keep reachable.
func (p *s3fifo) bytes() int64 { return p.small.bytes + p.main.bytes }

// clear forgets every queued object; ghosts stay (they only steer placement).
func (p *s3fifo) clear() {
	p.small, p.main = fifo{}, fifo{}
}

// touch counts a hit on o for the policy: one atomic add while under maxFreq, nothing after.
func (o *Object) touch() {
	if o.freq.Load() < maxFreq {
		o.freq.Add(1)
	}
}
