package origin

// PoolSnapshot is the state of a pool at one moment, for the /stats page and /stats.json.
type PoolSnapshot struct {
	Name    string           `json:"name"`
	Balance string           `json:"balance"`
	Healthy bool             `json:"healthy"` // as Pool.Healthy: some server up by active checks
	Queued  int              `json:"queued"`  // requests waiting for a slot (max_conns)
	Servers []ServerSnapshot `json:"servers"`
}

// Server states in ServerSnapshot.State.
const (
	StateUp     = "up"
	StateDown   = "down"   // failed its active checks, or ejected by passive checks
	StateDrain  = "drain"  // weight 0: only clients stuck to it by cookie
	StateBackup = "backup" // up, and used only when every primary is down
)

// ServerSnapshot is one server's state and counters since the pool was built.
type ServerSnapshot struct {
	ID              string      `json:"id"`
	URL             string      `json:"url"`
	State           string      `json:"state"`
	Ejected         bool        `json:"ejected"` // down because of passive checks
	LastCheck       CheckResult `json:"last_check"`
	Weight          int         `json:"weight"`
	EffectiveWeight float64     `json:"effective_weight"` // below weight while slow start ramps
	Active          int         `json:"active"`
	Requests        uint64      `json:"requests"`
	Errors          uint64      `json:"errors"`
	MeanLatency     float64     `json:"mean_latency_seconds"` // time to first byte
}

// Snapshot returns the pool's current state. It is consistent per server, not across servers.
func (p *Pool) Snapshot() PoolSnapshot {
	snap := PoolSnapshot{Name: p.cfg.name, Balance: p.cfg.balance, Servers: make([]ServerSnapshot, len(p.servers))}
	p.mu.Lock()
	now := p.now()
	snap.Queued = p.queued
	for i, s := range p.servers {
		ss := ServerSnapshot{
			ID:              s.cfg.id,
			URL:             s.cfg.raw,
			LastCheck:       s.lastCheck,
			Weight:          s.cfg.weight,
			EffectiveWeight: float64(p.effectiveWeight(s, now)) / weightScale,
			Active:          s.active,
		}
		usable := p.usable(s, now)
		ss.Ejected = s.ejected
		switch {
		case !usable:
			ss.State = StateDown
		case s.cfg.backup:
			ss.State = StateBackup
		case s.cfg.weight == 0:
			ss.State = StateDrain
		default:
			ss.State = StateUp
		}
		if s.probeUp && (s.cfg.weight > 0 || s.cfg.backup) {
			snap.Healthy = true // as Healthy: passive ejections alone never take a pool down
		}
		snap.Servers[i] = ss
	}
	p.mu.Unlock()
	for i, s := range p.servers {
		ss := &snap.Servers[i]
		ss.Requests, ss.Errors = s.counts.requests.Load(), s.counts.errors.Load()
		if ok := ss.Requests - ss.Errors; ok > 0 {
			ss.MeanLatency = float64(s.counts.latencyNs.Load()) / float64(ok) / 1e9
		}
	}
	return snap
}
