package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/conf"
)

func reloadConfig(t *testing.T, n *Node, yaml string) error {
	t.Helper()
	yaml = fmt.Sprintf("listen: {http: %q, admin: %q}\n", n.rt.Load().cfg.Listen.HTTP, n.rt.Load().cfg.Listen.Admin) + yaml
	cfg, err := conf.Parse([]byte(yaml), "reload.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return n.Reload(cfg)
}

// clientGet sends on a shared keep-alive client and reports whether the connection was reused.
func clientGet(t *testing.T, c *http.Client, url string) (status int, h http.Header, body string, reused bool) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), reused
}

func TestNode_reloadSwapsRoutesKeepsCacheAndConnection(t *testing.T) {
	a := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "A")
	})
	b := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "B") })
	before := fmt.Sprintf("node: {name: r}\norigins: {a: {servers: [{url: %q}]}}\nroutes: [{match: {path_prefix: /}, origin: a, cache: true}]\n", a.URL)
	n := startNode(t, before, Options{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	base := "http://" + n.HTTPAddr()
	clientGet(t, client, base+"/x")
	n.settleFills()

	after := fmt.Sprintf("node: {name: r}\norigins: {a: {servers: [{url: %q}]}, b: {servers: [{url: %q}]}}\nroutes:\n  - {match: {path_prefix: /new/}, origin: b, cache: false}\n  - {match: {path_prefix: /}, origin: a, cache: true}\n", a.URL, b.URL)
	if err := reloadConfig(t, n, after); err != nil {
		t.Fatal(err)
	}
	_, h, body, reused := clientGet(t, client, base+"/x")
	if body != "A" || !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("after reload /x: %q, Cache-Status %q: the cache was lost", body, h.Get("Cache-Status"))
	}
	if !reused {
		t.Error("the keep-alive connection did not survive a reload")
	}
	if _, _, body, _ := clientGet(t, client, base+"/new/y"); body != "B" {
		t.Errorf("new route not in force: %q", body)
	}
	if a.requests.Load() != 1 {
		t.Errorf("origin a saw %d requests, want 1", a.requests.Load())
	}
}

// A reload that changes listener limits starts a new server generation on the same socket:
// requests running through it never fail.
func TestNode_reloadOfLimitsUnderLoadLosesNothing(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	cfgFor := func(timeout string) string {
		return "node: {name: r}\nlimits: {read_timeout: " + timeout + "}\n" + strings.TrimPrefix(oneRoute(false, origin.URL), "node: {name: test-edge}\n")
	}
	n := startNode(t, cfgFor("10s"), Options{})
	var failures, done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get("http://" + n.HTTPAddr() + "/")
				if err != nil {
					failures.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" {
					failures.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	for i := 0; i < 5; i++ {
		waitProgress(&done, 50)
		if err := reloadConfig(t, n, cfgFor(fmt.Sprintf("%ds", 10+i))); err != nil {
			t.Fatal(err)
		}
	}
	waitProgress(&done, 50)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed across 5 limit reloads", failures.Load(), done.Load())
	}
}

func TestNode_reloadRefusesWhatNeedsARestart(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	n := startNode(t, oneRoute(false, origin.URL), Options{})
	cfg, err := conf.Parse([]byte("listen: {http: \"127.0.0.1:1\"}\n"+oneRoute(false, origin.URL)), "x.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("Reload with another listen address: %v", err)
	}
	if status, _, body := get(t, "http://"+n.HTTPAddr()+"/"); status != 200 || body != "ok" {
		t.Errorf("old configuration not kept: %d %q", status, body)
	}
}

// waitProgress polls until counter has grown by n.
func waitProgress(counter *atomic.Int64, n int64) {
	for start := counter.Load(); counter.Load() < start+n; {
		time.Sleep(time.Millisecond)
	}
}

// The DNS server (gslb) is built once, at start: a reload that changed any gslb key was
// accepted ("configuration reloaded") and applied none of it, the listener staying where it
// was and answering from the old zone, names and regions. Such a reload is refused, as one
// changing a listen address is.
func TestNode_reloadRefusesAGSLBChange(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	const gslb = "gslb: {listen: \"127.0.0.1:0\", zone: cdn.example.com., names: [www], regions: {local: {cidrs: [127.0.0.0/8]}}}\n"
	base := "node: {name: test-edge, region: local, public_addr: 127.0.0.7}\n" + oneRoute(false, origin.URL)[len("node: {name: test-edge}\n"):]
	n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+base+gslb, Options{})
	dnsAddr := n.DNSAddr()
	for name, yaml := range map[string]string{
		"another listen address": strings.Replace(gslb, "127.0.0.1:0", "127.0.0.1:1", 1),
		"another name":           strings.Replace(gslb, "[www]", "[www, img]", 1),
		"another region":         strings.Replace(gslb, "127.0.0.0/8", "10.0.0.0/8", 1),
		"gslb off":               "",
	} {
		if err := reloadConfig(t, n, base+yaml); err == nil || !strings.Contains(err.Error(), "restart") {
			t.Errorf("Reload with %s: %v, want it refused (a restart)", name, err)
		}
	}
	if err := reloadConfig(t, n, base+gslb); err != nil {
		t.Errorf("Reload with the same gslb: %v", err)
	}
	if m, err := askDNS(dnsAddr, "www."+gslbZone, dns.TypeA, ""); err != nil || len(m.Answer) != 1 {
		t.Errorf("DNS after the reloads: %v %v", m, err)
	}

	plain := startNode(t, oneRoute(false, origin.URL), Options{})
	if err := reloadConfig(t, plain, oneRoute(false, origin.URL)+gslb); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("Reload turning gslb on: %v, want it refused (a restart)", err)
	}
}
