package gslb

import (
	"net"
	"time"

	"github.com/miekg/dns"
)

// noRegion labels clients that match no configured region.
const noRegion = "none"

// ServeDNS answers one query. It is safe for concurrent use and never blocks on anything but
// the write: it reads the zone and one edge snapshot, both immutable.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	s.serve(w, r, s.rotation.Add(1))
}

// served describes an answer for the UDP loop's reply cache.
type served struct {
	qtype     uint16
	rcode     int
	region    string
	truncated bool
	sn        *snapshot // the edge list the answer came from; nil when it used none
	failOpen  bool      // answered every edge: the order depends on rot beyond the cache's period
}

// serve is ServeDNS with the rotation chosen by the caller; ok is false when nothing was sent.
func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg, rot uint64) (out served, ok bool) {
	start := time.Now()
	if r == nil || r.Response {
		// Never answer a response: two servers would bounce errors at each other forever.
		return out, false
	}
	q := query{s: s, w: w, r: r, region: noRegion, rot: rot}
	m := q.answer()
	tcp := isTCP(w)
	limit := dns.MaxMsgSize
	if !tcp {
		limit = dns.MinMsgSize
		if q.edns.present {
			limit = min(q.edns.udpSize, ourUDPSize)
		}
	}
	m.Truncate(limit)
	m.Compress = true // Truncate turns it off when the message fits without; it is smaller with.
	truncated := m.Truncated && !tcp
	if truncated {
		s.metrics.truncated.Inc()
	}
	// Counted before the write, so that whoever reads the reply also sees it counted.
	s.metrics.observe(q.qtype, m.Rcode, q.region, time.Since(start))
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("gslb: write reply", "client", w.RemoteAddr(), "err", err)
	}
	return served{qtype: q.qtype, rcode: m.Rcode, region: q.region, truncated: truncated, sn: q.sn,
		failOpen: q.failOpen}, true
}

// query is the state of answering one message.
type query struct {
	s      *Server
	sn     *snapshot // loaded once: a whole reply comes from one edge list
	w      dns.ResponseWriter
	r      *dns.Msg
	edns   ednsRequest
	qtype  uint16
	region string // label for metrics
	scope  int    // ECS scope of the answer
	rot    uint64 // rotation of the edges inside each tier
	// failOpen is set when the answer listed every edge for want of a healthy one.
	failOpen bool
}

// answer builds the reply, in the order of checks RFC 6891, RFC 8945 and RFC 1035 imply: the
// OPT record first (its errors concern the whole message), then a TSIG, then opcode, the sections a query leaves
// empty, question count, class and zone.
func (q *query) answer() *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q.r)
	edns, ok := parseEDNS(q.r)
	if !ok {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q.edns = edns
	var signed *dns.TSIG // the TSIG record, which must stay the last one
	defer func() {
		if edns.present {
			m.Extra = append(m.Extra, responseOPT(edns, q.scope))
		}
		if signed != nil {
			m.Extra = append(m.Extra, signed)
		}
	}()
	if edns.present && edns.version > 0 {
		m.Rcode = dns.RcodeBadVers
		return m
	}
	if t, placed := requestTSIG(q.r); !placed {
		m.Rcode = dns.RcodeFormatError
		return m
	} else if t != nil {
		// Signed with a key we do not hold (we hold none): RFC 8945 section 5.2.1.
		m.Rcode, signed = dns.RcodeNotAuth, badKey(t)
		return m
	}
	if q.r.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if !onlyQuestion(q.r) {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	if len(q.r.Question) != 1 {
		m.Question = nil
		m.Rcode = dns.RcodeFormatError
		return m
	}
	question := q.r.Question[0]
	q.qtype = question.Qtype
	z, sn := q.s.zone, q.s.edges.Load()
	q.sn = sn
	lname := asciiLower(question.Name)
	if question.Qclass == dns.ClassCHAOS {
		q.chaos(m, question, lname)
		return m
	}
	if question.Qclass != dns.ClassINET || !dns.IsSubDomain(z.origin, lname) ||
		question.Qtype == dns.TypeAXFR || question.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	apex := z.origin
	if len(lname) >= len(z.origin) && asciiLower(question.Name[len(lname)-len(z.origin):]) == z.origin {
		apex = question.Name[len(lname)-len(z.origin):] // the query's own spelling (0x20)
	}
	own, exists := z.owners[lname]
	isApex := lname == z.origin
	if !exists && !isApex {
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, soa(z, apex, negativeTTL))
		return m
	}

	switch qt := question.Qtype; {
	case qt == dns.TypeANY:
		// RFC 8482: one small synthesized record instead of everything we hold.
		m.Answer = append(m.Answer, &dns.HINFO{
			Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: hinfoTTL},
			Cpu: "RFC8482",
		})
	case qt == dns.TypeSOA && isApex:
		m.Answer = append(m.Answer, soa(z, question.Name, infraTTL))
	case qt == dns.TypeNS && isApex:
		m.Answer = nsRecords(z, sn, question.Name)
		m.Extra = glue(z, sn)
	case (qt == dns.TypeA || qt == dns.TypeAAAA) && exists && own.kind == kindService:
		m.Answer = q.edgeRecords(question.Name, qt)
	case (qt == dns.TypeA || qt == dns.TypeAAAA) && exists && own.kind == kindNSHost:
		m.Answer = addrRecords(question.Name, qt, infraTTL, sn.nsHostIPs(own.index, familyOf(qt)), nil)
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, soa(z, apex, negativeTTL)) // NODATA (RFC 2308 section 2.2)
	}
	return m
}

// edgeRecords answers A or AAAA for a service name with the nearest healthy edges.
func (q *query) edgeRecords(name string, qtype uint16) []dns.RR {
	z, sn := q.s.zone, q.sn
	c, ok := clientOf(q.w, q.edns)
	rid, bits := len(z.regions), 0
	if ok {
		if id, b, found := z.table.lookup(c.addr); found {
			rid, bits, q.region = id, b, z.regions[id]
		} else {
			bits = z.table.unmatchedScope(c.addr)
		}
	}
	fam := familyOf(qtype)
	rot := q.rot
	var buf [8]net.IP
	var ips []net.IP
	switch {
	case sn.failOpen:
		q.failOpen = true
		q.s.metrics.failOpen.Inc()
		ips = all(sn.tiers[len(z.regions)][fam], rot, buf[:0])
	case sn.total[fam] > z.answers:
		// Only when not every edge fits does the answer depend on where the client is.
		q.scope = bits
		ips = pick(sn.tiers[rid][fam], z.answers, clientSeed(c.addr, c.sourceBits), rot, buf[:0], nil)
	default:
		ips = pick(sn.tiers[rid][fam], z.answers, 0, rot, buf[:0], nil)
	}
	return addrRecords(name, qtype, z.ttl, ips, nil)
}

func addrRecords(name string, qtype uint16, ttl uint32, ips []net.IP, out []dns.RR) []dns.RR {
	hdr := dns.RR_Header{Name: name, Rrtype: qtype, Class: dns.ClassINET, Ttl: ttl}
	for _, ip := range ips {
		if qtype == dns.TypeA {
			out = append(out, &dns.A{Hdr: hdr, A: ip})
		} else {
			out = append(out, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	return out
}

func soa(z *zone, owner string, ttl uint32) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: owner, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      z.nsNames[0],
		Mbox:    "hostmaster." + z.origin,
		Serial:  z.serial,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  negativeTTL,
	}
}

func nsRecords(z *zone, sn *snapshot, owner string) []dns.RR {
	n := sn.nsCount(z)
	out := make([]dns.RR, 0, n)
	for _, ns := range z.nsNames[:n] {
		out = append(out, &dns.NS{
			Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: infraTTL},
			Ns:  ns,
		})
	}
	return out
}

// glue is the addresses of the published NS hosts, which live in the zone itself.
func glue(z *zone, sn *snapshot) []dns.RR {
	var out []dns.RR
	for i, ns := range z.nsNames[:sn.nsCount(z)] {
		out = addrRecords(ns, dns.TypeA, infraTTL, sn.nsHostIPs(i, famV4), out)
		out = addrRecords(ns, dns.TypeAAAA, infraTTL, sn.nsHostIPs(i, famV6), out)
	}
	return out
}

// chaos answers the CHAOS class's server questions (RFC 4892) as BIND, NSD and Knot do:
// id.server and hostname.bind with the node's name (Options.Identity), version.bind and
// version.server with "shoal" alone (no version to look up vulnerabilities by, as gdnsd
// answers). Any other name, or an identity left empty, is REFUSED; a type other than TXT or
// ANY gets an empty answer (there is no CHAOS zone whose SOA could go in authority).
func (q *query) chaos(m *dns.Msg, question dns.Question, lname string) {
	var txt string
	switch lname {
	case "id.server.", "hostname.bind.":
		txt = q.s.identity
	case "version.bind.", "version.server.":
		txt = "shoal"
	}
	if txt == "" {
		m.Rcode = dns.RcodeRefused
		return
	}
	m.Authoritative = true
	if question.Qtype == dns.TypeTXT || question.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
			Txt: []string{txt},
		})
	}
}
