package origin

import (
	"errors"
	"net/netip"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/shoal-cdn/shoal/origin/balance"
)

var (
	errAllFull  = errors.New("origin: every usable server is at max_conns")
	errAllTried = errors.New("origin: every usable server has been tried")
)

// acquire chooses a server for t among those not yet tried and takes one of its connection
// slots, waiting in the pool's queue while every usable server is at max_conns. assigned is
// true when the sticky cookie has to be (re)set. The caller must release the slot.
func (p *Pool) acquire(t *Target, tried []bool) (s *server, assigned bool, err error) {
	var timer *time.Timer
	p.mu.Lock()
	for {
		s, assigned, err = p.choose(t, tried, p.now())
		if err != errAllFull {
			if timer != nil {
				p.queued--
				p.metrics.setQueued(p.cfg.name, p.queued)
			}
			if err == nil {
				s.active++
			}
			p.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			if err == nil {
				s.metrics.activeDelta(1)
			}
			return s, assigned, err
		}
		if timer == nil {
			if p.queued >= p.cfg.maxQueue {
				p.mu.Unlock()
				p.metrics.timedOut(p.cfg.name)
				return nil, false, ErrQueueTimeout
			}
			p.queued++
			p.metrics.setQueued(p.cfg.name, p.queued)
			timer = time.NewTimer(p.cfg.queueTimeout)
		}
		// Waiters are woken together and race for the freed slot under mu; the losers wait
		// again. That is unfair under contention but never loses a slot, and the queue is
		// bounded by max_queue and queue_timeout.
		freed := p.slotFreed
		p.mu.Unlock()
		select {
		case <-freed:
			p.mu.Lock()
		case <-timer.C:
			p.mu.Lock()
			p.queued--
			p.metrics.setQueued(p.cfg.name, p.queued)
			p.mu.Unlock()
			p.metrics.timedOut(p.cfg.name)
			return nil, false, ErrQueueTimeout
		}
	}
}

// release gives back the slot taken by acquire and wakes the queue.
func (p *Pool) release(s *server) {
	p.mu.Lock()
	s.active--
	p.wakeLocked()
	p.mu.Unlock()
	s.metrics.activeDelta(-1)
}

// wakeLocked tells queued requests to look again. Called with mu held.
func (p *Pool) wakeLocked() {
	if p.queued > 0 {
		close(p.slotFreed)
		p.slotFreed = make(chan struct{})
	}
}

func (p *Pool) hasSlot(s *server) bool {
	return p.cfg.maxConns == 0 || s.active < p.cfg.maxConns
}

// choose applies, in order: the sticky cookie (honoured while its server is usable, even when
// drained), then the balancer over the usable primaries, or over the usable backups when no
// primary is usable, and last the least recently failed of the servers passive checks ejected.
// Called with mu held.
func (p *Pool) choose(t *Target, tried []bool, now time.Time) (*server, bool, error) {
	if p.cfg.stickyCookie != "" && t.StickyID != "" {
		for _, s := range p.servers {
			if s.cfg.id != t.StickyID || !p.usable(s, now) || (tried != nil && tried[s.index]) {
				continue
			}
			if !p.hasSlot(s) {
				return nil, false, errAllFull
			}
			return s, false, nil
		}
	}
	useBackups := true
	for _, s := range p.servers {
		if !s.cfg.backup && s.cfg.weight > 0 && p.usable(s, now) {
			useBackups = false
			break
		}
	}
	anyUsable := false
	cands := p.cands[:0]
	for _, s := range p.servers {
		if s.cfg.backup != useBackups || !p.usable(s, now) || (s.cfg.weight == 0 && !s.cfg.backup) {
			continue
		}
		anyUsable = true
		if tried != nil && tried[s.index] {
			continue
		}
		cands = append(cands, balance.Candidate{
			Index: s.index, Weight: p.effectiveWeight(s, now), Active: s.active, Hash: s.hash,
		})
	}
	p.cands = cands
	switch {
	case len(cands) == 0 && anyUsable:
		return nil, false, errAllTried
	case len(cands) == 0:
		s := p.leastRecentlyFailed(tried, now)
		if s == nil {
			return nil, false, ErrNoServer
		}
		if !p.hasSlot(s) {
			return nil, false, errAllFull
		}
		p.metrics.pickedAllEjected(p.cfg.name)
		return s, p.cfg.stickyCookie != "", nil
	}
	s, err := p.pickFrom(t, cands)
	return s, p.cfg.stickyCookie != "" && err == nil, err
}

// pickFrom runs the balancer. Hashing balancers see every usable server and wait for theirs
// when it is full, so a key never moves because of load; the others see only servers with a
// free slot. Called with mu held.
func (p *Pool) pickFrom(t *Target, cands []balance.Candidate) (*server, error) {
	bal, key, hashing := p.balancer, uint64(0), false
	switch {
	case p.cfg.stickySource:
		bal, key, hashing = p.bySource, hashAddr(t.ClientIP), true
	case p.cfg.balance == balance.Source:
		key, hashing = hashAddr(t.ClientIP), true
	case p.cfg.balance == balance.URI:
		key, hashing = xxhash.Sum64String(t.HashKey), true
	}
	if !hashing {
		free := cands[:0]
		for _, c := range cands {
			if p.hasSlot(p.servers[c.Index]) {
				free = append(free, c)
			}
		}
		cands = free
	}
	i := bal.Pick(cands, key)
	if i < 0 {
		return nil, errAllFull
	}
	s := p.servers[cands[i].Index]
	if !p.hasSlot(s) {
		return nil, errAllFull
	}
	return s, nil
}

func hashAddr(ip netip.Addr) uint64 {
	b := ip.Unmap().As16()
	return xxhash.Sum64(b[:])
}
