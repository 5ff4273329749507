package gslb

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestServer_RegionByECS(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	tests := []struct {
		name, ecs string
		qtype     uint16
		want      []string
		scope     int
	}{
		{"eu /8", "10.1.2.0/24", dns.TypeA, []string{"192.0.2.1", "192.0.2.2"}, 8},
		{"us, longest prefix /16", "20.1.7.0/24", dns.TypeA, []string{"198.51.100.1", "198.51.100.2"}, 16},
		{"eu over IPv6", "2001:db8:e:1::/56", dns.TypeAAAA, []string{"2001:db8::1", "2001:db8::2"}, 48},
		// 40.0.0.0 shares 2 bits with 10/8, 20/8 and 30/8 and none with 127/8: a /3 holds no region.
		{"no region", "40.0.0.0/24", dns.TypeA, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, s, "udp", withECS(question("www."+zoneName, tt.qtype), tt.ecs))
			got := answerAddrs(r)
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("answer %v, want %v", got, tt.want)
			}
			if len(got) != 2 {
				t.Errorf("answer %v, want 2 records", got)
			}
			if scope := ecsScope(r); scope != tt.scope {
				t.Errorf("scope %d, want %d", scope, tt.scope)
			}
		})
	}
	t.Run("scope 0 when the answer does not depend on the client", func(t *testing.T) {
		r := exchange(t, s, "udp", withECS(question(zoneName, dns.TypeSOA), "10.1.2.0/24"))
		if scope := ecsScope(r); scope != 0 {
			t.Errorf("SOA scope %d, want 0", scope)
		}
		few, _ := startServer(t, testConfig(), testEdges()[:2]) // two edges, two answers: everyone gets both
		r = exchange(t, few, "udp", withECS(question("www."+zoneName, dns.TypeA), "20.1.2.0/24"))
		if scope := ecsScope(r); scope != 0 || len(r.Answer) != 2 {
			t.Errorf("every edge answered: scope %d, %d answers; want 0 and 2", scope, len(r.Answer))
		}
	})
}

func TestServer_RegionByResolverAddress(t *testing.T) {
	cfg := testConfig()
	cfg.Regions["local"].Near = []string{"us"}
	s, reg := startServer(t, cfg, append(testEdges(), edge("lo-1", "local", 0, true, "192.0.2.99")))
	// 127.0.0.1 is in "local": its own edge first, then the first of its near region.
	r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA))
	got := answerAddrs(r)
	if len(got) != 2 || !slices.Contains(got, "192.0.2.99") || !slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, "198.51.100.") }) {
		t.Errorf("answer %v, want lo-1 and one us edge", got)
	}
	if c := counterValue(t, reg, "shoal_gslb_queries_total", "qtype", "A", "rcode", "NOERROR", "region", "local"); c != 1 {
		t.Errorf("queries_total{A,NOERROR,local} %v, want 1", c)
	}
	// An ECS option with SOURCE PREFIX-LENGTH 0 is an opt-out: the resolver's address decides.
	m := withEDNS(question("www."+zoneName, dns.TypeA), 1232)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, Address: []byte{0, 0, 0, 0}}}
	r = exchange(t, s, "udp", m)
	if got := answerAddrs(r); !slices.Contains(got, "192.0.2.99") || ecsScope(r) != 0 {
		t.Errorf("opt-out: %v scope %d, want lo-1 and scope 0", got, ecsScope(r))
	}
}

func TestServer_FillUpFromNearRegions(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 4
	edges := []Edge{
		edge("ap-1", "ap", 0, true, "203.0.113.1"),
		edge("us-1", "us", 0, true, "198.51.100.1"),
		edge("us-2", "us", 0, true, "198.51.100.2"),
		edge("eu-1", "eu", 0, true, "192.0.2.1"),
		edge("eu-2", "eu", 0, true, "192.0.2.2"),
		edge("xx-1", "nowhere", 0, true, "233.252.0.1"),
	}
	s, _ := startServer(t, cfg, edges)
	// ap is near us then eu: its one edge, both us edges, then one eu edge.
	r := exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "30.0.0.0/24"))
	got := r.Answer
	if len(got) != 4 || got[0].(*dns.A).A.String() != "203.0.113.1" {
		t.Fatalf("answer %v, want 4 records, ap-1 first", got)
	}
	us := []string{got[1].(*dns.A).A.String(), got[2].(*dns.A).A.String()}
	slices.Sort(us)
	if !slices.Equal(us, []string{"198.51.100.1", "198.51.100.2"}) || !strings.HasPrefix(got[3].(*dns.A).A.String(), "192.0.2.") {
		t.Errorf("answer %v, want ap-1, us-1 and us-2, then an eu edge", got)
	}
	// us is near only eu; the edge of an unknown region is used after every near one.
	cfg.Answers = 6
	s, _ = startServer(t, cfg, edges)
	r = exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "20.0.0.0/24"))
	if len(r.Answer) != 6 || r.Answer[4].(*dns.A).A.String() == "192.0.2.1" || r.Answer[4].(*dns.A).A.String() == "192.0.2.2" {
		t.Errorf("answer %v, want us, us, eu, eu, then the others", r.Answer)
	}
}

func TestServer_RotatesOrder(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 3
	edges := []Edge{
		edge("eu-1", "eu", 0, true, "192.0.2.1"),
		edge("eu-2", "eu", 0, true, "192.0.2.2"),
		edge("eu-3", "eu", 0, true, "192.0.2.3"),
	}
	s, _ := startServer(t, cfg, edges)
	firsts := map[string]bool{}
	for range 3 {
		r := exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "10.0.0.0/24"))
		if got := answerAddrs(r); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
			t.Fatalf("answer set %v changed", got)
		}
		firsts[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 3 {
		t.Errorf("first records over three queries: %v, want each edge once", firsts)
	}
}

func TestServer_FailOpen(t *testing.T) {
	edges := testEdges()
	for i := range edges {
		edges[i].Healthy = false
	}
	s, reg := startServer(t, testConfig(), edges)
	r := exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "10.0.0.0/24"))
	want := []string{"192.0.2.1", "192.0.2.2", "198.51.100.1", "198.51.100.2", "203.0.113.1"}
	if got := answerAddrs(r); !slices.Equal(got, want) {
		t.Errorf("no edge healthy: %v, want every configured edge %v", got, want)
	}
	if got := counterValue(t, reg, "shoal_gslb_fail_open_total"); got != 1 {
		t.Errorf("fail_open_total %v, want 1", got)
	}
}

func TestServer_UnhealthyEdgeLeavesAtOnce(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 5
	edges := testEdges()
	s, _ := startServer(t, cfg, edges)
	ask := func() []string {
		return answerAddrs(exchange(t, s, "udp", withECS(question("www."+zoneName, dns.TypeA), "10.0.0.0/24")))
	}
	if got := ask(); !slices.Contains(got, "192.0.2.1") {
		t.Fatalf("before: %v lacks eu-1", got)
	}
	edges[0].Healthy = false
	s.SetEdges(edges)
	if got := ask(); slices.Contains(got, "192.0.2.1") || len(got) != 4 {
		t.Errorf("after SetEdges marked eu-1 unhealthy: %v, want the other four", got)
	}
}

func TestServer_SameAnswerSetOnEveryNode(t *testing.T) {
	cfg := testConfig()
	var edges []Edge
	for i := range 12 {
		edges = append(edges, edge(fmt.Sprintf("eu-%02d", i), "eu", 1+i%3, true, fmt.Sprintf("192.0.2.%d", i+1)))
	}
	a, _ := startServer(t, cfg, edges)
	reversed := slices.Clone(edges)
	slices.Reverse(reversed) // the ring may list edges in any order
	b, _ := startServer(t, cfg, reversed)
	sets := map[string]bool{}
	for i := range 20 {
		subnet := fmt.Sprintf("10.%d.%d.0/24", i, i*7)
		ra := answerAddrs(exchange(t, a, "udp", withECS(question("www."+zoneName, dns.TypeA), subnet)))
		rb := answerAddrs(exchange(t, b, "tcp", withECS(question("www."+zoneName, dns.TypeA), subnet)))
		if !slices.Equal(ra, rb) || len(ra) != 2 {
			t.Errorf("client %s: node a %v, node b %v; want the same two", subnet, ra, rb)
		}
		sets[fmt.Sprint(ra)] = true
	}
	if len(sets) < 3 {
		t.Errorf("20 clients got only %d distinct answer sets; clients are not spread", len(sets))
	}
}

func TestPick_Weights(t *testing.T) {
	heavy := &candidate{name: "heavy", hash: nameHash("heavy"), invWeight: 1.0 / 3, ips: ipsOf("192.0.2.1")}
	light1 := &candidate{name: "light1", hash: nameHash("light1"), invWeight: 1, ips: ipsOf("192.0.2.2")}
	light2 := &candidate{name: "light2", hash: nameHash("light2"), invWeight: 1, ips: ipsOf("192.0.2.3")}
	tiers := [][]*candidate{{light1, heavy, light2}}
	wins := map[string]int{}
	const clients = 5000
	for i := range clients {
		seed := clientSeed(mustAddr(fmt.Sprintf("10.%d.%d.0", i/256, i%256)), 24)
		got := pick(tiers, 1, seed, 0, nil, nil)
		wins[got[0].String()]++
	}
	// Weights 3:1:1 give the heavy edge 60% of the clients.
	if share := float64(wins["192.0.2.1"]) / clients; share < 0.55 || share > 0.65 {
		t.Errorf("heavy edge won %.2f of clients (%v), want about 0.60", share, wins)
	}
	if d := wins["192.0.2.2"] - wins["192.0.2.3"]; d > clients/20 || d < -clients/20 {
		t.Errorf("equal edges differ by %d clients (%v)", d, wins)
	}
}

func TestServer_WeightsOverDNS(t *testing.T) {
	cfg := testConfig()
	cfg.Answers = 1
	edges := []Edge{
		edge("eu-heavy", "eu", 4, true, "192.0.2.1"),
		edge("eu-light", "eu", 1, true, "192.0.2.2"),
	}
	s, _ := newTestServer(t, cfg, edges)
	heavy := 0
	for i := range 500 {
		w := newFakeWriter("192.0.2.53:53")
		s.ServeDNS(w, withECS(question("www."+zoneName, dns.TypeA), fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)))
		if answerAddrs(w.written)[0] == "192.0.2.1" {
			heavy++
		}
	}
	if heavy < 350 || heavy > 450 { // 4:1 is 400 of 500
		t.Errorf("weight 4 edge answered %d of 500 clients, want about 400", heavy)
	}
}
