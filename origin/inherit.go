package origin

import "time"

// serverHealth is what a server's checks have learnt, carried from one pool to its successor.
type serverHealth struct {
	probeUp, ejected, onProbation bool
	probeStreak, consecErrors     int
	ejections                     int
	lastFailed, ejectedUntil      time.Time
	upSince                       time.Time
	lastCheck                     CheckResult
	counts                        *serverCounts
}

// Inherit gives p's servers the health that old's servers with the same address and scheme
// have: the active checks' verdict and streak (when both pools run active checks) and the
// passive ejection state (when p ejects at all). Call it before p.Start, while old may still
// serve. A reload builds every pool anew, and a new pool counts its servers up until its own
// checks say otherwise (rise and fall probes away), so without it every reload sent requests
// to servers known to be down; servers new to the configuration still start up. The /stats
// counters (requests, errors, latency) go on too.
func (p *Pool) Inherit(old *Pool) {
	if old == nil || old == p {
		return
	}
	type identity struct {
		addr string
		tls  bool
	}
	known := make(map[identity]serverHealth, len(old.servers))
	old.mu.Lock()
	for _, s := range old.servers {
		known[identity{s.cfg.addr, s.cfg.tls}] = serverHealth{
			probeUp: s.probeUp, ejected: s.ejected, onProbation: s.onProbation,
			probeStreak: s.probeStreak, consecErrors: s.consecErrors, ejections: s.ejections,
			lastFailed: s.lastFailed, ejectedUntil: s.ejectedUntil, upSince: s.upSince, lastCheck: s.lastCheck,
			counts: s.counts,
		}
	}
	old.mu.Unlock()
	activeBoth := p.cfg.health.path != "" && old.cfg.health.path != ""
	now := p.now()
	p.mu.Lock()
	up := make([]bool, len(p.servers))
	for i, s := range p.servers {
		h, ok := known[identity{s.cfg.addr, s.cfg.tls}]
		if ok && h.counts != nil {
			// The counters go on where old's left off, shared, so that requests old is
			// still finishing count too; to the first server of that identity only.
			s.counts = h.counts
			h.counts = nil
			known[identity{s.cfg.addr, s.cfg.tls}] = h
		}
		if ok && activeBoth {
			s.probeUp, s.probeStreak, s.lastCheck, s.upSince = h.probeUp, h.probeStreak, h.lastCheck, h.upSince
		}
		if ok && p.cfg.passiveErrors > 0 {
			s.consecErrors, s.lastFailed, s.ejections = h.consecErrors, h.lastFailed, h.ejections
			s.ejected, s.ejectedUntil, s.onProbation = h.ejected, h.ejectedUntil, h.onProbation
		}
		up[i] = p.usable(s, now)
	}
	p.mu.Unlock()
	for i, s := range p.servers {
		p.metrics.setUp(p.cfg.name, s.label, up[i])
	}
}
