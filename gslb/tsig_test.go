package gslb

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// RFC 8945 section 5.2.1: a server that does not know the key of a signed request answers
// NOTAUTH with an unsigned TSIG RR whose error is BADKEY. The server holds no keys, so every
// signed query gets that, over UDP and TCP, with or without EDNS (the TSIG stays last); a
// TSIG that is not the last additional record, or a second one, is a FORMERR. Signed queries
// were answered as if unsigned: a client that asked for authenticated data got an answer it
// could not verify and no word why.
func TestServer_signedQueriesGetNotAuthBadKey(t *testing.T) {
	s, reg := startServer(t, testConfig(), testEdges())
	const key = "transfer.key."
	secret := map[string]string{key: "c2hvYWwtdGVzdC1zZWNyZXQtMzItYnl0ZXMtbG9uZy4uLg=="}
	for _, network := range []string{"udp", "tcp"} {
		for _, edns := range []bool{false, true} {
			m := question("www."+zoneName, dns.TypeA)
			if edns {
				m = withEDNS(m, 1232)
			}
			m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
			c := &dns.Client{Net: network, Timeout: 5 * time.Second, TsigSecret: secret}
			udp, tcp := s.Addr()
			addr := udp.String()
			if network == "tcp" {
				addr = tcp.String()
			}
			r, _, err := c.Exchange(m, addr)
			if r == nil {
				t.Fatalf("%s edns=%v: no reply: %v", network, edns, err)
			}
			if r.Rcode != dns.RcodeNotAuth || len(r.Answer) != 0 {
				t.Errorf("%s edns=%v: rcode %s with %d answers, want NOTAUTH and none", network, edns, dns.RcodeToString[r.Rcode], len(r.Answer))
			}
			tsig := r.IsTsig()
			if tsig == nil {
				t.Fatalf("%s edns=%v: reply has no TSIG as the last additional record: %v", network, edns, r.Extra)
			}
			if tsig.Error != dns.RcodeBadKey || tsig.MACSize != 0 || tsig.Hdr.Name != key || tsig.OrigId != m.Id ||
				tsig.Algorithm != dns.HmacSHA256 {
				t.Errorf("%s edns=%v: TSIG %v, want the key and algorithm echoed, error BADKEY and no MAC", network, edns, tsig)
			}
			if edns && r.IsEdns0() == nil {
				t.Errorf("%s: the reply lost its OPT record", network)
			}
		}
	}
	if got := counterValue(t, reg, "shoal_gslb_queries_total", "rcode", "NOTAUTH"); got != 4 {
		t.Errorf("queries_total{rcode=NOTAUTH} %v, want 4", got)
	}

	// A TSIG before the OPT record, or two of them: FORMERR (RFC 8945 section 5.1).
	for name, build := range map[string]func(m *dns.Msg, tsig dns.RR){
		"TSIG not last": func(m *dns.Msg, tsig dns.RR) {
			m.Extra = append([]dns.RR{tsig}, m.Extra...)
		},
		"two TSIGs": func(m *dns.Msg, tsig dns.RR) { m.Extra = append(m.Extra, tsig, tsig) },
	} {
		m := withEDNS(question("www."+zoneName, dns.TypeA), 1232)
		build(m, &dns.TSIG{Hdr: dns.RR_Header{Name: key, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: dns.HmacSHA256, TimeSigned: uint64(time.Now().Unix()), Fudge: 300, OrigId: m.Id})
		if r := exchangeRaw(t, s, m); r.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: rcode %s, want FORMERR", name, dns.RcodeToString[r.Rcode])
		}
	}
}

// exchangeRaw sends m as packed, unsigned whatever TSIG it holds, over UDP.
func exchangeRaw(t *testing.T, s *Server, m *dns.Msg) *dns.Msg {
	t.Helper()
	packet, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	udp, _ := s.Addr()
	c, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(packet); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return r
}
