package gslb

import "github.com/miekg/dns"

// requestTSIG finds the TSIG record of a request (RFC 8945). placed is false when there is
// more than one or it is not the last additional record, which section 5.1 answers FORMERR.
func requestTSIG(r *dns.Msg) (t *dns.TSIG, placed bool) {
	for i, rr := range r.Extra {
		if x, ok := rr.(*dns.TSIG); ok {
			if i != len(r.Extra)-1 {
				return x, false
			}
			t = x
		}
	}
	return t, true
}

// badKey is the TSIG of the answer to a request signed with a key this server does not hold,
// which is every key: it holds none. RFC 8945 section 5.2.1 asks for NOTAUTH with error
// BADKEY, unsigned (section 5.3.2: no MAC), the key name, algorithm, time and fudge of the
// request echoed, so that the client can tell which of its keys was refused.
func badKey(t *dns.TSIG) *dns.TSIG {
	return &dns.TSIG{
		Hdr:        dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  t.Algorithm,
		TimeSigned: t.TimeSigned,
		Fudge:      t.Fudge,
		OrigId:     t.OrigId,
		Error:      dns.RcodeBadKey,
	}
}
