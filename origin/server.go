package origin

import (
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// weightScale lets slow start give a server a fraction of its configured weight while the
// balancers work in integers: a server of weight 1 ramps through 1..100 instead of jumping.
const weightScale = 100

// server is one origin server and its health. Fields below the mutex line are guarded by the
// pool's mu; the counters are atomics, read without it by Snapshot.
type server struct {
	index  int
	cfg    serverSettings
	label  string // host:port, the server label in metrics (admin only, never sent to clients)
	client *fasthttp.HostClient
	probe  *fasthttp.HostClient
	hash   uint64 // identity for the hashing balancers
	// metrics are its children of the per-server vectors (nil without a Registerer).
	metrics *serverMetrics

	// guarded by Pool.mu
	probeUp      bool      // verdict of the active checks; true when they are off
	probeStreak  int       // consecutive probe results against the current verdict
	consecErrors int       // consecutive live failures (connection errors, timeouts; 5xx with observe layer7)
	lastFailed   time.Time // when the last live failure was recorded; zero if never
	ejected      bool      // passive ejection in force until ejectedUntil
	ejectedUntil time.Time // end of the current (or last) ejection
	ejections    int       // ejections in a row without a success, for the backoff doubling
	onProbation  bool      // back from an ejection and not yet proven: one failure ejects again
	upSince      time.Time // when the server last became usable; zero means from the start (no ramp)
	active       int       // requests holding a slot, from pick to done
	lastCheck    CheckResult

	// counts are shared with this server's successor in the next pool (Inherit): a reload
	// builds every pool anew, and /stats must not start again from 0 while /metrics goes on.
	counts *serverCounts
}

// serverCounts are a server's /stats counters (Snapshot).
type serverCounts struct {
	requests  atomic.Uint64
	errors    atomic.Uint64
	latencyNs atomic.Int64 // sum of time to first byte over successful requests
}

// usable reports whether requests may be sent to s at now, ending an ejection whose time is up.
// Called with Pool.mu held.
func (p *Pool) usable(s *server, now time.Time) bool {
	if s.ejected && !now.Before(s.ejectedUntil) {
		s.ejected = false
		s.onProbation = true
		s.consecErrors = 0
		if s.probeUp {
			s.upSince = s.ejectedUntil
			p.log.Info("origin server back from ejection", "pool", p.cfg.name, "server", s.label)
			p.metrics.setUp(p.cfg.name, s.label, true)
		}
	}
	return s.probeUp && !s.ejected
}

// effectiveWeight is the weight balancers see: the configured weight, scaled, ramped linearly
// over slow_start after the server last came back. Called with Pool.mu held.
func (p *Pool) effectiveWeight(s *server, now time.Time) int {
	full := s.cfg.weight * weightScale
	if s.cfg.weight == 0 && s.cfg.backup {
		full = weightScale // a backup with weight 0 still serves when it is all there is
	}
	if p.cfg.slowStart <= 0 || s.upSince.IsZero() {
		return full
	}
	elapsed := now.Sub(s.upSince)
	if elapsed >= p.cfg.slowStart {
		return full
	}
	w := int(int64(full) * int64(elapsed) / int64(p.cfg.slowStart))
	return max(w, 1)
}

// recordOutcome feeds passive health: failures in a row eject the server with a backoff that
// doubles with every ejection in a row (up to 16x); a success forgives everything, and ends an
// ejection early (a server ejected by passive checks still gets traffic when every server is
// ejected, see leastRecentlyFailed). A server back from an ejection is on probation, and its
// first failure ejects it again. Called with Pool.mu held.
func (p *Pool) recordOutcome(s *server, failed bool, now time.Time) {
	if p.cfg.passiveErrors == 0 {
		return
	}
	if !failed {
		s.consecErrors, s.ejections, s.onProbation = 0, 0, false
		if s.ejected {
			s.ejected = false
			if s.probeUp {
				s.upSince = now
				p.metrics.setUp(p.cfg.name, s.label, true)
				p.log.Info("origin server back: answered while ejected", "pool", p.cfg.name, "server", s.label)
			}
		}
		return
	}
	s.lastFailed = now
	s.consecErrors++
	if s.ejected || (s.consecErrors < p.cfg.passiveErrors && !s.onProbation) {
		return
	}
	backoff := p.cfg.passiveBackoff << min(s.ejections, maxBackoffDoublings)
	s.ejected, s.onProbation = true, false
	s.ejectedUntil = now.Add(backoff)
	s.ejections++
	s.consecErrors = 0
	p.metrics.ejected(p.cfg.name, s.label)
	p.metrics.setUp(p.cfg.name, s.label, false)
	p.log.Warn("origin server ejected after consecutive errors", "pool", p.cfg.name, "server", s.label,
		"backoff", backoff)
}

// leastRecentlyFailed is the server a pool falls back on when passive checks have ejected every
// server that active checks (or their absence) leave up: the one whose last failure is the
// oldest. A pool never ejects itself into emptiness (nginx never marks a lone server down,
// Envoy has a panic threshold); only active checks take a pool fully down. Drained servers and
// those in tried are skipped. Called with Pool.mu held.
func (p *Pool) leastRecentlyFailed(tried []bool, now time.Time) *server {
	var best *server
	for _, s := range p.servers {
		if !s.probeUp || !s.ejected || (s.cfg.weight == 0 && !s.cfg.backup) || (tried != nil && tried[s.index]) {
			continue
		}
		if best == nil || s.lastFailed.Before(best.lastFailed) {
			best = s
		}
	}
	return best
}

// setProbeVerdict applies one active check result with rise/fall hysteresis and reports whether
// the verdict changed. Called with Pool.mu held.
func (p *Pool) setProbeVerdict(s *server, ok bool, now time.Time) bool {
	if ok == s.probeUp {
		s.probeStreak = 0
		return false
	}
	s.probeStreak++
	need := p.cfg.health.fall
	if ok {
		need = p.cfg.health.rise
	}
	if s.probeStreak < need {
		return false
	}
	s.probeStreak = 0
	s.probeUp = ok
	if ok {
		s.upSince = now
		s.consecErrors, s.ejections, s.onProbation = 0, 0, false
	}
	return true
}
