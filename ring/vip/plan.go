package vip

import (
	"net/netip"
	"slices"
	"time"
)

// detect applies the detector's verdicts to the applied view and gives the detector its
// plan for that view: the eligible members without those marked down, the view's quorum,
// and whether the detector forbids holding anything (fenced). Loop goroutine only.
func (m *Manager) detect(now time.Time) (eligible []Candidate, quorum, blocked bool) {
	down, blocked := m.det.state(now)
	all := m.loop.view.eligible
	eligible = slices.DeleteFunc(slices.Clone(all), func(c Candidate) bool { return down[c.Name] })
	quorum = m.loop.view.quorum
	p := plan{size: len(all)}
	if m.opts.Detector.ClusterSize != nil {
		p.size = max(m.opts.Detector.ClusterSize(), 1)
	}
	for _, c := range eligible {
		if c.Name != m.self {
			p.peers = append(p.peers, c.Name)
		}
	}
	// Heartbeats follow the view, not the fence: a fenced holder keeps telling its
	// successors it is alive, so that after a healed partition they release before it
	// holds again.
	for _, v := range m.vips {
		holder := Holders([]netip.Prefix{v}, eligible, quorum)[v.Addr()]
		if holder == "" {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(eligible), func(c Candidate) bool { return c.Name == holder })
		next := Holders([]netip.Prefix{v}, rest, true)[v.Addr()]
		switch {
		case next == "":
		case holder == m.self && !m.loop.released:
			p.heartbeatTo = appendNew(p.heartbeatTo, next)
		case next == m.self:
			p.watch = appendNew(p.watch, holder)
		}
	}
	names := make(map[string]bool, len(all))
	for _, c := range all {
		names[c.Name] = true
	}
	m.det.setPlan(p, names, now)
	return eligible, quorum, blocked
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
