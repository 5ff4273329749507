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
// Blocking readers open their own dual-stack sockets (IPV6_V6ONLY and pktinfo copied from the
// first): the same holds for them.
func TestUDPLoop_wildcardRepliesFromTheQueriedAddress(t *testing.T) {
	testenv.RequireNetns(t)
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) { testWildcardReplies(t, kind.blocking) })
	}
}

func testWildcardReplies(t *testing.T, blocking bool) {
	ns := testenv.NewNetns(t, "gslbany")
	ns.IP("addr", "add", "10.55.0.1/32", "dev", "lo")
	ns.IP("addr", "add", "fd55::1/128", "dev", "lo", "nodad")
	cfg := testConfig()
	cfg.Listen = ":0"
	s, _ := newTestServer(t, cfg, testEdges())
	s.udpBlocking = blocking
	if err := ns.Do(s.ListenAndServe); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	if s.udpLoop == nil || !s.udpLoop.pktinfo || s.udpLoop.socks[0].blocking() != blocking {
		t.Fatal("the wildcard bind is not served by the UDP loop with pktinfo and the readers asked for")
	}
	_, port, _ := net.SplitHostPort(mustUDP(s))
	for _, host := range []string{"127.0.0.1", "127.0.0.9", "10.55.0.1", "::1", "fd55::1"} {
		for _, q := range []*dns.Msg{question("www."+zoneName, dns.TypeA), question(zoneName, dns.TypeNS)} {
			// UDP may lose a datagram (in a fresh namespace the first one to a new IPv6 address
			// sometimes is, with miekg/dns serving as well), so a query is retried as resolvers
			// do; a reply from the wrong address fails every try.
			var r *dns.Msg
			var err error
			for range 3 {
				if r, err = exchangeConnected(ns, net.JoinHostPort(host, port), q); err == nil {
					break
				}
			}
			if err != nil || r.Id != q.Id || len(r.Answer) == 0 {
				t.Errorf("%s to %s: reply %v, err %v", dns.TypeToString[q.Question[0].Qtype], host, r, err)
			}
		}
	}
}

// exchangeConnected sends q from a socket connected to addr inside ns, which accepts a reply
// from addr alone.
func exchangeConnected(ns *testenv.Netns, addr string, q *dns.Msg) (*dns.Msg, error) {
	conn, err := ns.Dial("udp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	c := &dns.Conn{Conn: conn}
	defer c.Close()
	c.SetDeadline(time.Now().Add(700 * time.Millisecond))
	if err := c.WriteMsg(q); err != nil {
		return nil, err
	}
	return c.ReadMsg()
}
