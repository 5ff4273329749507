//go:build linux

package gslb

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// On a wildcard bind every reply leaves from the address its query was sent to (a VIP moves
// between nodes; a resolver drops replies from any other address), for IPv4 and IPv6 clients of
// one dual-stack socket, on the fast path (A) and the general one (NS). The clients' sockets are
// connected, so a reply from another source never reaches them. In a network namespace of its
// own, because a wildcard bind takes the port on every address of the host.
func TestUDPLoop_wildcardRepliesFromTheQueriedAddress(t *testing.T) {
	testenv.RequireNetns(t)
	ns := testenv.NewNetns(t, "gslbany")
	ns.IP("addr", "add", "10.55.0.1/32", "dev", "lo")
	ns.IP("addr", "add", "fd55::1/128", "dev", "lo", "nodad")
	cfg := testConfig()
	cfg.Listen = ":0"
	s, _ := newTestServer(t, cfg, testEdges())
	if err := ns.Do(s.ListenAndServe); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	if s.udpLoop == nil || !s.udpLoop.pktinfo {
		t.Fatal("the wildcard bind is not served by the UDP loop with pktinfo")
	}
	_, port, _ := net.SplitHostPort(mustUDP(s))
	for _, host := range []string{"127.0.0.1", "127.0.0.9", "10.55.0.1", "::1", "fd55::1"} {
		for _, q := range []*dns.Msg{question("www."+zoneName, dns.TypeA), question(zoneName, dns.TypeNS)} {
			conn, err := ns.Dial("udp", net.JoinHostPort(host, port), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c := &dns.Conn{Conn: conn}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			if err := c.WriteMsg(q); err != nil {
				t.Fatal(err)
			}
			r, err := c.ReadMsg()
			c.Close()
			if err != nil || r.Id != q.Id || len(r.Answer) == 0 {
				t.Errorf("%s to %s: reply %v, err %v", dns.TypeToString[q.Question[0].Qtype], host, r, err)
			}
		}
	}
}
