package edge

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// A hit's response head is the same for every request of one stored object but for Age and
// Cache-Status: status, the origin's Date, the stored fields less those a cache drops, Via,
// and the route's response field rules. Building it field by field cost about a third of a
// hit (a parse to seed Date, then a case-insensitive filter and a fasthttp Add per field, then
// the rules: one walk to remove, one Add per set). So it is rendered once into a template
// and a hit copies the template (ResponseHeader.CopyTo: plain copies, no parsing) and
// patches Age and Cache-Status in place.
//
// Templates live in a small direct-mapped table per settings (a reload starts a new one),
// not in the object: only objects that are hit get one, and their memory is bounded
// (hitHeadSlots templates of a few hundred bytes) whatever the cache holds. A slot goes to a
// new object only when its template was not used since the last time another object asked
// for it (one bit of CLOCK), so one-hit objects do not push hot ones out.
//
// A template costs about 40 allocations and 2.6 KiB to render, where a head written field by
// field costs none, so it pays only for an object hit again while its template lives. On a
// cache far larger than the table (a Zipf mix over a full 1 GiB cache), most hits are on
// objects whose template would be pushed out before their next hit: rendering one per such
// hit made 2.6 KiB of garbage per request, and the collections it caused put milliseconds at
// p99. So a slot is claimed only on the second hit of the same shape in a row through that
// slot (a doorkeeper: the slot remembers the last shape that asked, as a tag), and a patched
// copy (below) is made only for the second hit of one second.
//
// The template is an HTTP/1.1 head (fasthttp's, which the HTTP/1.1 listeners copy as is);
// the HTTP/2 listener takes its fields (copyHitHead).

// hitHeadSlots is the table's size: a power of two.
const hitHeadSlots = 4096

// noHitHeads makes new settings without templates, every hit's head written field by
// field (tests compare the two).
var noHitHeads = false

func newHitHeads() *hitHeads {
	if noHitHeads {
		return nil
	}
	return new(hitHeads)
}

type hitHeads struct {
	slots [hitHeadSlots]atomic.Pointer[hitHead]
	// asked holds, per slot, the tag (shapeTag) of the last shape that found no template
	// there and was not given one: the doorkeeper. A tag is an address, not a pointer: it
	// keeps nothing alive, and a reused address only renders a template one hit early.
	asked [hitHeadSlots]atomic.Uintptr
}

// hitHead is one object's rendered head. It is never changed once stored in a slot: hits on
// other goroutines copy from it concurrently.
type hitHead struct {
	meta  *cachestore.Meta // the stored object (identity representation) it was rendered for
	rules *policy.Rules    // the request's response rules the head was asked with, or nil
	// folded: rules are rendered in (constant values, no field written after the head).
	folded bool
	vary   bool // Vary: Accept-Encoding added
	// prior is the stored response's Cache-Status (storedList): each hit's member
	// is written after it.
	prior string
	used  atomic.Bool
	h     fasthttp.ResponseHeader
	// patched is h with the Age and Cache-Status of the latest hit, for the hits after it:
	// both change once a second at most (Age and ttl count seconds), so a hit in the same
	// second takes one plain copy instead of a copy and two field edits, each of which
	// searched and rewrote the head (a fifth of the pipeline's time on a 1 KiB hit).
	patched atomic.Pointer[patchedHead]
	// unpatched is the Age (plus one, so that zero is none) of the latest hit that edited
	// its own copy without making a patched one: the next hit with the same Age makes it, so
	// an object hit once a second allocates nothing. Only when to make a copy depends on it:
	// which copy a hit may take is decided by patched's own age and status.
	unpatched atomic.Int64
}

// patchedHead is a template with one hit's Age and Cache-Status in place; never changed once
// stored.
type patchedHead struct {
	age    int64
	status cacheOutcome
	h      fasthttp.ResponseHeader
}

// slot is the slot of one shape of an object's head: a Fibonacci hash of the addresses of
// its meta and rules, so that the same object asked with and without rules (by a client and
// by a peer) takes two slots instead of evicting one another.
func (t *hitHeads) slot(m *cachestore.Meta, rules *policy.Rules, vary bool) *atomic.Pointer[hitHead] {
	return &t.slots[slotIndex(shapeTag(m, rules, vary))]
}

// shapeTag identifies one shape of an object's head: the addresses of its meta and rules,
// and vary. Never zero for a non-nil meta.
func shapeTag(m *cachestore.Meta, rules *policy.Rules, vary bool) uintptr {
	p := uintptr(unsafe.Pointer(m)) ^ uintptr(unsafe.Pointer(rules))>>3
	if vary {
		p = ^p
	}
	return p
}

func slotIndex(tag uintptr) uint64 { return (uint64(tag) * 0x9E3779B97F4A7C15) >> (64 - 12) }

// find returns the template for this request's shape of the object, or nil. A nil return
// means the caller renders the head itself and may offer it with keep.
func (t *hitHeads) find(m *cachestore.Meta, rules *policy.Rules, vary bool) *hitHead {
	if t == nil {
		return nil
	}
	hh := t.slot(m, rules, vary).Load()
	if hh == nil || hh.meta != m || hh.rules != rules || hh.vary != vary {
		return nil
	}
	if !hh.used.Load() {
		hh.used.Store(true) // a store only the first time: hot slots stay read-only
	}
	return hh
}

// claim reports whether a new template of this shape may take its slot: the shape asked
// through this slot last time too (the doorkeeper; the first ask only records it), and the
// slot is empty, holds another shape of the same object, or its template was not used since
// the last claim (which clears the bit: a second chance).
func (t *hitHeads) claim(m *cachestore.Meta, rules *policy.Rules, vary bool) bool {
	tag := shapeTag(m, rules, vary)
	i := slotIndex(tag)
	if t.asked[i].Swap(tag) != tag {
		return false
	}
	hh := t.slots[i].Load()
	if hh == nil || hh.meta == m {
		return true
	}
	return !hh.used.Swap(false)
}

func (t *hitHeads) keep(hh *hitHead) { t.slot(hh.meta, hh.rules, hh.vary).Store(hh) }

// foldable reports whether response field rules can be rendered into a hit's template: no
// variable (the value would differ per request) and no field written after the template is
// copied (Age, Cache-Status, and the framing and range fields a HEAD or a Range sets).
func foldable(e *policy.FieldEdits) bool {
	if e.Variables() {
		return false
	}
	for _, name := range e.Names() {
		for _, late := range []string{"Age", "Cache-Status", "Content-Length", "Content-Range", "Content-Type"} {
			if strings.EqualFold(name, late) {
				return false
			}
		}
	}
	return true
}

// serverHead is an empty response head as fasthttp's server hands it to the handler with
// the listeners' options: no default Date (the origin's is sent), no default Content-Type,
// names as written. Templates start as copies of it because CopyTo also copies these
// options, and fasthttp sets the Date one only in its server: a template built from a
// zero header would make every hit send the node's Date instead of the origin's.
// It is nil if the one request did not reach the handler: hits then write their heads field
// by field.
var serverHead = sync.OnceValue(func() *fasthttp.ResponseHeader {
	seed := new(fasthttp.ResponseHeader)
	served := false
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.CopyTo(seed)
			served = true
		},
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
	}
	pipe := fasthttputil.NewPipeConns()
	client := pipe.Conn2()
	go func() {
		client.Write([]byte("GET / HTTP/1.1\r\nHost: seed\r\nConnection: close\r\n\r\n"))
		var discard [512]byte
		for {
			if _, err := client.Read(discard[:]); err != nil {
				break
			}
		}
		client.Close()
	}()
	srv.ServeConn(pipe.Conn1()) // returns once the one request is answered
	if !served {
		return nil
	}
	seed.SetStatusCode(0)
	return seed
})

// renderHitHead builds the template of a hit on obj for this request: writeHeadTo's head
// with Age 0 and this hit's Cache-Status (both patched per hit), then the rules when they
// fold. It returns nil when there is no seed (serverHead).
func (p *pipeline) renderHitHead(l *lookup, m *cachestore.Meta, rules *policy.Rules, prior string, write func(dst responseHead)) *hitHead {
	seed := serverHead()
	if seed == nil {
		return nil
	}
	hh := &hitHead{meta: m, rules: rules, vary: l.varyEncoding, prior: prior}
	seed.CopyTo(&hh.h)
	write(http1Head{&hh.h})
	if rules != nil && foldable(rules.Response) {
		buf := bufs.Get().(*scratch)
		buf.b = rules.Response.Apply(responseFieldsFold{&hh.h}, &policy.Vars{}, buf.b)
		bufs.Put(buf)
		hh.folded = true
	}
	return hh
}

// copyHitHead writes a template to the response with this hit's Age and Cache-Status. An
// HTTP/1.1 head takes a plain copy of the template's buffers (of its patched copy when this
// second's hits have one); another listener's head takes its fields.
func (p *pipeline) copyHitHead(x *exchange, l *lookup, hh *hitHead, age time.Duration) {
	dst := x.resp.Head()
	secs := int64(age.Seconds())
	if h1, ok := dst.(http1Head); ok {
		if ph := hh.patched.Load(); ph != nil && ph.age == secs && ph.status == l.status {
			ph.h.CopyTo(h1.ResponseHeader)
		} else {
			hh.h.CopyTo(h1.ResponseHeader)
			setInt(dst, "Age", secs)
			setCacheStatus(dst, hh.prior, l.status)
			// One copy per object and second (or outcome), made by its second hit: the hits
			// after it take it.
			if hh.unpatched.Swap(secs+1) == secs+1 {
				ph = &patchedHead{age: secs, status: l.status}
				h1.ResponseHeader.CopyTo(&ph.h)
				hh.patched.Store(ph)
			}
		}
	} else {
		dst.Reset()
		dst.SetStatusCode(hh.h.StatusCode())
		for k, v := range hh.h.All() {
			dst.AddBytesKV(k, v)
		}
		setInt(dst, "Age", secs)
		setCacheStatus(dst, hh.prior, l.status)
	}
	if hh.folded {
		l.sc.rulesDone = true // writeHitHead asks for rules only with a scratch
	}
}
