package edge

import (
	"time"
)

// largeMarkTTL is how long a URL found beyond every size limit has its ranged misses passed
// to the origin. Long enough to cover a viewer seeking through a video; a request without
// Range still fills (and finds out again), and a purge of the URL clears the mark.
const largeMarkTTL = 10 * time.Minute

// markLarge remembers that the fill j found its object beyond every size limit: larger than
// cache.max_object_size and than the disk tier takes (or with no disk tier), so nothing will
// store it. Without the mark, each ranged request of it started a fill of the whole object,
// read and dropped up to the range by the fill that streams it (serveFill): a player seeking
// near the end of a 4 GiB file made the origin send 4 GiB per seek.
func (p *pipeline) markLarge(j *fillJob, h *fillHead, now time.Time) {
	if p.disk != nil && h.length <= p.disk.d.MaxObjectSize() {
		return // the disk may take it another time (admission, room, owner)
	}
	p.largeMark.mark(j.url, now)
}

// rangePass reports a ranged GET of a URL whose object is known to be beyond every size
// limit: it is passed to the origin with its Range (and If-Range), as nginx forwards Range
// past proxy_cache_max_range_offset, so the origin sends the range and not the object.
// Called on a miss of both tiers.
func (p *pipeline) rangePass(x *exchange, l *lookup, now time.Time) bool {
	return !l.head && len(x.req.Peek("Range")) > 0 && p.largeMark.active(l.url, now)
}

// clearMarks forgets what the pass and large marks say of url (a purge or an unsafe method).
func (p *pipeline) clearMarks(url string) {
	p.passMark.clear(url)
	p.largeMark.clear(url)
}
