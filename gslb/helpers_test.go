package gslb

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/conf"
)

const zoneName = "cdn.example.com."

// testConfig is the zone of most tests: three client regions, each with a near list, and a
// region for loopback so that queries from the test client land in "local".
func testConfig() conf.GSLB {
	return conf.GSLB{
		Listen:  "127.0.0.1:0",
		Zone:    zoneName,
		Names:   []string{"www", "@", "img.eu"},
		TTL:     30,
		Answers: 2,
		Regions: map[string]*conf.Region{
			"eu":    {CIDRs: []string{"10.0.0.0/8", "2001:db8:e::/48"}, Near: []string{"us", "ap"}},
			"us":    {CIDRs: []string{"20.0.0.0/8", "20.1.0.0/16"}, Near: []string{"eu"}},
			"ap":    {CIDRs: []string{"30.0.0.0/8"}, Near: []string{"us", "eu"}},
			"local": {CIDRs: []string{"127.0.0.0/8"}, Near: []string{"ap"}},
		},
	}
}

func edge(name, region string, weight int, healthy bool, addrs ...string) Edge {
	e := Edge{Name: name, Region: region, Weight: weight, Healthy: healthy}
	for _, a := range addrs {
		e.Addrs = append(e.Addrs, netip.MustParseAddr(a))
	}
	return e
}

func testEdges() []Edge {
	return []Edge{
		edge("eu-1", "eu", 0, true, "192.0.2.1", "2001:db8::1"),
		edge("eu-2", "eu", 0, true, "192.0.2.2", "2001:db8::2"),
		edge("us-1", "us", 0, true, "198.51.100.1"),
		edge("us-2", "us", 0, true, "198.51.100.2"),
		edge("ap-1", "ap", 0, true, "203.0.113.1", "2001:db8::a1"),
	}
}

// newTestServer builds a Server on its own registry, with edges set, without listening.
func newTestServer(t testing.TB, cfg conf.GSLB, edges []Edge) (*Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(cfg, Options{Registerer: reg})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.SetEdges(edges)
	return s, reg
}

// startServer is newTestServer plus ListenAndServe on 127.0.0.1:0.
func startServer(t *testing.T, cfg conf.GSLB, edges []Edge) (*Server, *prometheus.Registry) {
	t.Helper()
	s, reg := newTestServer(t, cfg, edges)
	serve(t, s)
	return s, reg
}

// udpReaderKinds are the two kinds of UDP reader, for tests that run against each: parked in
// the netpoller (Options.UDPNetpoll), and waiting in recvmmsg on a blocking socket (the
// default on Linux).
var udpReaderKinds = []struct {
	name     string
	blocking bool
}{{"netpoll readers", false}, {"blocking readers", true}}

// startServerBlocking is startServer with blocking readers or, with blocking false, readers in
// the netpoller (Options.UDPNetpoll).
func startServerBlocking(t *testing.T, cfg conf.GSLB, edges []Edge, blocking bool) (*Server, *prometheus.Registry) {
	t.Helper()
	s, reg := newTestServer(t, cfg, edges)
	s.udpBlocking = blocking
	serve(t, s)
	return s, reg
}

// serve runs ListenAndServe and a Shutdown at the end of the test.
func serve(t *testing.T, s *Server) {
	t.Helper()
	if err := s.ListenAndServe(); err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

// exchange sends m over "udp" or "tcp" with a real miekg/dns client.
func exchange(t testing.TB, s *Server, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	udp, tcp := s.Addr()
	addr := udp.String()
	if network == "tcp" {
		addr = tcp.String()
	}
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	reply, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("exchange %v over %s: %v", m.Question, network, err)
	}
	if reply.Id != m.Id || !reply.Response {
		t.Fatalf("reply id %d response %v, want id %d and a response", reply.Id, reply.Response, m.Id)
	}
	return reply
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

// withECS adds an OPT record with a client subnet such as "10.1.2.0/24".
func withECS(m *dns.Msg, subnet string) *dns.Msg {
	p := netip.MustParsePrefix(subnet)
	m.SetEdns0(1232, false)
	family := uint16(1)
	if p.Addr().Is6() {
		family = 2
	}
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()),
		Address: net.IP(p.Addr().AsSlice()),
	})
	return m
}

// answerAddrs lists the addresses in the answer section, sorted.
func answerAddrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

// ecsScope returns the SCOPE PREFIX-LENGTH echoed in m, or -1 without an ECS option.
func ecsScope(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return int(s.SourceScope)
			}
		}
	}
	return -1
}

// counterValue reads one counter series from reg; labels are name=value pairs.
func counterValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// fakeWriter is a dns.ResponseWriter that keeps what is written, for driving ServeDNS directly.
type fakeWriter struct {
	remote  net.Addr
	written *dns.Msg
	packErr error
}

func newFakeWriter(remote string) *fakeWriter {
	return &fakeWriter{remote: net.UDPAddrFromAddrPort(netip.MustParseAddrPort(remote))}
}

func (f *fakeWriter) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (f *fakeWriter) RemoteAddr() net.Addr { return f.remote }
func (f *fakeWriter) WriteMsg(m *dns.Msg) error {
	if _, err := m.Pack(); err != nil {
		f.packErr = err
		return fmt.Errorf("pack: %w", err)
	}
	f.written = m
	return nil
}
func (f *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (f *fakeWriter) Close() error                { return nil }
func (f *fakeWriter) TsigStatus() error           { return nil }
func (f *fakeWriter) TsigTimersOnly(bool)         {}
func (f *fakeWriter) Hijack()                     {}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ipsOf(addrs ...string) []net.IP {
	var out []net.IP
	for _, a := range addrs {
		out = append(out, net.IP(mustAddr(a).AsSlice()))
	}
	return out
}

var tcpAddr = net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5353}

// loopbackReader is a UDP reader of s on a socket of its own on 127.0.0.1, driven by the test
// (read, answer, flush) instead of a loop; the socket is closed when the test ends.
func loopbackReader(t testing.TB, s *Server) (*udpReader, *net.UDPConn) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r, err := newUDPReader(s, pollSocket{conn}, false)
	if err != nil {
		t.Fatal(err)
	}
	return r, conn
}
