package edge

import (
	"sync"
	"time"
)

// passMarks remember URLs whose last response could not be shared (private, Set-Cookie,
// no-store), like Varnish's hit-for-miss: for a short while their requests go to the origin
// each on their own instead of queueing behind one another's fills.
type passMarks struct {
	mu    sync.Mutex
	until map[string]time.Time
	ttl   time.Duration // how long a mark lasts; 0: passMarkTTL
}

const (
	passMarkTTL = 10 * time.Second
	passMarkMax = 1 << 16
)

func (p *passMarks) mark(url string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until == nil {
		p.until = map[string]time.Time{}
	}
	if len(p.until) >= passMarkMax {
		for k, t := range p.until {
			if now.After(t) {
				delete(p.until, k)
			}
		}
		if len(p.until) >= passMarkMax {
			return // full of live marks: coalescing again is the safe default
		}
	}
	ttl := p.ttl
	if ttl == 0 {
		ttl = passMarkTTL
	}
	p.until[url] = now.Add(ttl)
}

func (p *passMarks) active(url string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.until[url]
	if ok && now.After(t) {
		delete(p.until, url)
		return false
	}
	return ok
}

func (p *passMarks) clear(url string) {
	p.mu.Lock()
	delete(p.until, url)
	p.mu.Unlock()
}
