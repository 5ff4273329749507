package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_metricsCountEveryHit: however a hit's head is written (rendered into a template,
// copied from it, copied from this second's patched copy, or field by field) and over
// whichever listener, /metrics counts each hit once: a known number of GETs and HEADs over
// HTTP/1.1 and GETs over HTTP/2, spread over more than a second, move the hit, request and
// response counters by exactly that number and the client bytes by the bodies sent.
func TestNode_metricsCountEveryHit(t *testing.T) {
	body := strings.Repeat("m", 1000)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(body))
	})
	n, pool := h2Node(t, "origins:\n  o: {servers: [{url: "+origin.URL+"}]}\n"+
		"routes:\n  - {match: {path_prefix: /}, origin: o, cache: true}\n")
	h1 := &http.Client{}
	h2 := h2Client(pool, n.HTTPSAddr())
	fetch(t, h1, "GET", "http://"+n.HTTPAddr()+"/m")
	fetch(t, h2, "GET", "https://www.example.test/m") // another key: the scheme is part of it
	n.settleFills()                                   // the next requests are store hits, not joins of the finished fill

	counters := func() map[string]float64 {
		_, _, text := get(t, "http://"+n.AdminAddr()+"/metrics")
		out := map[string]float64{}
		for _, name := range []string{"shoal_edge_cache_hits_total", `shoal_edge_requests_total{policy="cache",result="hit"}`,
			`shoal_edge_responses_total{class="2xx"}`, "shoal_edge_client_bytes_total"} {
			out[name] = max(metricValue(text, name), 0)
		}
		return out
	}
	before := counters()
	const rounds, h1Gets, h1Heads, h2Gets = 3, 20, 4, 15
	for round := range rounds {
		for range h1Gets {
			if resp, got := fetch(t, h1, "GET", "http://"+n.HTTPAddr()+"/m"); string(got) != body || !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
				t.Fatalf("HTTP/1.1 GET: not a hit of the body: %q", resp.Header.Get("Cache-Status"))
			}
		}
		for range h1Heads {
			if resp, _ := fetch(t, h1, "HEAD", "http://"+n.HTTPAddr()+"/m"); !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
				t.Fatalf("HTTP/1.1 HEAD: not a hit: %q", resp.Header.Get("Cache-Status"))
			}
		}
		for range h2Gets {
			if resp, got := fetch(t, h2, "GET", "https://www.example.test/m"); string(got) != body || resp.ProtoMajor != 2 || !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
				t.Fatalf("HTTP/2 GET: not an HTTP/2 hit of the body: %s %q", resp.Proto, resp.Header.Get("Cache-Status"))
			}
		}
		if round < rounds-1 {
			time.Sleep(600 * time.Millisecond) // the next round's hits are in another second
		}
	}
	after := counters()
	hits := float64(rounds * (h1Gets + h1Heads + h2Gets))
	for name, want := range map[string]float64{
		"shoal_edge_cache_hits_total":                            hits,
		`shoal_edge_requests_total{policy="cache",result="hit"}`: hits,
		`shoal_edge_responses_total{class="2xx"}`:                hits,
		"shoal_edge_client_bytes_total":                          float64(rounds * (h1Gets + h2Gets) * len(body)),
	} {
		if got := after[name] - before[name]; got != want {
			t.Errorf("%s moved by %v over %v hits, want %v", name, got, hits, want)
		}
	}
}
