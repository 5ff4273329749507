package conf

// CacheKey shapes a cache route's key. Every option that folds two requests into one object
// also rewrites the request sent to the origin, so the key always describes what the origin
// was asked (issue 13).
type CacheKey struct {
	// SortParams orders query parameters by name (stable for repeated names, empty ones
	// dropped) in the key and in the request-target sent to the origin. Off by default:
	// ?a=1&b=2 and ?b=2&a=1 are then two objects, since an origin may tell them apart.
	SortParams bool `yaml:"sort_params"`
	// IgnoreParams drops query parameters by name, by prefix ("utm_*") or all ("*") from the
	// key and from the target sent to the origin.
	IgnoreParams []string `yaml:"ignore_params"`
	// IncludeHeaders and IncludeCookies add the named request fields and cookies to the key.
	IncludeHeaders []string `yaml:"include_headers"`
	IncludeCookies []string `yaml:"include_cookies"`
	// IgnoreHost keys the route without its host (one site under several names).
	IgnoreHost bool `yaml:"ignore_host"`
}

// trustedProxies checks the top-level trusted_proxies list: CIDRs of front proxies (a load
// balancer ahead of the node) whose forwarding fields the node keeps.
func (v *validator) trustedProxies(list []string) {
	v.cidrs("trusted_proxies", list)
}
