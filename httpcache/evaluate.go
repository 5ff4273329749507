package httpcache

import "time"

// Evaluate decides how the stored response may answer req at now (RFC 9111
// 4.2 and 4.2.4, request directives of 5.2.1, response directives of 5.2.2 as
// captured in d, and RFC 5861). It does not allocate.
//
// Request max-age, min-fresh and no-cache (or Pragma: no-cache when the request
// has no Cache-Control, RFC 9111 5.4) can only make a fresh response unusable;
// max-stale can make a stale one usable unless the response forbids serving it
// stale (must-revalidate, proxy-revalidate, s-maxage, no-cache). When
// OnlyIfCached is set the caller must not contact the origin: it serves Fresh
// and StaleWhileRevalidate (skipping the refresh is allowed) and answers 504
// for MustValidate.
func (p Policy) Evaluate(req Request, stored Response, d StoreDecision, now time.Time) Use {
	rd := requestDirectives(req.Header)
	age := CurrentAge(stored, now)
	u := Use{
		State:        MustValidate,
		Age:          age,
		TTL:          d.Lifetime - age,
		OnlyIfCached: rd.OnlyIfCached,
	}
	if !d.Store {
		return u
	}
	fresh := u.TTL > 0
	staleness := max(-u.TTL, 0)
	mayServeStale := !d.MustRevalidate && !d.NoCache
	// A response still fresh may stand in when a validation the client asked
	// for fails; a stale one only within a window someone granted.
	u.StaleIfError = mayServeStale && (fresh ||
		within(staleness, d.StaleIfError) ||
		rd.HasStaleIfError && within(staleness, rd.StaleIfError) ||
		rd.MaxStaleAny || rd.HasMaxStale && within(staleness, rd.MaxStale))

	if d.NoCache || rd.NoCache {
		return u
	}
	if rd.HasMaxAge && age > rd.MaxAge {
		return u
	}
	if fresh {
		// min-fresh asks for at least that much freshness left (5.2.1.3).
		if rd.HasMinFresh && u.TTL < rd.MinFresh {
			return u
		}
		u.State = Fresh
		return u
	}
	if !mayServeStale || rd.HasMinFresh {
		return u
	}
	if rd.MaxStaleAny || rd.HasMaxStale && staleness <= rd.MaxStale {
		u.State = Fresh // the client accepts this much staleness (5.2.1.2)
		return u
	}
	if within(staleness, d.StaleWhileRevalidate) {
		u.State = StaleWhileRevalidate
	}
	return u
}

// requestDirectives parses the request's Cache-Control without allocating;
// Pragma: no-cache stands in for it when Cache-Control is absent (RFC 9111 5.4).
func requestDirectives(h Header) Directives {
	var d Directives
	seen := false
	for i := range h {
		if equalFold(h[i].Name, "Cache-Control") {
			seen = true
			d.parseLine(h[i].Value)
		}
	}
	if seen {
		return d
	}
	for i := range h {
		if equalFold(h[i].Name, "Pragma") && pragmaNoCache(h[i].Value) {
			d.NoCache = true
		}
	}
	return d
}

func pragmaNoCache(v string) bool {
	for len(v) > 0 {
		var e string
		e, v = nextListElement(v)
		if equalFold(e, "no-cache") {
			return true
		}
	}
	return false
}

// within reports whether a staleness falls in a granted window; a zero window
// grants nothing.
func within(staleness, window time.Duration) bool {
	return window > 0 && staleness <= window
}
