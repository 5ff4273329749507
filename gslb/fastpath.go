package gslb

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// The fast path answers the query that makes up nearly all of the traffic, A or AAAA for a
// service name, straight from the packet's bytes into a reused reply buffer: no dns.Msg, no
// records, no allocation. Everything else, and every query it is not sure about, goes to the
// general path (unpack, ServeDNS, pack), whose answers it reproduces byte for byte; the tests
// compare the two on the same queries.

// Wire constants (RFC 1035 section 4.1, RFC 6891 section 6.1, RFC 7871 section 6).
const (
	flagRD         = 0x01 // third header byte
	flagAA         = 0x04 // third header byte
	flagCD         = 0x10 // fourth header byte
	optCodeECS     = 8
	optCodeCookie  = 10
	optCodePadding = 12
	ednsFlagDO     = 0x8000
	maxNameWire    = 255
)

// wireQuery is what the fast path reads from a query packet.
type wireQuery struct {
	questionEnd int // offset just past QTYPE and QCLASS
	nameEnd     int // offset just past the question name
	qtype       uint16
	edns        bool
	udpSize     int    // the client's EDNS buffer, at least 512
	do          bool   // DNSSEC OK
	ecs         []byte // the client subnet option's data, nil without one
	client      netip.Addr
	clientBits  int // SOURCE PREFIX-LENGTH; with ecs nil or 0 bits the resolver is the client
}

// parseWire reads packet as a plain query: QR clear, opcode QUERY, one question of class IN
// with an uncompressed name of letters, digits, '-' and '_', type A or AAAA, nothing in answer
// and authority, at most one additional record which must be an EDNS version 0 OPT owned by
// the root, holding only cookies, padding and at most one well-formed client subnet option, and no bytes after
// the message. name receives the question name in lower case and presentation form. ok is
// false for anything else; the caller then takes the general path, which knows every answer.
func parseWire(packet []byte, name []byte) (q wireQuery, lname []byte, ok bool) {
	if len(packet) < headerLen || packet[2]&(flagQR|0x78) != 0 { // QR, opcode
		return q, name, false
	}
	if binary.BigEndian.Uint32(packet[4:]) != 1<<16 || binary.BigEndian.Uint16(packet[8:]) != 0 {
		return q, name, false // QDCOUNT 1, ANCOUNT 0, NSCOUNT 0
	}
	arCount := binary.BigEndian.Uint16(packet[10:])
	if arCount > 1 {
		return q, name, false
	}
	off := headerLen
	lname = name[:0]
	for {
		if off >= len(packet) {
			return q, name, false
		}
		l := int(packet[off])
		off++
		if l == 0 {
			break
		}
		n := len(lname)
		if l > 63 || off+l > len(packet) || off-headerLen+l >= maxNameWire || n+l+1 > cap(lname) {
			return q, name, false
		}
		dst := lname[n : n+l+1]
		for i, c := range packet[off : off+l] {
			if dst[i] = nameByte[c]; dst[i] == 0 {
				return q, name, false // would need escaping in presentation form
			}
		}
		dst[l] = '.'
		lname = lname[:n+l+1]
		off += l
	}
	if len(lname) == 0 || off+4 > len(packet) {
		return q, name, false // the root, or no type and class
	}
	q.nameEnd = off
	q.qtype = binary.BigEndian.Uint16(packet[off:])
	if (q.qtype != dns.TypeA && q.qtype != dns.TypeAAAA) || binary.BigEndian.Uint16(packet[off+2:]) != dns.ClassINET {
		return q, name, false
	}
	off += 4
	q.questionEnd = off
	if arCount == 0 {
		return q, lname, off == len(packet)
	}
	// The OPT record: root owner, type 41, class = UDP size, TTL = ext-rcode, version, flags.
	if off+11 > len(packet) || packet[off] != 0 || binary.BigEndian.Uint16(packet[off+1:]) != dns.TypeOPT {
		return q, name, false
	}
	q.edns = true
	q.udpSize = max(int(binary.BigEndian.Uint16(packet[off+3:])), dns.MinMsgSize)
	if packet[off+6] != 0 { // version
		return q, name, false
	}
	q.do = binary.BigEndian.Uint16(packet[off+7:])&ednsFlagDO != 0
	rdLen := int(binary.BigEndian.Uint16(packet[off+9:]))
	off += 11
	if off+rdLen != len(packet) {
		return q, name, false
	}
	for off < len(packet) {
		if off+4 > len(packet) {
			return q, name, false
		}
		code, l := binary.BigEndian.Uint16(packet[off:]), int(binary.BigEndian.Uint16(packet[off+2:]))
		off += 4
		if off+l > len(packet) {
			return q, name, false
		}
		switch code {
		case optCodeECS:
			if q.ecs != nil || !q.parseECS(packet[off:off+l]) {
				return q, name, false
			}
		case optCodeCookie, optCodePadding:
			// Any length decodes, and the answer ignores them.
		default:
			return q, name, false // options the general path may refuse as malformed
		}
		off += l
	}
	return q, lname, true
}

// nameByte maps a byte of a question name to its lower case, and to 0 every byte the fast path
// leaves to the general path: all but letters, digits, '-' and '_'. A table lookup per byte
// instead of a chain of comparisons, and names written in place instead of appended: the
// name loop held most of parseWire's samples (perf annotate of the many-subnet load).
var nameByte = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			t[c] = byte(c)
		}
	}
	return t
}()

// parseECS reads a client subnet option of family 1 or 2 that RFC 7871 section 6 calls well
// formed: SCOPE 0, exactly the address bytes SOURCE PREFIX-LENGTH needs, no bits set past it.
func (q *wireQuery) parseECS(b []byte) bool {
	if len(b) < 4 || b[3] != 0 {
		return false
	}
	family, bits := binary.BigEndian.Uint16(b), int(b[2])
	var a16 [16]byte
	var addr netip.Addr
	switch {
	case family == 1 && bits <= 32 && len(b) == 4+(bits+7)/8:
		copy(a16[:4], b[4:])
		addr = netip.AddrFrom4([4]byte(a16[:4]))
	case family == 2 && bits <= 128 && len(b) == 4+(bits+7)/8:
		copy(a16[:], b[4:])
		addr = netip.AddrFrom16(a16)
	default:
		return false
	}
	if p, err := addr.Prefix(bits); err != nil || p.Addr() != addr {
		return false
	}
	q.ecs, q.client, q.clientBits = b, addr, bits
	return true
}

// fastScratch is what one UDP reader reuses from query to query on the fast path. It is owned
// by that reader alone.
type fastScratch struct {
	name []byte
	ips  []net.IP
	pick *pickScratch
	// queries caches the metric series by family and region id (len(regions) = none), filled
	// on first use, so that no label lookup is made per query.
	queries [numFams][]prometheus.Counter
	// With batch (a UDP reader's), answers are counted in pending, by the same index, and added
	// to their series by flushCounts once per batch, before the replies are sent: one atomic add
	// per series and batch instead of one per query.
	batch   bool
	pending [numFams][]uint64
	dirty   bool
}

// flushCounts adds the answers counted since the last call to their series.
func (sc *fastScratch) flushCounts() {
	if !sc.dirty {
		return
	}
	for f := range sc.pending {
		for rid, n := range sc.pending[f] {
			if n > 0 {
				sc.queries[f][rid].Add(float64(n))
				sc.pending[f][rid] = 0
			}
		}
	}
	sc.dirty = false
}

func newFastScratch(z *zone) *fastScratch {
	sc := &fastScratch{name: make([]byte, 0, maxNameWire), ips: make([]net.IP, 0, z.answers), pick: newPickScratch(z.answers)}
	for f := range sc.queries {
		sc.queries[f] = make([]prometheus.Counter, len(z.regions)+1)
		sc.pending[f] = make([]uint64, len(z.regions)+1)
	}
	return sc
}

// answerFast appends to out[:0] the reply ServeDNS would send over UDP (or TCP, with tcp) to
// this query from this client with this rotation, and counts it. ok is false when the query
// is not one the fast path answers (see parseWire), or when its answer is not a plain list of
// edges that fits: no healthy edge (fail open), no address of the family, or, over UDP, more
// than the client's buffer (truncation).
func (s *Server) answerFast(packet []byte, from netip.AddrPort, rot uint64, out []byte, sc *fastScratch, tcp bool) (reply []byte, ok bool) {
	q, lname, ok := parseWire(packet, sc.name)
	if !ok {
		return out, false
	}
	z := s.zone
	if own, exists := z.owners[string(lname)]; !exists || own.kind != kindService {
		return out, false
	}
	sn := s.edges.Load()
	if sn.failOpen {
		return out, false
	}

	// The client and its region, as edgeRecords finds them.
	c := client{addr: from.Addr().Unmap()}
	c.sourceBits = c.addr.BitLen()
	if q.ecs != nil && q.clientBits > 0 {
		c = client{addr: q.client, sourceBits: q.clientBits}
	}
	rid, bits := len(z.regions), 0
	if id, b, found := z.table.lookup(c.addr); found {
		rid, bits = id, b
	} else if c.addr.IsValid() {
		bits = z.table.unmatchedScope(c.addr)
	}
	fam := familyOf(q.qtype)
	var ips []net.IP
	scope := 0
	if sn.total[fam] > z.answers {
		scope = bits
		ips = pick(sn.tiers[rid][fam], z.answers, clientSeed(c.addr, c.sourceBits), rot, sc.ips[:0], sc.pick)
	} else {
		ips = pick(sn.tiers[rid][fam], z.answers, 0, rot, sc.ips[:0], sc.pick)
	}
	if len(ips) == 0 {
		return out, false // NODATA carries the SOA: the general path writes it
	}

	// Header: the query's ID, QR AA and its RD, its CD, NOERROR; one question, the answers, and
	// the OPT record when the query had one.
	out = append(out[:0], packet[0], packet[1], flagQR|flagAA|packet[2]&flagRD, packet[3]&flagCD,
		0, 1, 0, byte(len(ips)), 0, 0, 0, 0)
	if q.edns {
		out[11] = 1
	}
	out = append(out, packet[headerLen:q.questionEnd]...) // the question, in the query's spelling
	rdLen := byte(net.IPv4len)
	if fam == famV6 {
		rdLen = net.IPv6len
	}
	for _, ip := range ips {
		// The owner is a pointer to the question name (offset 12), as the general path compresses it.
		out = append(out, 0xc0, headerLen, byte(q.qtype>>8), byte(q.qtype), 0, byte(dns.ClassINET),
			byte(z.ttl>>24), byte(z.ttl>>16), byte(z.ttl>>8), byte(z.ttl), 0, rdLen)
		out = append(out, ip...)
	}
	if q.edns {
		var flags byte
		if q.do {
			flags = ednsFlagDO >> 8
		}
		optLen := 0
		if q.ecs != nil {
			optLen = 4 + len(q.ecs)
		}
		out = append(out, 0, 0, byte(dns.TypeOPT), byte(ourUDPSize>>8), byte(ourUDPSize&0xff), 0, 0, flags, 0,
			byte(optLen>>8), byte(optLen))
		if q.ecs != nil {
			// The client's subnet echoed with SCOPE PREFIX-LENGTH set (RFC 7871 section 7.2.1).
			out = append(out, 0, optCodeECS, byte(len(q.ecs)>>8), byte(len(q.ecs)))
			at := len(out)
			out = append(out, q.ecs...)
			if q.clientBits > 0 {
				out[at+3] = byte(scope)
			}
		}
	}
	limit := dns.MinMsgSize
	switch {
	case tcp:
		limit = dns.MaxMsgSize // RFC 7766: TCP carries the whole answer
	case q.edns:
		limit = min(q.udpSize, ourUDPSize)
	}
	if len(out) > limit {
		return out, false // the general path truncates
	}

	ctr := sc.queries[fam][rid]
	if ctr == nil {
		label := noRegion
		if rid < len(z.regions) {
			label = z.regions[rid]
		}
		ctr = s.metrics.queries.WithLabelValues(knownTypes[q.qtype], dns.RcodeToString[dns.RcodeSuccess], label)
		sc.queries[fam][rid] = ctr
	}
	if sc.batch {
		sc.pending[fam][rid]++
		sc.dirty = true
	} else {
		ctr.Inc()
	}
	return out, true
}
