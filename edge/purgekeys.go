package edge

import (
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/purge"
)

// purgeTargets is purge.Options.Resolve: the keys a purge of url (a store key as
// purge.KeyForURL makes it) must remove besides url itself, found the way handle keys a GET
// of that URL: the route it matches, its ignored and sorted query parameters, its rewrite and
// ignore_host. On a route whose keys carry request fields or cookies it is every variant, by
// the prefix they share (the base key and the NUL byte that starts each extra part). A URL
// that matches no cache route yields nothing: its purge keeps its old meaning, the URL alone.
//
// The route is matched as a GET: that is the request whose answer was stored, whatever
// method the purge came with (PURGE, or a POST invalidating the URL). Safe for concurrent
// use: it reads the settings Reload swaps once.
func (p *pipeline) purgeTargets(url string) []purge.Target {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil
	}
	host, target := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, target = rest[:i], rest[i:]
	}
	t, bad := parseTarget(scheme, []byte(target), []byte(host), 1, []byte("HTTP/1.1"))
	if bad != nil {
		return nil
	}
	rt := p.rt.Load()
	r := rt.match([]byte("GET"), t.name, t.path)
	if r == nil || !r.cache || r.pool == nil {
		return nil
	}
	rules := rt.rulesFor(r)
	if rules != nil && rules.Key != nil {
		t.setQuery(rules.Key.Query(t.query))
	}
	if r.sortParams {
		t.setQuery(cachestore.SortQuery(t.query))
	}
	key := policyBaseKeyIn(nil, rules, &t, scheme)
	if keyHasExtra(rules) {
		return []purge.Target{{Kind: purge.KindPrefix, Value: key + "\x00"}}
	}
	return []purge.Target{{Kind: purge.KindURL, Value: key}}
}

// applyPurgeLocally purges url and what it resolves to on this node only (a node without a
// purge service), and clears their pass marks.
func (p *pipeline) applyPurgeLocally(url string, soft bool) {
	p.clearMarks(url)
	purgeTarget{p}.PurgeURL(url, soft)
	for _, t := range p.purgeTargets(url) {
		switch t.Kind {
		case purge.KindURL:
			p.clearMarks(t.Value)
			purgeTarget{p}.PurgeURL(t.Value, soft)
		case purge.KindPrefix:
			purgeTarget{p}.PurgePrefix(t.Value, soft)
		}
	}
}
