package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// RFC 9111 section 4.4: a non-error response to an unsafe method invalidates the target URI
// and the same-origin URIs in its Location and Content-Location, whichever route the
// request took. A POST to a pass route (a form, a login) answered 303 with a Location on a
// cache route left the stored response there standing, as did an unsafe method that a
// route matching only that method sends to the origin uncached while GET of the same path
// is cached. The pass answer keeps its fwd=bypass.
func TestNode_unsafeRequestOnAPassRouteInvalidates(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			w.Header().Set("Cache-Control", "max-age=600")
			fmt.Fprint(w, r.URL.Path)
			return
		}
		for _, f := range []string{"Location", "Content-Location"} {
			if v := r.URL.Query().Get(f); v != "" {
				w.Header().Set(f, v)
			}
		}
		status := http.StatusOK
		fmt.Sscan(r.URL.Query().Get("status"), &status)
		w.WriteHeader(status)
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "  - {match: {path_prefix: /}, origin: o, cache: true}",
		"  - {match: {path_prefix: /api/, methods: [PUT, DELETE]}, origin: o, cache: false}\n"+
			"  - {match: {path_prefix: /static/}, origin: o, cache: true}\n"+
			"  - {match: {path_prefix: /api/}, origin: o, cache: true}\n"+
			"  - {match: {path_prefix: /}, origin: o, cache: false}", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	for _, c := range []struct {
		name, method, target string
		invalidated, kept    []string
	}{
		{"POST to a pass route, 303 with a Location on a cache route", "POST", "/form?status=303&Location=/static/a.css", []string{"/static/a.css"}, []string{"/static/z.css"}},
		{"POST to a pass route, Content-Location on a cache route", "POST", "/form?status=200&Content-Location=/static/b.css", []string{"/static/b.css"}, nil},
		{"PUT on a route of its own to a path GET caches", "PUT", "/api/item", []string{"/api/item"}, []string{"/api/other"}},
		{"an error answer invalidates nothing", "POST", "/form?status=500&Location=/static/c.css", nil, []string{"/static/c.css"}},
		{"another origin's Location is ignored", "POST", "/form?status=303&Location=http://other.example/static/d.css", nil, []string{"/static/d.css"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range append(append([]string{}, c.invalidated...), c.kept...) {
				fillOnce(t, n, p)
				if send(t, n, "GET", p, "Cache-Control", "only-if-cached").status != http.StatusOK {
					t.Fatalf("%s not stored", p)
				}
			}
			r := send(t, n, c.method, c.target)
			n.settleFills()
			if !strings.Contains(r.cacheStatus(), "fwd=bypass") {
				t.Errorf("%s on a pass route: Cache-Status %q, want fwd=bypass", c.method, r.cacheStatus())
			}
			for _, p := range c.invalidated {
				if send(t, n, "GET", p, "Cache-Control", "only-if-cached").status != http.StatusGatewayTimeout {
					t.Errorf("%s still stored", p)
				}
			}
			for _, p := range c.kept {
				if send(t, n, "GET", p, "Cache-Control", "only-if-cached").status != http.StatusOK {
					t.Errorf("%s was invalidated", p)
				}
			}
		})
	}
}
