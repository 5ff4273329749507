package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestNode_cookiesReachTheOriginAsSent: the Cookie field reaches the origin byte for byte, on
// pass and on a fill, directly and through the peer hop: JSON values (consent managers
// store them so), quoted values, backslashes. Failed before: the origin request was written
// by fasthttp's cookie serializer, which dropped `consent={"necessary":true}` and `x=1\2`
// and unquoted `a="q"`, so a site behind the node lost its consent and session state.
func TestNode_cookiesReachTheOriginAsSent(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = strings.Join(r.Header.Values("Cookie"), " | ")
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/pass/") {
			w.Header().Set("Cache-Control", "no-store")
		} else {
			w.Header().Set("Cache-Control", "max-age=60")
		}
		fmt.Fprint(w, "ok")
	})
	yaml := strings.Replace(oneRoute(true, o.URL), "routes:\n", "routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	n := startNode(t, yaml, Options{})
	const cookie = `consent={"necessary":true,"stats":false}; a="q"; x=1\2; sid=abc`
	for _, path := range []string{"/pass/form", "/static/a.css"} {
		raw := "GET " + path + " HTTP/1.1\r\nHost: site.test\r\nCookie: " + cookie + "\r\nConnection: close\r\n\r\n"
		if out := rawResponse(t, n.HTTPAddr(), raw); !strings.HasPrefix(out, "HTTP/1.1 200") {
			t.Fatalf("%s: %q", path, out)
		}
		mu.Lock()
		g := got[path]
		mu.Unlock()
		if g != cookie {
			t.Errorf("%s: the origin got Cookie %q, want %q", path, g, cookie)
		}
	}
}
