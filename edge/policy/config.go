package policy

import (
	"net/netip"
	"time"
)

// Config is the policy of one route, after conf has merged the node-wide defaults into it.
// The zero value is no policy: Compile returns Rules whose parts are all nil.
type Config struct {
	TTL      TTL
	Stale    Stale
	Key      Key
	Cookies  Cookies
	Request  FieldRules // before the origin
	Response FieldRules // before the client
	Rewrite  Rewrite
	Redirect Redirect
	Access   Access
	// MaxBodyBytes bounds a request body on the route (nginx client_max_body_size); a larger
	// one is answered 413. 0 means the node's limits.max_body_bytes.
	MaxBodyBytes int64
	// PathPrefix is the route's match.path_prefix: what ${path_after_prefix} and a
	// prefix redirect cut from the path. "" means "/" is cut from nothing.
	PathPrefix string
}

// TTL is the operator's freshness (nginx proxy_cache_valid, Varnish beresp.ttl).
type TTL struct {
	// Status is the freshness lifetime by status code used when the origin gives no explicit
	// freshness (RFC 9111 section 4.2.1: max-age, s-maxage, Expires), or always with
	// Override. A status written here is stored even if RFC 9111 would not call it
	// heuristically cacheable (negative caching of 404, 410, 301, 302).
	Status map[int]time.Duration
	// Override makes Status win over the origin's own freshness (an explicit opt-in).
	Override bool
	// Min and Max clamp every stored lifetime on the route, whatever its source. 0 is no clamp.
	Min, Max time.Duration
}

// Stale holds the stale windows of a route (RFC 5861) when the origin states none; 0 keeps the
// node's cache.stale_while_revalidate and cache.stale_if_error.
type Stale struct {
	WhileRevalidate time.Duration
	IfError         time.Duration
}

// Key shapes the cache key of a route and the target sent to the origin.
type Key struct {
	// IgnoreParams are query parameter names dropped from the key and from the origin's
	// target: a name, a prefix written "utm_*", or "*" for every parameter.
	IgnoreParams []string
	// IncludeHeaders and IncludeCookies are request field and cookie names whose values are
	// added to the key (a Vary the origin does not send).
	IncludeHeaders []string
	IncludeCookies []string
	// IgnoreHost keys the route without its host, for one site served under several names.
	IgnoreHost bool
}

// Cookies is the cookie handling of a route.
type Cookies struct {
	StripRequest   bool     // remove Cookie from requests before the origin
	StripSetCookie bool     // remove Set-Cookie from storable responses, so they are stored
	BypassIf       []string // cookie names (or prefix*) whose presence passes the request
}

// FieldRules edits fields of a message: Remove first, then Set (replace every line), then Add
// (one more line). Values may hold variables (see Vars).
type FieldRules struct {
	Set    map[string]string
	Add    map[string]string
	Remove []string
}

// Rewrite changes the path before the origin: StripPrefix is cut, then AddPrefix put in front
// (both: replace one prefix with another). The cache key follows the rewritten target.
type Rewrite struct {
	StripPrefix string
	AddPrefix   string
}

// Redirect answers the route with a redirect instead of going to an origin. Without Regex,
// ${path_after_prefix} is the path after the route's path_prefix; with Regex, $1..$9 are its
// groups on the path. Status is 301, 302, 303, 307 or 308; 0 means 301.
type Redirect struct {
	To     string
	Regex  string
	Status int
}

// Access is the route's client address lists: a client in Deny, or not in a non-empty Allow,
// is answered 403.
type Access struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}
