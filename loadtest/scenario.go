package loadtest

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Scenario URL layout. Keyed scenarios address objects as <base><prefix><key>, with prefix
// "/obj/" by default, so an origin that serves any path under the prefix can back them all:
//
//	hit       <base>/obj/<n>                 n cycles over keys: after one pass every hit is cached
//	zipf      <base>/obj/<n>                 n drawn from Zipf(keys, s): a realistic hot/cold mix
//	miss      <base>/obj/miss-<run>-<n>      never repeats, so every request misses
//	stampede  <base>/obj/stampede-<run>-<k>  burst consecutive requests share key k
//
// Request n goes to base n mod len(Bases), so listing every node spreads the load evenly and
// a test can kill a node mid-run (failover is orchestrated outside this package).
//
// The targeters are vegeta.Targeters: vegeta calls them from many workers at once, so each
// numbers its requests with an atomic counter; request n is the nth call, which for a paced
// attack is the nth hit of the schedule give or take the order in which workers start.

// KeySpace describes the object URLs the scenarios request.
type KeySpace struct {
	// Bases are URL prefixes such as "http://127.0.0.1:8080"; at least one is required.
	Bases []string
	// Prefix goes between base and key; empty means "/obj/".
	Prefix string
	// Method is the request method; empty means GET.
	Method string
	// Header is sent with every request, shared and never modified; a "Host" entry sets the
	// virtual host while connecting to the base's address.
	Header http.Header
}

// target fills t with the request for key, sent to base n.
func (ks KeySpace) target(t *vegeta.Target, n uint64, key string) error {
	if t == nil {
		return vegeta.ErrNilTarget
	}
	base := strings.TrimSuffix(ks.Bases[n%uint64(len(ks.Bases))], "/")
	prefix := ks.Prefix
	if prefix == "" {
		prefix = "/obj/"
	}
	t.Method = ks.Method
	if t.Method == "" {
		t.Method = http.MethodGet
	}
	t.URL, t.Header, t.Body = base+prefix+key, ks.Header, nil
	return nil
}

// URL is the address of key on the first base, as a purge names it.
func (ks KeySpace) URL(key string) string {
	var t vegeta.Target
	_ = ks.target(&t, 0, key)
	return t.URL
}

// keyed numbers the calls of a targeter and builds the key of call n with key.
func keyed(ks KeySpace, key func(n uint64) string) vegeta.Targeter {
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		n := next.Add(1) - 1
		return ks.target(t, n, key(n))
	}
}

// HitTargeter cycles over keys 0..keys-1, advancing the key once per round over the bases so
// every node sees every key; once warm, every request is a cache hit.
func HitTargeter(ks KeySpace, keys int) vegeta.Targeter {
	n, nb := uint64(max(keys, 1)), uint64(len(ks.Bases))
	return keyed(ks, func(i uint64) string { return strconv.FormatUint(i/nb%n, 10) })
}

// MissTargeter never repeats a URL; run keeps separate runs from hitting each other's objects.
func MissTargeter(ks KeySpace, run string) vegeta.Targeter {
	return keyed(ks, func(i uint64) string { return "miss-" + run + "-" + strconv.FormatUint(i, 10) })
}

// ZipfTargeter draws request n's key from z with the seed, so a run can be replayed.
func ZipfTargeter(ks KeySpace, z *Zipf, seed uint64) vegeta.Targeter {
	return keyed(ks, func(i uint64) string { return strconv.Itoa(z.Rank(uniform(seed, i))) })
}

// StampedeTargeter gives burst consecutive requests the same never-seen key. Paced by a Burst
// of the same size they are due at one instant: a thundering herd on a cold object that
// request coalescing must absorb.
func StampedeTargeter(ks KeySpace, burst int, run string) vegeta.Targeter {
	b := uint64(max(burst, 1))
	return keyed(ks, func(i uint64) string { return "stampede-" + run + "-" + strconv.FormatUint(i/b, 10) })
}
