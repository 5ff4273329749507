package conf

import (
	"fmt"
	"slices"
	"strings"
)

// shadowedRoutes refuses a route that an earlier one leaves no request to. Routes are tried in
// order and the first match wins, where nginx picks the longest prefix: an operator who puts
// the catch-all first, as nginx lets them, gets routes after it that never match (nothing
// cached, no rate limit, the wrong pool) with no sign of it. Only what is certain is refused:
// each condition the earlier route sets must take every request the later one's takes, and
// a regex only when both routes have the same one. Called after the routes' own checks have
// folded hosts, methods and extensions.
func (v *validator) shadowedRoutes(routes []Route) {
	for j := range routes {
		for i := 0; i < j; i++ {
			if covers(&routes[i].Match, &routes[j].Match) {
				key := fmt.Sprintf("routes[%d]", j)
				v.fail(key, "never matches: routes[%d] (line %d) takes every request it would; routes are tried in order and the first match wins (not the longest prefix, as in nginx): put the more specific route first",
					i, v.pos.line(fmt.Sprintf("routes[%d]", i)))
				break
			}
		}
	}
}

// covers reports whether every request that matches b matches a (edge's route.matches).
// Every routed path starts with "/": OPTIONS * is answered before routing, and any other
// target that is not origin-form gets 400.
func covers(a, b *Match) bool {
	return coversAll(a.Host, b.Host, hostCovers) &&
		(a.PathPrefix == "" || a.PathPrefix == "/" || strings.HasPrefix(b.PathPrefix, a.PathPrefix)) &&
		(a.PathRegex == "" || a.PathRegex == b.PathRegex) &&
		coversAll(a.Extensions, b.Extensions, equal) &&
		coversAll(a.Methods, b.Methods, equal)
}

// coversAll: a condition on a list (any element matches; empty means anything) covers b's
// when each of b's elements is taken by one of a's.
func coversAll(a, b []string, takes func(pa, pb string) bool) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, x := range b {
		if !slices.ContainsFunc(a, func(p string) bool { return takes(p, x) }) {
			return false
		}
	}
	return true
}

func equal(a, b string) bool { return a == b }

// hostCovers: "*.example.com" takes every name ending in ".example.com" (not example.com
// itself), and so every narrower wildcard too.
func hostCovers(a, b string) bool {
	return a == b || strings.HasPrefix(a, "*.") && strings.HasSuffix(b, a[1:])
}
