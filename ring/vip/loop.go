package vip

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// loopState is what the Manager's goroutine knows; nothing else reads or writes it.
type loopState struct {
	view     clusterView
	names    map[string]bool // eligible names of the applied view, to notice members returning
	held     map[netip.Addr]*holding
	released bool      // ReleaseAll was called: hold nothing from now on
	retryAt  time.Time // zero when no failed change is waiting
	renewAt  time.Time // when the held addresses' leases are renewed next; zero when none held
}

// Lease is the lifetime an address is added with, and LeaseRefresh how often a holder
// renews it: a holder that dies without releasing leaves the address for at most Lease.
const (
	Lease        = 3 * time.Second
	LeaseRefresh = time.Second
)

// holding is a VIP whose address is on the interface, with its announcement schedule.
type holding struct {
	prefix    netip.Prefix
	burstLeft int       // announcements left in the current burst
	next      time.Time // when the next announcement is due; zero means never
}

func (m *Manager) run() {
	defer close(m.stopped)
	m.loop.held = map[netip.Addr]*holding{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.armTimer(timer)
		select {
		case <-m.wake:
			m.applyPending()
		case <-timer.C:
			m.tick(time.Now())
		case c := <-m.calls:
			m.applyPending()
			c.done <- c.fn()
		case <-m.done:
			m.loop.released = true
			if err := m.reconcile(false); err != nil {
				m.closeErr = fmt.Errorf("vip: release on close: %w", err)
			}
			return
		}
	}
}

// armTimer sets timer to the earliest announcement or retry due, or stops it.
func (m *Manager) armTimer(timer *time.Timer) {
	next := m.loop.retryAt
	if len(m.loop.held) == 0 {
		m.loop.renewAt = time.Time{}
	} else if m.loop.renewAt.IsZero() {
		m.loop.renewAt = time.Now().Add(LeaseRefresh)
	}
	if !m.loop.renewAt.IsZero() && (next.IsZero() || m.loop.renewAt.Before(next)) {
		next = m.loop.renewAt
	}
	for _, h := range m.loop.held {
		if !h.next.IsZero() && (next.IsZero() || h.next.Before(next)) {
			next = h.next
		}
	}
	if next.IsZero() {
		timer.Stop()
		return
	}
	timer.Reset(max(time.Until(next), 0))
}

// applyPending applies the latest view, if Update stored one since the last call.
func (m *Manager) applyPending() {
	m.mu.Lock()
	v, redo := m.pending, m.redo
	m.pending, m.redo = nil, false
	m.mu.Unlock()
	if v == nil {
		if redo {
			_ = m.reconcile(false) // failures are logged, counted and retried by reconcile
		}
		return
	}
	names := make(map[string]bool, len(v.eligible))
	returned := false
	for _, c := range v.eligible {
		names[c.Name] = true
		if m.loop.names != nil && !m.loop.names[c.Name] {
			returned = true
		}
	}
	m.loop.view, m.loop.names = *v, names
	// A member coming (back) into view may have held our VIPs on its side of a partition and
	// announced its own MAC there: announce ours again so no client keeps the stale entry.
	_ = m.reconcile(returned) // failures are logged, counted and retried by reconcile
}

func (m *Manager) tick(now time.Time) {
	if !m.loop.renewAt.IsZero() && !now.Before(m.loop.renewAt) {
		m.loop.renewAt = now.Add(LeaseRefresh)
		for _, h := range m.loop.held {
			if err := m.nl.AddrAdd(h.prefix); err != nil {
				m.failed("renew", h.prefix, err)
			}
		}
	}
	if !m.loop.retryAt.IsZero() && !now.Before(m.loop.retryAt) {
		m.loop.retryAt = time.Time{}
		_ = m.reconcile(false) // failures are logged, counted and retried by reconcile
		return
	}
	m.announceDue(now)
}

// reconcile makes the interface hold exactly the VIPs this node should hold under the
// applied view, releasing before acquiring. With the detector, a VIP is added only once no
// reachable peer says it holds it (claims.go), so a moving VIP has no two holders even
// while views disagree; without it, the window in which two nodes answer for a moving VIP
// is as short as this node can make it. reburst restarts the announcement burst of VIPs
// that stay held.
func (m *Manager) reconcile(reburst bool) error {
	now := time.Now()
	eligible, quorum := m.loop.view.eligible, m.loop.view.quorum
	if m.det != nil {
		var blocked bool
		eligible, quorum, blocked = m.detect(now)
		quorum = quorum && !blocked
	}
	want := map[netip.Addr]bool{}
	if !m.loop.released {
		for addr, name := range Holders(m.vips, eligible, quorum) {
			want[addr] = name == m.self
		}
	}
	var errs []error
	for _, p := range m.vips {
		h, held := m.loop.held[p.Addr()]
		if !held || want[p.Addr()] {
			continue
		}
		if err := m.nl.AddrDel(h.prefix); err != nil {
			errs = append(errs, m.failed(opDel, p, err))
			continue
		}
		delete(m.loop.held, p.Addr())
		m.transition(p, actionRelease)
	}
	var mayAdd map[netip.Addr]bool
	if m.det != nil {
		mayAdd = m.det.gate(m.toAcquire(want, eligible))
		// Claim before adding: a peer asking from now on hears that we hold these.
		m.det.setHolding(m.claims(mayAdd))
	}
	for _, p := range m.vips {
		if !want[p.Addr()] {
			continue
		}
		if h, held := m.loop.held[p.Addr()]; held {
			if reburst {
				h.burstLeft, h.next = m.opts.AnnounceBurst, now
			}
			continue
		}
		if m.det != nil && !mayAdd[p.Addr()] {
			continue // a peer holds it, or has not said it does not: the detector wakes us
		}
		if err := m.nl.AddrAdd(p); err != nil {
			errs = append(errs, m.failed(opAdd, p, err))
			continue
		}
		m.loop.held[p.Addr()] = &holding{prefix: p, burstLeft: m.opts.AnnounceBurst, next: now}
		m.transition(p, actionAcquire)
	}
	if m.det != nil {
		m.det.setHolding(m.claims(nil))
	}
	if len(errs) > 0 && m.loop.retryAt.IsZero() {
		m.loop.retryAt = now.Add(m.opts.RetryEvery)
	}
	m.publishHeld()
	m.announceDue(now)
	return errors.Join(errs...)
}

// announceDue sends the announcements whose time has come and schedules the next ones.
func (m *Manager) announceDue(now time.Time) {
	for _, p := range m.vips {
		h, held := m.loop.held[p.Addr()]
		if !held || h.next.IsZero() || now.Before(h.next) {
			continue
		}
		if err := m.ann.Announce(p.Addr()); err != nil {
			_ = m.failed(opAnnounce, p, err)
		} else {
			m.metrics.announcements.Inc()
		}
		if h.burstLeft > 0 {
			h.burstLeft--
		}
		switch {
		case h.burstLeft > 0:
			h.next = now.Add(m.opts.BurstInterval)
		case m.opts.AnnounceEvery > 0:
			h.next = now.Add(m.opts.AnnounceEvery)
		default:
			h.next = time.Time{}
		}
	}
}

func (m *Manager) transition(p netip.Prefix, action string) {
	vip := p.Addr().String()
	m.metrics.transitions.WithLabelValues(vip, action).Inc()
	held := 0.0
	if action == actionAcquire {
		held = 1
	}
	m.metrics.held.WithLabelValues(vip).Set(held)
	m.log.Info("vip "+action, "vip", p.String(), "node", m.self)
}

// failed counts and logs a failed operation; the error has no caller to go to but
// ReleaseAll, so this is where it is logged.
func (m *Manager) failed(op string, p netip.Prefix, err error) error {
	m.metrics.errors.WithLabelValues(op).Inc()
	m.log.Warn("vip "+op+" failed", "vip", p.String(), "err", err)
	return err
}

func (m *Manager) publishHeld() {
	held := make([]netip.Prefix, 0, len(m.loop.held))
	for _, p := range m.vips {
		if _, ok := m.loop.held[p.Addr()]; ok {
			held = append(held, p)
		}
	}
	m.mu.Lock()
	m.held = held
	m.mu.Unlock()
}

// toAcquire returns the VIPs this node wants and does not hold, each with the peers that may
// hold it by their own view: the other eligible members offering it (eligible already
// leaves out those the detector marked down).
func (m *Manager) toAcquire(want map[netip.Addr]bool, eligible []Candidate) map[netip.Addr][]string {
	out := map[netip.Addr][]string{}
	for _, p := range m.vips {
		if !want[p.Addr()] || m.loop.held[p.Addr()] != nil {
			continue
		}
		peers := []string{}
		for _, c := range eligible {
			if c.Name != m.self && slices.Contains(c.Offers, p) {
				peers = append(peers, c.Name)
			}
		}
		out[p.Addr()] = peers
	}
	return out
}

// claims is what this node says it holds: the addresses on its interface and those about to
// be added, in configuration order.
func (m *Manager) claims(adding map[netip.Addr]bool) []netip.Addr {
	var out []netip.Addr
	for _, p := range m.vips {
		if m.loop.held[p.Addr()] != nil || adding[p.Addr()] {
			out = append(out, p.Addr())
		}
	}
	return out
}
