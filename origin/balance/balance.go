// Package balance holds the server-choice algorithms of an origin pool: smooth weighted round
// robin, weighted least connections, random with two choices, weighted rendezvous hashing (for
// source and URI hashing) and first-available. It knows nothing of HTTP or health: the caller
// passes only the servers that may take the request, with their effective weights, and a
// Balancer is not safe for concurrent use (the pool serialises Pick under its own lock).
package balance

import "fmt"

// Candidate is one server that may take the request.
type Candidate struct {
	Index  int    // the server's stable position in its pool, 0 ≤ Index < n; per-server state is keyed by it
	Weight int    // effective weight; values below 1 are treated as 1
	Active int    // requests in flight on the server
	Hash   uint64 // stable identity of the server, for the hashing balancers
}

// Balancer picks one of the candidates for a request. key is the request's hash (client address
// or URI) and matters only to the hashing balancers. Pick returns an index into cands, or -1 when
// cands is empty. Candidates must be given in ascending Index order. Implementations are not safe
// for concurrent use.
type Balancer interface {
	Pick(cands []Candidate, key uint64) int
}

// Names of the balancers, as written in the configuration.
const (
	RoundRobin = "roundrobin"
	LeastConn  = "leastconn"
	Random2    = "random2"
	Source     = "source"
	URI        = "uri"
	First      = "first"
)

// Known reports whether name is a balancer New accepts.
func Known(name string) bool {
	switch name {
	case RoundRobin, LeastConn, Random2, Source, URI, First:
		return true
	}
	return false
}

// New returns the balancer called name for a pool of n servers. rand must return uniformly
// distributed values; it is called only under the caller's serialisation, so it need not be safe
// for concurrent use. An empty name means round robin.
func New(name string, n int, rand func() uint64) (Balancer, error) {
	switch name {
	case "", RoundRobin:
		return newSmoothRoundRobin(n), nil
	case LeastConn:
		return &leastConn{}, nil
	case Random2:
		if rand == nil {
			return nil, fmt.Errorf("balance: %s needs a random source", name)
		}
		return &randomTwo{rand: rand}, nil
	case Source, URI:
		return Rendezvous{}, nil
	case First:
		return firstAvailable{}, nil
	}
	return nil, fmt.Errorf("balance: unknown balancer %q (want %s, %s, %s, %s, %s or %s)",
		name, RoundRobin, LeastConn, Random2, Source, URI, First)
}

func weightOf(c Candidate) int64 {
	if c.Weight < 1 {
		return 1
	}
	return int64(c.Weight)
}

// lessLoaded reports whether a carries fewer requests per unit of weight than b, comparing
// a.Active/a.Weight < b.Active/b.Weight without division.
func lessLoaded(a, b Candidate) bool {
	return int64(a.Active)*weightOf(b) < int64(b.Active)*weightOf(a)
}
