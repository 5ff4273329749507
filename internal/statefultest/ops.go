package statefultest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// paths is the URL universe: every class of the origin, few enough that sequences revisit
// them (hits, revalidations, purges of stored objects), /big/ enough to overflow 1 MiB.
var paths = func() []string {
	var out []string
	add := func(prefix string, n int) {
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
	}
	add("/a/", 6)
	add("/b/", 6)
	add("/v/", 4)
	add("/s/", 4)
	add("/big/", 16)
	return out
}()

var (
	prefixes  = []string{"/a/", "/b/", "/v/", "/s/", "/big/", "/"}
	tags      = []string{"g0", "g1", "g2", "all-objects"}
	xvValues  = []string{"", "one", "two", "three", "four", "five"} // "" sends no X-V
	encodings = []string{"", "gzip", "zstd", "gzip, zstd", "identity", "br"}
)

type opKind uint8

const (
	opGet opKind = iota
	opPurge
	opSleep
	opJoin  // a new member joins
	opLeave // a member leaves gracefully
	opKill  // a member dies without a word
	opPost  // an unsafe request to a cache route: the origin changes the resource
)

// op is one operation. node picks a live member (modulo their number) at run time, so a
// shrunk sequence stays runnable.
type op struct {
	kind opKind
	node int
	// get
	path, xv, ae string
	// purge
	purgeKind string // url, prefix, key, all
	value     string // path, prefix or tag
	soft      bool
	method    bool // the PURGE method on the data port (url only) instead of the API
	// sleep
	d time.Duration
	// join, leave, kill: wait until the members agree on the membership again
	settle bool
	// get and purge: how the target is spelled (spellings), one object whatever the spelling
	spell uint8
}

// The spellings of one target that RFC 3986 section 6.2.2 makes equivalent and the cache key
// folds (cachestore.Key): a request or purge spelled any of these ways names the same object.
var (
	hostSpellings = []string{host, "WWW.Test", host + ":80", host + "."}
	pathSpellings = []func(string) string{
		func(p string) string { return p },
		func(p string) string { return fmt.Sprintf("/%%%x%s", p[1], p[2:]) }, // "/%61/0": an unreserved letter escaped
		func(p string) string { return fmt.Sprintf("/%%%X%s", p[1], p[2:]) },
		// Not p + "?": RFC 3986 section 6.2.3 does not make an empty query equivalent to
		// none, and the key keeps its "?" (edge TestNode_emptyQueryIsATargetOfItsOwn).
	}
)

// target spells path and its host as o.spell says.
func (o op) target(path string) (hostName, target string) {
	return hostSpellings[int(o.spell)/len(pathSpellings)%len(hostSpellings)], pathSpellings[int(o.spell)%len(pathSpellings)](path)
}

func (o op) String() string {
	switch o.kind {
	case opGet:
		h, p := o.target(o.path)
		return fmt.Sprintf("GET %s (Host %s) via #%d X-V=%q Accept-Encoding=%q", p, h, o.node, o.xv, o.ae)
	case opPurge:
		how := "API"
		if o.method {
			how = "PURGE method"
		}
		mode := "hard"
		if o.soft {
			mode = "soft"
		}
		return fmt.Sprintf("purge %s %s %q via #%d %s", mode, o.purgeKind, o.spelled(), o.node, how)
	case opSleep:
		return fmt.Sprintf("sleep %v", o.d)
	case opPost:
		h, p := o.target(o.path)
		return fmt.Sprintf("POST %s (Host %s) via #%d", p, h, o.node)
	case opJoin:
		return "join a new member" + settled(o.settle)
	case opLeave:
		return fmt.Sprintf("member #%d leaves%s", o.node, settled(o.settle))
	default:
		return fmt.Sprintf("member #%d is killed%s", o.node, settled(o.settle))
	}
}

func settled(settle bool) string {
	if settle {
		return ", and the others see it"
	}
	return ""
}

// step is a batch of operations run at once (purges racing fills).
type step []op

func (s step) String() string {
	parts := make([]string, len(s))
	for i, o := range s {
		parts[i] = o.String()
	}
	return strings.Join(parts, " || ")
}

// generate draws a sequence of about ops operations. membership enables join, leave and
// kill steps (a cluster).
func generate(r *rand.Rand, ops int, membership bool) []step {
	var seq []step
	for n := 0; n < ops; {
		var s step
		switch x := r.IntN(100); {
		case x < 3 && membership:
			s = step{{kind: opJoin, settle: r.IntN(2) == 0}}
		case x < 5 && membership:
			s = step{{kind: opLeave, node: 1 + r.IntN(8), settle: r.IntN(2) == 0}}
		case x < 7 && membership:
			s = step{{kind: opKill, node: 1 + r.IntN(8), settle: r.IntN(2) == 0}}
		case x < 10:
			s = step{{kind: opSleep, d: time.Duration(50+r.IntN(700)) * time.Millisecond}}
		case x < 14:
			// An unsafe request, sometimes racing reads of its URL (RFC 9111 section 4.4).
			g := randomGet(r)
			s = step{{kind: opPost, node: r.IntN(8), path: g.path, spell: randomSpelling(r)}}
			for r.IntN(2) == 0 {
				g.node = r.IntN(8)
				s = append(s, g)
			}
		case x < 30:
			// A purge racing fills and hits of what it matches.
			p := randomPurge(r)
			s = step{p}
			for range 1 + r.IntN(4) {
				g := randomGet(r)
				if p.purgeKind == "url" && r.IntN(2) == 0 {
					g.path = strings.TrimPrefix(p.value, "http://www.test")
				}
				s = append(s, g)
			}
			r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		case x < 38:
			// Many clients of one URL at once, each with its own variant and encoding: one
			// coalesced fill, and the followers that select another variant must not share it.
			first := randomGet(r)
			s = step{first}
			for range 3 + r.IntN(8) {
				g := randomGet(r)
				g.path = first.path
				s = append(s, g)
			}
		default:
			s = step{randomGet(r)}
			for r.IntN(3) == 0 {
				s = append(s, randomGet(r))
			}
		}
		seq = append(seq, s)
		n += len(s)
	}
	return seq
}

func randomGet(r *rand.Rand) op {
	return op{kind: opGet, node: r.IntN(8), path: paths[r.IntN(len(paths))],
		xv: xvValues[r.IntN(len(xvValues))], ae: encodings[r.IntN(len(encodings))], spell: randomSpelling(r)}
}

// randomSpelling mostly spells targets plainly, so that plain requests hit what others filled.
func randomSpelling(r *rand.Rand) uint8 {
	if r.IntN(3) > 0 {
		return 0
	}
	return uint8(r.IntN(len(hostSpellings) * len(pathSpellings)))
}

// spelled is the purge's value as sent: a URL spelled as o.spell says, a prefix with its host
// spelled so, a tag as it is.
func (o op) spelled() string {
	switch o.purgeKind {
	case "url":
		h, p := o.target(strings.TrimPrefix(o.value, "http://"+host))
		return "http://" + h + p
	case "prefix":
		h := hostSpellings[int(o.spell)/len(pathSpellings)%len(hostSpellings)]
		return "http://" + h + strings.TrimPrefix(o.value, "http://"+host)
	}
	return o.value
}

func randomPurge(r *rand.Rand) op {
	o := op{kind: opPurge, node: r.IntN(8), soft: r.IntN(4) == 0, spell: randomSpelling(r)}
	switch x := r.IntN(10); {
	case x < 4:
		o.purgeKind, o.value = "url", "http://www.test"+paths[r.IntN(len(paths))]
		o.method = r.IntN(2) == 0
	case x < 6:
		o.purgeKind, o.value = "prefix", "http://www.test"+prefixes[r.IntN(len(prefixes))]
	case x < 9:
		o.purgeKind, o.value = "key", tags[r.IntN(len(tags))]
	default:
		o.purgeKind = "all"
	}
	return o
}

// matches lists the paths a purge covers.
func (o op) matches() []string {
	var out []string
	for _, p := range paths {
		u := "http://www.test" + p
		var hit bool
		switch o.purgeKind {
		case "url":
			hit = u == o.value
		case "prefix":
			hit = strings.HasPrefix(u, o.value)
		case "key":
			hit = o.value == "all-objects" || tagOf(p) == o.value
		default:
			hit = true
		}
		if hit {
			out = append(out, p)
		}
	}
	return out
}
