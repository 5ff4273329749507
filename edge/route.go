package edge

import (
	"path"
	"regexp"
	"strings"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin"
)

// route is a compiled conf.Route.
type route struct {
	index      int
	pool       *origin.Pool
	cache      bool
	hosts      []string // exact, or ".suffix" for *.suffix
	prefix     string
	re         *regexp.Regexp
	extensions map[string]bool
	methods    map[string]bool
	limiter    *rateLimiter // nil when off
	// stickyCookie is the pool's sticky cookie name, "" when the pool has none.
	stickyCookie string
	// sortParams sorts the query of every request on the route, for its key and for the
	// origin (cache_key.sort_params).
	sortParams bool
}

func compileRoute(i int, r conf.Route, pools map[string]*origin.Pool, poolConf map[string]*conf.Pool) (*route, error) {
	rt := &route{index: i, pool: pools[r.Origin], cache: r.Cache, prefix: r.Match.PathPrefix, sortParams: r.CacheKey.SortParams}
	if pc := poolConf[r.Origin]; pc != nil {
		rt.stickyCookie = pc.Sticky.Cookie
	}
	for _, h := range r.Match.Host {
		rt.hosts = append(rt.hosts, strings.TrimPrefix(strings.ToLower(h), "*"))
	}
	if r.Match.PathRegex != "" {
		re, err := regexp.Compile(r.Match.PathRegex)
		if err != nil {
			return nil, err
		}
		rt.re = re
	}
	if len(r.Match.Extensions) > 0 {
		rt.extensions = map[string]bool{}
		for _, e := range r.Match.Extensions {
			rt.extensions[strings.ToLower(strings.TrimPrefix(e, "."))] = true
		}
	}
	if len(r.Match.Methods) > 0 {
		rt.methods = map[string]bool{}
		for _, m := range r.Match.Methods {
			rt.methods[strings.ToUpper(m)] = true
		}
	}
	if r.RateLimit.Rate > 0 {
		rt.limiter = newRateLimiter(r.RateLimit.Rate, r.RateLimit.Burst)
	}
	return rt, nil
}

// matches reports whether the request fits every condition of the route. host is lower-case
// without port; p is the canonical path (requestTarget): percent-encoded as sent but for
// unreserved characters, so a prefix or regex sees exactly what is keyed and sent to the
// origin ("%2F" is not "/").
func (r *route) matches(method []byte, host string, p string) bool {
	if r.methods != nil && !r.methods[string(method)] {
		return false
	}
	if len(r.hosts) > 0 && !matchHost(r.hosts, host) {
		return false
	}
	if r.prefix != "" && !strings.HasPrefix(p, r.prefix) {
		return false
	}
	if r.extensions != nil {
		ext := path.Ext(p)
		if ext == "" || !r.extensions[strings.ToLower(ext[1:])] {
			return false
		}
	}
	if r.re != nil && !r.re.MatchString(p) {
		return false
	}
	return true
}

func matchHost(patterns []string, host string) bool {
	for _, h := range patterns {
		if h == host || strings.HasPrefix(h, ".") && strings.HasSuffix(host, h) {
			return true
		}
	}
	return false
}
