package loadtest

import (
	"net/http"
	"strconv"
	"strings"
)

// Scenario URL layout. Keyed scenarios address objects as <base><prefix><key>, with prefix
// "/obj/" by default, so an origin that serves any path under the prefix can back them all:
//
//	hit       <base>/obj/<n>            n cycles over Keys, so after one pass every request can hit
//	zipf      <base>/obj/<n>            n drawn from Zipf(Keys, s): a realistic hot/cold mix
//	miss      <base>/obj/miss-<run>-<seq>   never repeats, so every request misses
//	stampede  <base>/obj/stampede-<run>-<k> Burst requests share key k and are due together
//
// Bases are used round-robin, so listing every node spreads the load and lets a test kill a
// node mid-run (failover is orchestrated outside this package).

// StaticTargets cycles through ts in order.
func StaticTargets(ts []Target) TargetFunc {
	return func(seq uint64) Target { return ts[seq%uint64(len(ts))] }
}

// KeySpace describes the object URLs the generated scenarios request.
type KeySpace struct {
	// Bases are URL prefixes such as "http://127.0.0.1:8080"; at least one is required.
	Bases []string
	// Prefix goes between base and key; empty means "/obj/".
	Prefix string
	// Method is the request method; empty means GET.
	Method string
	// Header is set on every generated target; nil is fine.
	Header http.Header
}

func (ks KeySpace) target(seq uint64, key string) Target {
	base := strings.TrimSuffix(ks.Bases[seq%uint64(len(ks.Bases))], "/")
	prefix := ks.Prefix
	if prefix == "" {
		prefix = "/obj/"
	}
	method := ks.Method
	if method == "" {
		method = http.MethodGet
	}
	return Target{Method: method, URL: base + prefix + key, Header: ks.Header}
}

// URL is the address of key on the first base, as a purge names it.
func (ks KeySpace) URL(key string) string { return ks.target(0, key).URL }

// HitTargets cycles over keys 0..keys-1 (spread over the bases), so the working set is small
// and, once warm, every request is a cache hit.
func HitTargets(ks KeySpace, keys int) TargetFunc {
	n := uint64(max(keys, 1))
	nb := uint64(len(ks.Bases))
	return func(seq uint64) Target {
		// Advance the key once per round over the bases so every node sees every key.
		return ks.target(seq, strconv.FormatUint(seq/nb%n, 10))
	}
}

// MissTargets never repeats a URL; run keeps separate runs from hitting each other's objects.
func MissTargets(ks KeySpace, run string) TargetFunc {
	return func(seq uint64) Target {
		return ks.target(seq, "miss-"+run+"-"+strconv.FormatUint(seq, 10))
	}
}

// ZipfTargets draws each request's key from z, reproducibly from seed and seq.
func ZipfTargets(ks KeySpace, z *Zipf, seed uint64) TargetFunc {
	return func(seq uint64) Target {
		return ks.target(seq, strconv.Itoa(z.Rank(uniform(seed, seq))))
	}
}

// StampedeTargets gives burst consecutive requests the same never-seen key. Paired with a
// BurstPacer of the same burst they are due at one instant: a thundering herd on a cold object
// that request coalescing must absorb.
func StampedeTargets(ks KeySpace, burst int, run string) TargetFunc {
	b := uint64(max(burst, 1))
	return func(seq uint64) Target {
		return ks.target(seq, "stampede-"+run+"-"+strconv.FormatUint(seq/b, 10))
	}
}
