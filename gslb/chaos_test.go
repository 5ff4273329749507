package gslb

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// The CHAOS class's server questions (RFC 4892), which `dig CH TXT id.server` and monitoring
// ask to learn which of several servers answered: id.server and hostname.bind give the node's
// name, version.bind and version.server "shoal" (no version number, as gdnsd), over UDP and
// TCP; a type other than TXT gets an empty NOERROR; without an identity the id names are
// REFUSED. Failed before: every CHAOS question was REFUSED.
func TestServer_chaosAnswersIdentityAndVersion(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(testConfig(), Options{Registerer: reg, Identity: "edge-7"})
	if err != nil {
		t.Fatal(err)
	}
	s.SetEdges(testEdges())
	serve(t, s)
	anon, _ := startServer(t, testConfig(), testEdges())
	tests := []struct {
		server *Server
		qname  string
		qtype  uint16
		rcode  int
		txt    string // "" for no answer
	}{
		{s, "id.server.", dns.TypeTXT, dns.RcodeSuccess, "edge-7"},
		{s, "HOSTNAME.bind.", dns.TypeTXT, dns.RcodeSuccess, "edge-7"},
		{s, "version.bind.", dns.TypeTXT, dns.RcodeSuccess, "shoal"},
		{s, "version.server.", dns.TypeANY, dns.RcodeSuccess, "shoal"},
		{s, "id.server.", dns.TypeA, dns.RcodeSuccess, ""},
		{s, "authors.bind.", dns.TypeTXT, dns.RcodeRefused, ""},
		{anon, "id.server.", dns.TypeTXT, dns.RcodeRefused, ""},
		{anon, "version.bind.", dns.TypeTXT, dns.RcodeSuccess, "shoal"},
	}
	for _, tt := range tests {
		for _, network := range []string{"udp", "tcp"} {
			m := question(tt.qname, tt.qtype)
			m.Question[0].Qclass = dns.ClassCHAOS
			r := exchange(t, tt.server, network, m)
			name := tt.qname + " " + dns.TypeToString[tt.qtype] + " over " + network
			if r.Rcode != tt.rcode {
				t.Errorf("%s: rcode %s, want %s", name, dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
				continue
			}
			if tt.txt == "" {
				if len(r.Answer) != 0 {
					t.Errorf("%s: answer %v, want none", name, r.Answer)
				}
				continue
			}
			if len(r.Answer) != 1 {
				t.Errorf("%s: %d answers, want one TXT", name, len(r.Answer))
				continue
			}
			txt, ok := r.Answer[0].(*dns.TXT)
			if !ok || txt.Hdr.Class != dns.ClassCHAOS || txt.Hdr.Name != tt.qname || len(txt.Txt) != 1 || txt.Txt[0] != tt.txt {
				t.Errorf("%s: %v, want CH TXT %q under the query's name", name, r.Answer[0], tt.txt)
			}
			if !r.Authoritative {
				t.Errorf("%s: not authoritative", name)
			}
		}
	}
}
