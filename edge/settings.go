package edge

import (
	"fmt"
	"net/netip"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/origin"
)

// settings is everything a reload replaces, swapped as one value.
type settings struct {
	cfg    *conf.Config
	routes []*route
	pools  map[string]*origin.Pool
	policy httpcache.Policy
	// consumed are the cache-control fields meant for Shoal alone, removed before responses
	// go downstream (RFC 9213 targeted field, Surrogate-Control).
	consumed []string
	// compressor and encodings are nil when compression is off.
	compressor *compress.Compressor
	encodings  []compress.Encoding
	// trustedProxies are the clients whose proxy-only fields are kept (trusted_proxies).
	trustedProxies []netip.Prefix
	// rules are the routes' policies by route index, nil for a route without (issue 17);
	// pages are the error pages and the maintenance switch.
	rules []*policy.Rules
	pages policy.ErrorPages
	// heads are the templates of hits' response heads rendered under these settings.
	heads *hitHeads
}

func (n *Node) buildRuntime(cfg *conf.Config) (*settings, error) {
	rt := &settings{cfg: cfg, pools: map[string]*origin.Pool{}, policy: policyFor(cfg.Cache), heads: newHitHeads()}
	rt.consumed = rt.policy.ConsumedFields()
	rt.trustedProxies = trustedPrefixes(cfg.TrustedProxies)
	for _, name := range cfg.Compression.Encodings {
		if enc, ok := compress.ParseEncoding(name); ok && enc != compress.Identity {
			rt.encodings = append(rt.encodings, enc)
		}
	}
	if len(rt.encodings) > 0 {
		rt.compressor = compress.New(cfg.Compression.Level)
	}
	for name, pc := range cfg.Origins {
		p, err := origin.NewPool(pc, origin.Options{Logger: n.log, Registerer: n.registry})
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("origin %s: %w", name, err)
		}
		rt.pools[name] = p
	}
	rules, err := compileRules(cfg)
	if err != nil {
		rt.close()
		return nil, err
	}
	rt.rules, rt.pages = rules, cfg.ErrorPagesPolicy()
	for i, rc := range cfg.Routes {
		r, err := compileRoute(i, rc, rt.pools, cfg.Origins)
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("routes[%d]: %w", i, err)
		}
		rt.routes = append(rt.routes, r)
	}
	return rt, nil
}

func policyFor(c conf.Cache) httpcache.Policy {
	return httpcache.Policy{
		HeuristicFraction:    c.HeuristicFraction,
		HeuristicMax:         c.HeuristicMax.D(),
		DefaultTTL:           c.DefaultTTL.D(),
		TargetedField:        c.TargetedField,
		StaleWhileRevalidate: c.StaleWhileRevalidate.D(),
		StaleIfError:         c.StaleIfError.D(),
	}
}

func (rt *settings) start() {
	for _, p := range rt.pools {
		p.Start()
	}
}

func (rt *settings) close() {
	for _, p := range rt.pools {
		p.Close()
	}
}

// match returns the first route for the request, or nil.
func (rt *settings) match(method []byte, host string, path string) *route {
	for _, r := range rt.routes {
		if r.matches(method, host, path) {
			return r
		}
	}
	return nil
}
