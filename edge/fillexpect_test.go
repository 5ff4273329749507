package edge

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestNode_fillSendsNoExpect: Expect: 100-continue is about the client's own upload (RFC 9110
// section 10.1.1), which the listener already answered; a fill is the cache's GET of the
// object, with no content, so it sends no Expect, whatever the client that caused it sent.
// Failed before: the fill copied the client's Expect to the origin.
func TestNode_fillSendsNoExpect(t *testing.T) {
	var mu sync.Mutex
	var expects []string
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		expects = append(expects, strings.Join(r.Header.Values("Expect"), ","))
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("object"))
	})
	n := startNode(t, oneRoute(true, o.URL), Options{})
	raw := "GET /e.txt HTTP/1.1\r\nHost: site.test\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
	// fasthttp may answer the expectation with a 100 first (RFC 9110 allows it).
	out := strings.TrimPrefix(rawResponse(t, n.HTTPAddr(), raw), "HTTP/1.1 100 Continue\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.HasSuffix(out, "object") {
		t.Fatalf("answer: %q", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(expects) != 1 || expects[0] != "" {
		t.Fatalf("the origin got Expect %q on the fill", expects)
	}
}
