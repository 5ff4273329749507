package policy

import "time"

// Lifetime is a route's TTL rules compiled.
type Lifetime struct {
	status   map[int]time.Duration
	override bool
	min, max time.Duration
}

func compileTTL(c TTL) *Lifetime {
	if len(c.Status) == 0 && c.Min == 0 && c.Max == 0 {
		return nil
	}
	return &Lifetime{status: c.Status, override: c.Override, min: c.Min, max: c.Max}
}

// Freshness returns the freshness lifetime (RFC 9111 section 4.2.1) of a response with the
// given status. origin is the lifetime the node computed from the response (explicit, or
// heuristic, or cache.default_ttl) and explicit tells whether the origin stated it (max-age,
// s-maxage, Expires). It returns ok=false when the rules say nothing: the node keeps origin as
// it is. A lifetime from Status also makes a response storable that RFC 9111 would not store
// heuristically (negative caching): storable reports that. Min and Max clamp every lifetime
// the route keeps, the origin's too.
func (l *Lifetime) Freshness(status int, origin time.Duration, explicit bool) (lifetime time.Duration, storable, ok bool) {
	if l == nil {
		return origin, false, false
	}
	lifetime = origin
	if d, set := l.status[status]; set && (!explicit || l.override) {
		lifetime, storable, ok = d, true, true
	}
	if l.min > 0 && lifetime < l.min && (explicit || storable || origin > 0) {
		lifetime, ok = l.min, true
	}
	if l.max > 0 && lifetime > l.max {
		lifetime, ok = l.max, true
	}
	return lifetime, storable, ok
}

// Override reports whether the route's TTLs win over the origin's freshness.
func (l *Lifetime) Override() bool { return l != nil && l.override }

// Statuses returns the status TTLs, for /stats. The map must not be modified.
func (l *Lifetime) Statuses() map[int]time.Duration {
	if l == nil {
		return nil
	}
	return l.status
}
