package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

const dnsZone = "cdn.example.com."

// dnsProc is a `shoal run` process that also answers DNS.
type dnsProc struct {
	*proc
	dns, public string
}

// startDNSProcCluster runs three shoal processes on loopback, node-i with public address
// 127.0.0.i, each serving the zone, and waits until every one answers with all three edges.
func startDNSProcCluster(t *testing.T) []*dnsProc {
	t.Helper()
	origin := objectOrigin(t)
	dnsPorts := []string{testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)}
	launched := launchProcs(t, 3, func(i int, p *proc, join string) string {
		return fmt.Sprintf(`node: {name: %s, region: local, public_addr: 127.0.0.%d}
listen: {http: %q, admin: %q, peer: "127.0.0.1:0"}
log: {access: "off", level: warn}
cache: {memory: 64MiB}
cluster: {bind: %q, join: %s, secret_file: gossip.key}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
gslb:
  listen: %q
  zone: %s
  names: [www]
  answers: 2
  regions: {local: {cidrs: [10.0.0.0/8, 127.0.0.0/8]}}
`, p.name, i+1, p.http, p.admin, p.gossip, join, origin, dnsPorts[i], dnsZone)
	})
	var procs []*dnsProc
	for i, p := range launched {
		procs = append(procs, &dnsProc{proc: p, dns: dnsPorts[i], public: fmt.Sprintf("127.0.0.%d", i+1)})
	}
	for _, p := range procs {
		deadline := time.Now().Add(10 * time.Second)
		for len(nsAnswer(p.dns)) != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("%s never published three name servers", p.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return procs
}

func nsAnswer(addr string) []dns.RR {
	q := new(dns.Msg)
	q.SetQuestion(dnsZone, dns.TypeNS)
	m, _, err := (&dns.Client{Timeout: time.Second}).Exchange(q, addr)
	if err != nil {
		return nil
	}
	return m.Answer
}

// wwwAnswer asks for www as a client of subnet ecs and returns the sorted addresses; ok is
// false when the server did not answer NOERROR.
func wwwAnswer(addr, ecs string) (addrs []string, ok bool) {
	q := new(dns.Msg)
	q.SetQuestion("www."+dnsZone, dns.TypeA)
	_, ipnet, _ := net.ParseCIDR(ecs)
	bits, _ := ipnet.Mask.Size()
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET,
		Family: 1, SourceNetmask: uint8(bits), Address: ipnet.IP.To4()})
	m, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(q, addr)
	if err != nil || m.Rcode != dns.RcodeSuccess {
		return nil, false
	}
	for _, rr := range m.Answer {
		if a, is := rr.(*dns.A); is {
			addrs = append(addrs, a.A.String())
		}
	}
	slices.Sort(addrs)
	return addrs, true
}

func clusterMembers(p *proc) string {
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "shoal_edge_cluster_members "); ok {
			return v
		}
	}
	return ""
}

// A SIGKILLed node leaves the survivors' DNS answers once the ring declares it dead. The test
// logs how long that takes (kill to answer change, ring detection to answer change) and asserts
// only generous bounds: timing on a shared 2-core machine under -race is not a spec.
func TestGSLB_killedNodeLeavesAnswers(t *testing.T) {
	procs := startDNSProcCluster(t)
	victim, survivors := procs[2], procs[:2]
	ecs := ""
	for i := range 64 {
		c := fmt.Sprintf("10.%d.0.0/24", i)
		if got, _ := wwwAnswer(survivors[0].dns, c); slices.Contains(got, victim.public) {
			ecs = c
			break
		}
	}
	if ecs == "" {
		t.Fatalf("no client of 64 is answered %s", victim.public)
	}

	killed := time.Now()
	victim.cmd.Process.Signal(syscall.SIGKILL)
	detected := make(chan time.Time, 1)
	go func() {
		for time.Since(killed) < 20*time.Second {
			if clusterMembers(survivors[0].proc) == "2" && clusterMembers(survivors[1].proc) == "2" {
				detected <- time.Now()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var changed time.Time
	for changed.IsZero() {
		if time.Since(killed) > 20*time.Second {
			t.Fatalf("survivors still answer %s 20 s after the kill", victim.public)
		}
		gone := true
		for _, p := range survivors {
			got, ok := wwwAnswer(p.dns, ecs)
			gone = gone && ok && len(got) == 2 && !slices.Contains(got, victim.public)
		}
		if gone {
			changed = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	var detection time.Time
	select {
	case detection = <-detected:
	case <-time.After(20 * time.Second):
		t.Fatal("the answers changed but the survivors' member count never reached 2")
	}
	t.Logf("kill to ring detection (shoal_edge_cluster_members=2 on both survivors) %v",
		detection.Sub(killed).Round(time.Millisecond))
	t.Logf("kill to the first answers without %s on both survivors %v; detection to answer change %v",
		victim.public, changed.Sub(killed).Round(time.Millisecond), changed.Sub(detection).Round(time.Millisecond))
	if d := changed.Sub(killed); d > 10*time.Second {
		t.Errorf("answers changed %v after the kill, want a few seconds at most", d)
	}
	if d := changed.Sub(detection); d > 2*time.Second {
		t.Errorf("answers changed %v after the ring's detection, want about a second at most", d)
	}
}
