package httpcache

import "time"

// Policy holds the operator's freshness defaults; the zero value is usable.
type Policy struct {
	HeuristicFraction    float64       // of (Date - Last-Modified); 0 means 0.1
	HeuristicMax         time.Duration // cap on heuristic lifetime; 0 means 24h
	DefaultTTL           time.Duration // lifetime of a storable 200 with no explicit freshness and no Last-Modified; 0 means none
	TargetedField        string        // RFC 9213 field for Shoal only; "" means "Shoal-Cache-Control"
	StaleWhileRevalidate time.Duration // used when the response carries none; 0 means none
	StaleIfError         time.Duration // used when the response carries none; 0 means none
}

// Request is the part of a client request the caching rules look at.
type Request struct {
	Method string
	Header Header
}

// Response is a stored or received response with the times RFC 9111 4.2.3 needs.
type Response struct {
	Status int
	// Header is the response's fields; when it is nil, Packed holds them (a stored response,
	// read in place without unpacking it). Fields gives either as a Header.
	Header       Header
	Packed       PackedHeader
	RequestTime  time.Time // when the request that produced it was sent (request_time)
	ResponseTime time.Time // when it was received (response_time)
	// Date, when not zero, is the Date field already parsed (see DateOf): a cache sets it
	// once at store time so that evaluating every hit does not parse the field again. It
	// must agree with Header; zero means "parse Header".
	Date time.Time
}

// StoreDecision is the verdict of Policy.Storable and what the cache must
// remember about the response to use it later.
type StoreDecision struct {
	// The flags come first and together: every stored object keeps a StoreDecision, and
	// packing them saves padding on each.
	Store                bool
	Heuristic            bool
	MustRevalidate       bool // never serve stale without validating
	NoCache              bool // store, but validate before each use
	Immutable            bool
	NoTransform          bool          // no-transform: the edge must not recompress or otherwise alter the content
	Reason               string        // why not stored, e.g. "no-store", "private"
	Lifetime             time.Duration // freshness lifetime, RFC 9111 4.2.1 or heuristic 4.2.2
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	NoCacheFields        []string // header fields to strip when serving without validation
	PrivateFields        []string // header fields never stored
}

// State says how a stored response may be used for a request.
type State int

const (
	Fresh                State = iota // serve as is
	StaleWhileRevalidate              // serve stale now and revalidate once in the background
	MustValidate                      // validate with the origin before use
)

// Use is the verdict of Policy.Evaluate.
type Use struct {
	State        State
	Age          time.Duration // current age
	TTL          time.Duration // freshness remaining (negative when stale)
	StaleIfError bool          // stale may be served if validation fails with 500/502/503/504 or a connection error
	OnlyIfCached bool          // request had only-if-cached: never contact the origin (504 when unusable)
}
