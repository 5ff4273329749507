package loadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge"
	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/shoal-cdn/shoal/loadtest"
)

// The scenarios run against real nodes: in-process edge nodes in front of an nginx origin
// that answers every /obj/ path with one cacheable file, and logs each request it serves.

const (
	zone        = "cdn.example.com."
	purgeSecret = "loadtest-purge-token-0123456789"
)

type site struct {
	origin *testenv.Nginx
	nodes  []*edge.Node
	token  string // purge token file
}

// startSite starts an nginx origin and n independent edge nodes (no cluster: each caches on
// its own, which is what spreading load over several bases needs), each with the purge API
// and a GSLB server answering for www.cdn.example.com.
func startSite(t *testing.T, n int) *site {
	t.Helper()
	origin := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
    location /obj/ { add_header Cache-Control "max-age=300"; try_files /obj.txt =404; }`})
	origin.WriteFile("obj.txt", "a cacheable object\n")
	dir := t.TempDir()
	s := &site{origin: origin, token: filepath.Join(dir, "purge.token")}
	if err := os.WriteFile(s.token, []byte(purgeSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		yaml := fmt.Sprintf(`node: {name: lt-%d, region: local, public_addr: 127.0.0.1}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0"}
cache: {memory: 16MiB, max_object_size: 1MiB, fill_timeout: 5s}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
purge: {token_file: purge.token}
gslb: {listen: "127.0.0.1:0", zone: %s, names: [www], regions: {local: {cidrs: [127.0.0.0/8]}}}
`, i, origin.URL, zone)
		cfg, err := conf.Parse([]byte(yaml), "loadtest.yaml", dir)
		if err != nil {
			t.Fatalf("config: %v\n%s", err, yaml)
		}
		node, err := edge.New(cfg, edge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			node.Shutdown(ctx)
		})
		s.nodes = append(s.nodes, node)
	}
	return s
}

func (s *site) base(i int) string { return "http://" + s.nodes[i].HTTPAddr() }

func (s *site) keys() loadtest.KeySpace {
	ks := loadtest.KeySpace{}
	for i := range s.nodes {
		ks.Bases = append(ks.Bases, s.base(i))
	}
	return ks
}

func attack(t *testing.T, cfg loadtest.Config, tr vegeta.Targeter) []vegeta.Result {
	t.Helper()
	var out []vegeta.Result
	if err := loadtest.Attack(context.Background(), cfg, tr, func(r *vegeta.Result) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// tally counts results by outcome; a hit is a 200 whose Cache-Status says so (RFC 9211).
type tally struct{ ok, hits, failed int }

func count(rs []vegeta.Result) tally {
	var c tally
	for _, r := range rs {
		if r.Code != http.StatusOK {
			c.failed++
			continue
		}
		c.ok++
		if strings.Contains(r.Headers.Get("Cache-Status"), "; hit") {
			c.hits++
		}
	}
	return c
}

func TestHitScenario_ServesFromCacheAfterOnePass(t *testing.T) {
	s := startSite(t, 1)
	got := count(attack(t, loadtest.Config{Pacer: loadtest.PerSecond(200), Duration: 500 * time.Millisecond},
		loadtest.HitTargeter(s.keys(), 5)))
	if got.ok != 100 || got.failed != 0 {
		t.Fatalf("%+v, want 100 successes at 200/s for 500ms", got)
	}
	// A request that arrives while its key's fill is still under way joins it (collapsed)
	// rather than hitting, so on a busy machine some of the other 95 do not say "hit"; the
	// whole second half of the run must.
	if fills := s.origin.Requests("/obj/"); fills != 5 || got.hits < 50 {
		t.Fatalf("origin filled %d objects and %d of 100 were hits; want 5 fills, over 50 hits", fills, got.hits)
	}
}

func TestMissScenario_EveryRequestReachesTheOrigin(t *testing.T) {
	s := startSite(t, 1)
	got := count(attack(t, loadtest.Config{Pacer: loadtest.PerSecond(100), Duration: 300 * time.Millisecond},
		loadtest.MissTargeter(s.keys(), "m")))
	if fills := s.origin.Requests("/obj/miss-m-"); got.ok != 30 || got.hits != 0 || fills != 30 {
		t.Fatalf("%+v with %d origin requests, want 30 misses, each filled", got, fills)
	}
}

func TestZipfScenario_HotKeysHit(t *testing.T) {
	s := startSite(t, 1)
	z, err := loadtest.NewZipf(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	rs := attack(t, loadtest.Config{Pacer: loadtest.PerSecond(300), Duration: time.Second},
		loadtest.ZipfTargeter(s.keys(), z, 42))
	distinct := map[string]bool{}
	for _, r := range rs {
		distinct[r.URL] = true
	}
	got, fills := count(rs), s.origin.Requests("/obj/")
	// Each key is filled once; every other request for it is a hit. Under Zipf(100, 1) the
	// ten hottest keys draw over half the requests, so most requests repeat a key.
	if got.ok != 300 || fills != len(distinct) || len(distinct) > 100 {
		t.Fatalf("%+v, %d origin requests for %d distinct keys", got, fills, len(distinct))
	}
	if got.hits < 150 {
		t.Fatalf("%d hits of 300: not a Zipf mix", got.hits)
	}
}

// TestStampedeScenario_OneOriginFetchPerKey: bursts of 20 simultaneous requests for a cold key
// reach the origin once per key: the node coalesces the herd.
func TestStampedeScenario_OneOriginFetchPerKey(t *testing.T) {
	s := startSite(t, 1)
	const burst = 20
	got := count(attack(t, loadtest.Config{Pacer: loadtest.Burst{Constant: loadtest.PerSecond(200), Size: burst},
		Duration: 200 * time.Millisecond}, loadtest.StampedeTargeter(s.keys(), burst, "s")))
	if fills := s.origin.Requests("/obj/stampede-s-"); got.ok != 2*burst || fills != 2 {
		t.Fatalf("%+v with %d origin requests, want %d successes from 2 fills", got, fills, 2*burst)
	}
}

// TestFailover_SpreadsOverBasesAndCountsTheDeadNode: load spread over two nodes, one shut
// down halfway. The rate sent does not drop, the live node answers its half throughout, and
// the dead node's half fails from then on instead of vanishing from the results.
func TestFailover_SpreadsOverBasesAndCountsTheDeadNode(t *testing.T) {
	s := startSite(t, 2)
	stop := time.AfterFunc(500*time.Millisecond, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.nodes[1].Shutdown(ctx)
	})
	defer stop.Stop()
	rs := attack(t, loadtest.Config{Pacer: loadtest.PerSecond(100), Duration: time.Second, Options: []func(*vegeta.Attacker){
		vegeta.Timeout(2 * time.Second)}}, loadtest.HitTargeter(s.keys(), 5))
	per := map[string][]vegeta.Result{}
	for _, r := range rs {
		base := s.base(0)
		if !strings.HasPrefix(r.URL, base) {
			base = s.base(1)
		}
		per[base] = append(per[base], r)
	}
	live, dead := count(per[s.base(0)]), count(per[s.base(1)])
	if len(rs) != 100 || live.ok != 50 || live.failed != 0 {
		t.Fatalf("%d results; live node %+v: want 100, and all 50 of the live node's answered", len(rs), live)
	}
	if dead.ok < 20 || dead.failed < 10 || dead.ok+dead.failed != 50 {
		t.Fatalf("dead node %+v: want its first half answered and its last half failed", dead)
	}
}

func TestDNSScenario_ReportsThroughVegetaMetrics(t *testing.T) {
	s := startSite(t, 1)
	client := &http.Client{Transport: &loadtest.DNSTransport{Timeout: 2 * time.Second}}
	tests := []struct {
		name   string
		qtype  uint16
		status string
		errs   string
	}{
		{"www." + zone, dns.TypeA, "200", ""},
		{"www." + zone, dns.TypeAAAA, "204", ""}, // NODATA: the edges are IPv4 only
		{"nope." + zone, dns.TypeA, "404", "404 NXDOMAIN"},
		{"www.example.org.", dns.TypeA, "403", "403 REFUSED"},
	}
	for _, tt := range tests {
		tr, err := loadtest.DNSTargeter(s.nodes[0].DNSAddr(), tt.name, tt.qtype)
		if err != nil {
			t.Fatal(err)
		}
		m, err := loadtest.Run(context.Background(), loadtest.Config{Pacer: loadtest.PerSecond(100), Duration: 200 * time.Millisecond,
			Options: []func(*vegeta.Attacker){vegeta.Client(client)}}, tr)
		if err != nil {
			t.Fatal(err)
		}
		if m.Requests != 20 || m.StatusCodes[tt.status] != 20 || strings.Join(m.Errors, ",") != tt.errs ||
			m.BytesOut.Total == 0 || m.BytesIn.Total < m.BytesOut.Total {
			t.Errorf("%s %s: %d requests, codes %v, errors %q, bytes out %d in %d; want 20 × %s, errors %q",
				tt.name, dns.TypeToString[tt.qtype], m.Requests, m.StatusCodes, m.Errors, m.BytesOut.Total, m.BytesIn.Total, tt.status, tt.errs)
		}
	}
}

// TestCommand_ScenariosAgainstANode drives the DNS and purge-storm scenarios through
// "shoal loadtest attack", as an operator would.
func TestCommand_ScenariosAgainstANode(t *testing.T) {
	s := startSite(t, 1)
	t.Run("dns", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := loadtest.Command(context.Background(), []string{"attack", "-scenario", "dns", "-dns", s.nodes[0].DNSAddr(),
			"-dns-name", "www." + zone, "-dns-net", "tcp", "-rate", "100", "-duration", "100ms", "-encoding", "json"}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		want := `"method":"DNS","url":"dns://` + s.nodes[0].DNSAddr() + `/www.` + zone + `?type=A"`
		if len(lines) != 10 || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], `"code":200`) {
			t.Fatalf("%d results, first %s; want 10 like %s", len(lines), lines[0], want)
		}
	})
	t.Run("purge-storm", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := loadtest.Command(context.Background(), []string{"attack", "-scenario", "purge-storm", "-base", s.base(0),
			"-header", "Host: www.example.test", "-keys", "20", "-rate", "200", "-duration", "1s",
			"-purge-admin", "http://" + s.nodes[0].AdminAddr(), "-purge-token-file", s.token, "-purge-rate", "20"}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var load []vegeta.Result
		dec := vegeta.NewDecoder(&stdout)
		for {
			var r vegeta.Result
			if dec.Decode(&r) != nil {
				break
			}
			load = append(load, r)
		}
		report := strings.Join(strings.Fields(stderr.String()), " ")
		if got := count(load); got.ok != 200 || got.failed != 0 {
			t.Fatalf("load %+v, want 200 successes", got)
		}
		if !strings.Contains(report, "purge storm:") || !strings.Contains(report, "Success [ratio] 100.00%") ||
			!strings.Contains(report, "Status Codes [code:count] 200:") {
			t.Fatalf("purge storm report:\n%s", stderr.String())
		}
		// Without purges 20 keys take at most 20 fills; purges of those URLs and prefixes
		// (named by the virtual host) make the node fetch them again.
		if fills := s.origin.Requests("/obj/"); fills <= 20 {
			t.Fatalf("%d origin fills: the purges invalidated nothing", fills)
		}
	})
}
