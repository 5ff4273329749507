package edge

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/ring"
)

const gslbZone = "cdn.example.com."

// gslbClusterConfig is one member of a DNS-serving cluster: public address 127.0.0.<index>,
// answers of two records out of three edges, so the answer depends on the client.
func gslbClusterConfig(index int, secretFile, join, originURL string) string {
	joinList := "[]"
	if join != "" {
		joinList = "[" + join + "]"
	}
	return fmt.Sprintf(`node: {name: node-%d, region: local, public_addr: 127.0.0.%d}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 16MiB, max_object_size: 1MiB, fill_timeout: 5s}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
gslb:
  listen: "127.0.0.1:0"
  zone: %s
  names: [www]
  answers: 2
  regions: {local: {cidrs: [10.0.0.0/8, 127.0.0.0/8]}}
`, index, index, joinList, secretFile, originURL, gslbZone)
}

// startGSLBCluster runs three DNS-serving nodes and waits until each node answers with all
// three edges: membership converged and every SetEdges done.
func startGSLBCluster(t *testing.T) []*Node {
	t.Helper()
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	secret := writeSecret(t)
	var nodes []*Node
	for i := 1; i <= 3; i++ {
		join := ""
		if i > 1 {
			join = nodes[0].Ring().GossipAddr()
		}
		nodes = append(nodes, startNode(t, gslbClusterConfig(i, secret, join, origin.URL), Options{Logger: testLogger(t)}))
	}
	waitMembers(t, nodes, 3)
	for _, n := range nodes {
		pollUntil(t, 10*time.Second, n.name+" publishing three NS hosts", func() bool {
			m, err := askDNS(n.DNSAddr(), gslbZone, dns.TypeNS, "")
			return err == nil && len(m.Answer) == 3
		})
	}
	return nodes
}

// askDNS sends one query over UDP, with an EDNS client subnet when ecs is a CIDR.
func askDNS(addr, name string, qtype uint16, ecs string) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	if ecs != "" {
		_, ipnet, err := net.ParseCIDR(ecs)
		if err != nil {
			return nil, err
		}
		bits, _ := ipnet.Mask.Size()
		q.SetEdns0(1232, false)
		opt := q.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: uint8(bits), Address: ipnet.IP.To4()})
	}
	c := &dns.Client{Timeout: time.Second}
	m, _, err := c.Exchange(q, addr)
	return m, err
}

// answerSet is the sorted addresses of an A answer.
func answerSet(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

func wwwSet(t testing.TB, n *Node, ecs string) []string {
	t.Helper()
	m, err := askDNS(n.DNSAddr(), "www."+gslbZone, dns.TypeA, ecs)
	if err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	if m.Rcode != dns.RcodeSuccess {
		t.Fatalf("%s: rcode %s", n.name, dns.RcodeToString[m.Rcode])
	}
	return answerSet(m)
}

// rrStrings renders a section sorted, for comparing nodes' answers regardless of order.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

func TestGSLB_everyNodeAnswersTheSameSet(t *testing.T) {
	nodes := startGSLBCluster(t)
	edges := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

	// NS and glue: three name servers, each with the public address of one edge, the same on
	// every node.
	var firstNS, firstGlue []string
	for _, n := range nodes {
		m, err := askDNS(n.DNSAddr(), gslbZone, dns.TypeNS, "")
		if err != nil {
			t.Fatalf("%s: NS: %v", n.name, err)
		}
		if !m.Authoritative || len(m.Answer) != 3 {
			t.Fatalf("%s: NS answer aa=%v %v", n.name, m.Authoritative, m.Answer)
		}
		glue := answerSet(&dns.Msg{Answer: m.Extra})
		if !slices.Equal(glue, edges) {
			t.Errorf("%s: glue %v, want the three edges %v", n.name, glue, edges)
		}
		ns, glueRRs := rrStrings(m.Answer), rrStrings(m.Extra)
		if firstNS == nil {
			firstNS, firstGlue = ns, glueRRs
		} else if !slices.Equal(ns, firstNS) || !slices.Equal(glueRRs, firstGlue) {
			t.Errorf("%s: NS %v glue %v, node-1 says NS %v glue %v", n.name, ns, glueRRs, firstNS, firstGlue)
		}
	}

	// Address answers: for each client (resolver address, or one of many ECS subnets) every
	// node gives the same two of the three edges; over all clients, every edge is handed out.
	clients := []string{""}
	for i := range 24 {
		clients = append(clients, fmt.Sprintf("10.%d.%d.0/24", i, 7*i))
	}
	seen := map[string]bool{}
	for _, ecs := range clients {
		want := wwwSet(t, nodes[0], ecs)
		if len(want) != 2 {
			t.Errorf("client %q: node-1 answers %v, want two edges", ecs, want)
		}
		for _, a := range want {
			seen[a] = true
		}
		for _, n := range nodes[1:] {
			if got := wwwSet(t, n, ecs); !slices.Equal(got, want) {
				t.Errorf("client %q: %s answers %v, node-1 answers %v", ecs, n.name, got, want)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("over %d clients only %v were handed out, want all three edges", len(clients), seen)
	}
}

// clientOf finds an ECS subnet whose answer names addr, so a test can watch addr leave it.
func clientSeeing(t *testing.T, n *Node, addr string) string {
	t.Helper()
	for i := range 64 {
		ecs := fmt.Sprintf("10.%d.0.0/24", i)
		if slices.Contains(wwwSet(t, n, ecs), addr) {
			return ecs
		}
	}
	t.Fatalf("no client of 64 is answered %s", addr)
	return ""
}

// waitGone polls the survivors until none answers addr to client ecs, and returns when that
// happened. A survivor that does not answer at all counts as still answering addr.
func waitGone(t *testing.T, survivors []*Node, addr, ecs string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		gone := true
		for _, n := range survivors {
			m, err := askDNS(n.DNSAddr(), "www."+gslbZone, dns.TypeA, ecs)
			if err != nil || slices.Contains(answerSet(m), addr) || len(m.Answer) == 0 {
				gone = false
				break
			}
		}
		if gone {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("survivors still answer %s to %s %v after the change", addr, ecs, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A node that drains, whether asked to or shutting down gracefully, leaves every survivor's
// answers as soon as its state has spread: no failure detection involved.
func TestGSLB_drainingNodeLeavesAnswersAtOnce(t *testing.T) {
	cases := []struct {
		name  string
		drain func(n *Node)
	}{
		{"state draining", func(n *Node) { n.Ring().SetState(ring.StateDraining) }},
		{"graceful shutdown", func(n *Node) {
			// Shutdown announces draining first and returns only after leaving; run it aside so
			// the answers are watched while it runs.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n.Shutdown(ctx)
			}()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nodes := startGSLBCluster(t)
			ecs := clientSeeing(t, nodes[0], "127.0.0.3")
			start := time.Now()
			c.drain(nodes[2])
			gone := waitGone(t, nodes[:2], "127.0.0.3", ecs, 3*time.Second)
			t.Logf("%s: 127.0.0.3 left both survivors' answers %v after the drain began",
				c.name, gone.Sub(start).Round(time.Millisecond))
			for _, n := range nodes[:2] {
				if got := wwwSet(t, n, ecs); len(got) != 2 {
					t.Errorf("%s answers %v, want the two remaining edges", n.name, got)
				}
			}
		})
	}
}

// A node whose gossip stops without a word (the in-process stand-in for a crash; the SIGKILL
// case is in cmd/shoal) leaves the survivors' answers as soon as the ring declares it dead.
func TestGSLB_crashedNodeLeavesAnswersOnDetection(t *testing.T) {
	nodes := startGSLBCluster(t)
	ecs := clientSeeing(t, nodes[0], "127.0.0.3")
	crashed := time.Now()
	nodes[2].Ring().Shutdown()

	detected := make(chan time.Time, 1)
	go func() {
		for {
			if len(nodes[0].Ring().Members()) == 2 && len(nodes[1].Ring().Members()) == 2 {
				detected <- time.Now()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	gone := waitGone(t, nodes[:2], "127.0.0.3", ecs, 15*time.Second)
	var detection time.Time
	select {
	case detection = <-detected:
	case <-time.After(5 * time.Second):
		t.Fatal("the answers changed but the ring never dropped the crashed node")
	}
	t.Logf("crash to ring detection %v; detection to answer change %v; crash to answer change %v",
		detection.Sub(crashed).Round(time.Millisecond), gone.Sub(detection).Round(time.Millisecond),
		gone.Sub(crashed).Round(time.Millisecond))
	if lag := gone.Sub(detection); lag > 2*time.Second {
		t.Errorf("answers changed %v after the ring's detection, want within about a second", lag)
	}
}

// With no healthy edge anywhere, a node answers every configured edge rather than nothing,
// and counts it.
func TestGSLB_failsOpenWhenNoEdgeIsHealthy(t *testing.T) {
	nodes := startGSLBCluster(t)
	for _, n := range nodes {
		n.Ring().SetState(ring.StateNotReady)
	}
	all := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	for _, n := range nodes {
		pollUntil(t, 5*time.Second, n.name+" answering every edge", func() bool {
			return slices.Equal(wwwSet(t, n, "10.1.0.0/24"), all)
		})
		text := metricsText(t, n)
		if v := metricValue(text, "shoal_gslb_fail_open_total"); v < 1 {
			t.Errorf("%s: shoal_gslb_fail_open_total = %v, want at least 1", n.name, v)
		}
	}
}

func TestGSLB_queriesCountedOnNodeMetrics(t *testing.T) {
	nodes := startGSLBCluster(t)
	addr := nodes[0].DNSAddr()
	queries := []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"www." + gslbZone, dns.TypeA, "10.2.0.0/24"},    // local, NOERROR
		{"www." + gslbZone, dns.TypeA, "192.0.2.0/24"},   // no region
		{"www." + gslbZone, dns.TypeAAAA, "10.2.0.0/24"}, // NODATA: no v6 edges
		{"nope." + gslbZone, dns.TypeA, ""},              // NXDOMAIN
		{"example.org.", dns.TypeA, ""},                  // REFUSED
		{gslbZone, dns.TypeSOA, ""},
	}
	for _, q := range queries {
		if _, err := askDNS(addr, q.name, q.qtype, q.ecs); err != nil {
			t.Fatalf("%s %s: %v", q.name, dns.TypeToString[q.qtype], err)
		}
	}
	text := metricsText(t, nodes[0])
	series := []struct{ name, qtype, rcode, region string }{
		{"shoal_gslb_queries_total", `qtype="A"`, `rcode="NOERROR"`, `region="local"`},
		{"shoal_gslb_queries_total", `qtype="A"`, `rcode="NOERROR"`, `region="none"`},
		{"shoal_gslb_queries_total", `qtype="AAAA"`, `rcode="NOERROR"`, `region="local"`},
		{"shoal_gslb_queries_total", `qtype="A"`, `rcode="NXDOMAIN"`, `region="none"`},
		{"shoal_gslb_queries_total", `qtype="A"`, `rcode="REFUSED"`, `region="none"`},
		{"shoal_gslb_queries_total", `qtype="SOA"`, `rcode="NOERROR"`, `region="none"`},
		{"shoal_gslb_answer_seconds_bucket", `le="+Inf"`, "", ""},
	}
	for _, s := range series {
		if !hasSeries(text, s.name, s.qtype, s.rcode, s.region) {
			t.Errorf("/metrics lacks %s{%s,%s,%s}:\n%s", s.name, s.qtype, s.rcode, s.region, grepLines(text, "shoal_gslb_"))
		}
	}
	if n := metricValue(text, "shoal_gslb_answer_seconds_count"); n < float64(len(queries)) {
		t.Errorf("shoal_gslb_answer_seconds_count = %v, want at least %d", n, len(queries))
	}
	if strings.Contains(text, `region="10.`) {
		t.Error("a client address leaked into the region label")
	}
}
