package edge

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNode_emptyQueryIsATargetOfItsOwn: RFC 3986 section 6.2.3 does not let a normalizer drop
// the "?" of an empty query ("http://example.com/?" cannot be assumed equivalent to
// "http://example.com/"), and RFC 9110 section 4.2.3 licenses no such fold for http. So
// "/e/x.css?" reaches the origin as the client sent it (nginx's proxy_pass sends it so too),
// is keyed apart from "/e/x.css" over HTTP/1.1 and HTTP/2 alike, and a purge of one spelling
// leaves the other. Failed before: the origin was asked "/e/x.css" for both, the second
// spelling was a hit on the first's object, and a PURGE of "/e/x.css?" removed "/e/x.css".
func TestNode_emptyQueryIsATargetOfItsOwn(t *testing.T) {
	origin := startRawLogOrigin(t)
	yaml := `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
` + hostileConfig(origin.URL, "purge: {allow: [127.0.0.0/8]}\n")
	n := startNode(t, yaml, Options{})
	h2 := h2cClient()
	fetch := func(proto, target string) (cacheStatus, body string) {
		t.Helper()
		n.settleFills()
		if proto == "http1" {
			out, _ := converse(t, n.HTTPAddr(), "GET "+target+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 5*time.Second)
			head, body, _ := strings.Cut(out, "\r\n\r\n")
			for _, l := range strings.Split(head, "\r\n") {
				if v, ok := strings.CutPrefix(l, "Cache-Status: "); ok {
					cacheStatus = v
				}
			}
			return cacheStatus, body
		}
		req, err := http.NewRequest("GET", "http://"+n.H2CAddr()+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "www.test"
		resp, err := h2.Do(req)
		if err != nil {
			t.Fatalf("h2c GET %s: %v", target, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Cache-Status"), string(b)
	}
	for _, proto := range []string{"http1", "h2c"} {
		path := "/e/" + proto + ".css"
		steps := []struct {
			target string
			hit    bool
		}{{path + "?", false}, {path, false}, {path + "?", true}, {path, true}}
		for _, s := range steps {
			status, body := fetch(proto, s.target)
			if body != s.target || strings.Contains(status, "hit") != s.hit {
				t.Errorf("%s GET %s: %q with the origin's answer to %q; want hit %v and the answer to %s",
					proto, s.target, status, body, s.hit, s.target)
			}
		}
		if got, want := origin.asked(path), []string{path + "?", path}; !slices.Equal(got, want) {
			t.Errorf("%s: the origin was asked %q, want %q", proto, got, want)
		}
		// A purge names one spelling: the other object stays.
		out, _ := converse(t, n.HTTPAddr(), "PURGE "+path+"? HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 5*time.Second)
		if !strings.Contains(out, `"purged":1`) {
			t.Errorf("%s: PURGE %s?: %q", proto, path, out)
		}
		if status, _ := fetch(proto, path); !strings.Contains(status, "hit") {
			t.Errorf("%s: PURGE %s? took %s with it: %q", proto, path, path, status)
		}
		if status, _ := fetch(proto, path+"?"); strings.Contains(status, "hit") {
			t.Errorf("%s: after PURGE %s?, %s? is still a hit: %q", proto, path, path, status)
		}
	}
}

// TestCluster_emptyQueryCrossesThePeerHop: the neighbour across the peer hop. Whichever member
// a client asks, "/p/q.css?" is owned, filled and answered as itself, and "/p/q.css" as
// itself: one origin fill each, each asked as the client spelled it. Failed before: the
// origin was asked "/p/q.css" once and every member answered both spellings from it.
func TestCluster_emptyQueryCrossesThePeerHop(t *testing.T) {
	origin := startRawLogOrigin(t)
	nodes := startCluster(t, 3, origin.URL)
	for _, target := range []string{"/p/q.css?", "/p/q.css"} {
		for _, n := range nodes {
			n.settleFills()
			out, _ := converse(t, n.HTTPAddr(), "GET "+target+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 5*time.Second)
			if !strings.Contains(out, " 200 ") || !strings.HasSuffix(out, "\r\n\r\n"+target) {
				t.Errorf("%s answered %q for %s", n.name, out, target)
			}
		}
	}
	if got, want := origin.asked("/p/"), []string{"/p/q.css?", "/p/q.css"}; !slices.Equal(got, want) {
		t.Errorf("the origin was asked %q, want one fill each: %q", got, want)
	}
}
