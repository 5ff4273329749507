package gslb

import (
	"encoding/binary"
	"slices"
	"time"
)

// replyCache keeps the packed replies one UDP reader sent, so that a query seen before is
// answered by copying bytes and patching the ID instead of decoding, choosing and packing.
//
// A reply is a function of the query's bytes after the ID, the client's address (its region
// and seed when the query carries no client subnet), the edge snapshot and the rotation, and
// of nothing else; the key holds all four, so a hit sends exactly the bytes ServeDNS would.
// The rotation enters as rot mod the LCM of 1..answers: the order of a tier of k edges, k at
// most answers, depends only on rot mod k. Fail-open answers rotate over every edge, so they
// are not kept. Each reader owns its cache: no locks, and a snapshot change empties it.
type replyCache struct {
	sn      *snapshot
	period  uint64 // 0 turns the cache off
	entries map[string]cachedReply
	key     []byte
	// A stream in which queries do not repeat (a random-subdomain flood, a scan) would pay for
	// keeping each reply, a copy of the key and of the packet, for nothing. So the cache counts
	// hits and lookups over windows of replyCacheEntries lookups; after a window in which fewer
	// than one in cacheHitFloor lookups hit, it keeps only one miss in cacheSample (the
	// sample still catches queries that start repeating), and keeps every miss again after a
	// window that hit more.
	lookups, hits, misses uint32
	sampling              bool
}

// cacheHitFloor and cacheSample: below one hit in cacheHitFloor lookups a window counts as a
// stream of new queries, and then one miss in cacheSample is kept.
const (
	cacheHitFloor = 8
	cacheSample   = 16
)

type cachedReply struct {
	packet    []byte
	qtype     uint16
	rcode     int
	region    string
	truncated bool
}

// replyCacheEntries bounds a reader's cache; when full it starts over. Keys include the
// client address, so a scan of random clients cannot grow it past this.
const replyCacheEntries = 4096

// maxCachedAnswers is the largest answers setting cached: the LCM of 1..12 is 27720 rotation
// slots per query, already more than a cache of this size holds for one name.
const maxCachedAnswers = 12

func newReplyCache(answers int) *replyCache {
	c := &replyCache{entries: make(map[string]cachedReply)}
	if answers <= maxCachedAnswers {
		c.period = 1
		for k := uint64(2); k <= uint64(answers); k++ {
			c.period = lcm(c.period, k)
		}
	}
	return c
}

func lcm(a, b uint64) uint64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// lookupKey builds the key of packet from this client with this rotation into c.key.
func (c *replyCache) lookupKey(packet []byte, w *udpWriter, rot uint64) []byte {
	k := append(c.key[:0], packet[2:]...)
	a := w.remote.Addr().As16()
	k = append(k, a[:]...)
	k = binary.BigEndian.AppendUint64(k, rot%c.period)
	c.key = k
	return k
}

// serve answers packet from the cache or through ServeDNS, keeping what ServeDNS sent.
func (c *replyCache) serve(s *Server, packet []byte, w *udpWriter, rot uint64) {
	if sn := s.edges.Load(); sn != c.sn {
		clear(c.entries)
		c.sn = sn
	}
	key := c.lookupKey(packet, w, rot)
	if c.lookups++; c.lookups == replyCacheEntries {
		c.sampling = c.hits*cacheHitFloor < c.lookups
		c.lookups, c.hits = 0, 0
	}
	if e, ok := c.entries[string(key)]; ok {
		c.hits++
		start := time.Now()
		out := append(w.out[:0], e.packet...)
		copy(out, packet[:2]) // the ID
		if e.truncated {
			s.metrics.truncated.Inc()
		}
		s.metrics.observe(e.qtype, e.rcode, e.region, time.Since(start))
		if _, err := w.Write(out); err != nil {
			s.log.Debug("gslb: write reply", "client", w.remote, "err", err)
		}
		return
	}
	r, ok := w.unpack(packet)
	if !ok {
		return
	}
	w.sent = nil
	info, ok := s.serve(w, r, rot)
	if !ok || w.sent == nil || info.failOpen || (info.sn != nil && info.sn != c.sn) {
		return // a SetEdges raced the answer: it belongs to no cached snapshot
	}
	if c.misses++; c.sampling && c.misses%cacheSample != 0 {
		return
	}
	if len(c.entries) >= replyCacheEntries {
		clear(c.entries)
	}
	c.entries[string(key)] = cachedReply{packet: slices.Clone(w.sent), qtype: info.qtype, rcode: info.rcode,
		region: info.region, truncated: info.truncated}
}
