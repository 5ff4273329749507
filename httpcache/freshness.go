package httpcache

import "time"

const (
	defaultHeuristicFraction = 0.1
	defaultHeuristicMax      = 24 * time.Hour
)

// freshness is the outcome of RFC 9111 4.2.1 and 4.2.2 for one response.
type freshness struct {
	lifetime  time.Duration
	explicit  bool // s-maxage, max-age or Expires (valid or not) decided it
	heuristic bool
}

// freshnessLifetime computes the lifetime for a shared cache: s-maxage, then
// max-age, then Expires - Date (RFC 9111 4.2.1), then a heuristic (4.2.2) when
// the status is heuristically cacheable (RFC 9110 15.1). Expires is ignored when
// the directives come from a targeted field (RFC 9213 2.2).
//
// RFC 9111 4.2.2 would also let a public response of any status be fresh by
// heuristic; this cache does not. The Last-Modified of a 503 maintenance page or
// a 302 says how old its file is, not how long the outage or the move lasts: one
// such answer with public (Apache's `Header always set`) was a hit for up to
// HeuristicMax (24 h) after the origin was back. Varnish's default TTL, too,
// goes by a list of status codes, never by public.
func (p Policy) freshnessLifetime(resp Response, d Directives, src directiveSource) freshness {
	switch {
	case d.HasSMaxAge:
		return freshness{lifetime: d.SMaxAge, explicit: true}
	case d.HasMaxAge:
		return freshness{lifetime: d.MaxAge, explicit: true}
	}
	if src == fromCacheControl {
		if exp, present := resp.firstLine("Expires"); present {
			return freshness{lifetime: expiresLifetime(exp, resp), explicit: true}
		}
	}
	if !heuristicallyCacheable(resp.Status) {
		return freshness{}
	}
	return p.heuristicLifetime(resp)
}

// expiresLifetime is Expires - Date. An invalid Expires, "0" being the classic,
// means already expired (RFC 9111 5.3); only the first line counts (4.2.1).
func expiresLifetime(value string, resp Response) time.Duration {
	exp, ok := parseHTTPDate(value)
	if !ok {
		return 0
	}
	return max(exp.Sub(responseDate(resp)), 0)
}

// heuristicLifetime is a fraction of the time since Last-Modified, capped
// (RFC 9111 4.2.2). Without Last-Modified a 200 gets Policy.DefaultTTL, an
// operator's heuristic in the sense of 4.2.2.
func (p Policy) heuristicLifetime(resp Response) freshness {
	lm, ok := parseHTTPDate(resp.get("Last-Modified"))
	if !ok {
		if resp.Status == 200 && p.DefaultTTL > 0 {
			return freshness{lifetime: p.DefaultTTL, heuristic: true}
		}
		return freshness{}
	}
	fraction := p.HeuristicFraction
	if fraction <= 0 {
		fraction = defaultHeuristicFraction
	}
	limit := p.HeuristicMax
	if limit <= 0 {
		limit = defaultHeuristicMax
	}
	since := responseDate(resp).Sub(lm)
	if since <= 0 {
		return freshness{heuristic: true}
	}
	life := time.Duration(float64(since) * fraction)
	return freshness{lifetime: min(life, limit), heuristic: true}
}

// heuristicallyCacheable lists the status codes RFC 9110 15.1 defines as
// heuristically cacheable.
func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// firstLine returns the value of the first line named name and whether any exists.
func (h Header) firstLine(name string) (string, bool) {
	for i := range h {
		if equalFold(h[i].Name, name) {
			return h[i].Value, true
		}
	}
	return "", false
}
