package edge

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// RFC 9211: the Cache-Status member the node adds (uri-miss, vary-miss, stale, request and
// method are also checked in the other RFC tests).
func TestNodeRFC9211_cacheStatus(t *testing.T) {
	clock := newTestClock()
	release := make(chan struct{})
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/slow" {
			<-release
		}
		fmt.Fprint(w, "x")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "routes:\n", "routes:\n  - {match: {path_prefix: /pass}, origin: o, cache: false}\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	cases := []struct {
		name, path, want string
	}{
		{"2.2, 2.3, 2.4, 2.8: a miss says why, what the origin answered, stored, and the node", "/s", "shoal; fwd=uri-miss; fwd-status=200; ttl=60; stored; detail=test-edge"},
		{"2.1, 2.5: a hit with its ttl", "/s", "shoal; hit; ttl=60; detail=test-edge"},
		{"2.2: a pass route is bypass", "/pass/x", "shoal; fwd=bypass; fwd-status=200; detail=test-edge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fillOnce(t, n, c.path).cacheStatus(); got != c.want {
				t.Errorf("Cache-Status %q, want %q", got, c.want)
			}
		})
	}
	t.Run("2.7: followers of one fill are collapsed", func(t *testing.T) {
		statuses := make([]string, 5)
		before := origin.requests.Load()
		go func() {
			// Release the origin once all four followers have joined the leader's fill.
			deadline := time.Now().Add(10 * time.Second)
			for n.fills.Joined(cacheKey("http", n.HTTPAddr(), "/slow", "")) < 5 && time.Now().Before(deadline) {
				runtimeYield()
			}
			close(release)
		}()
		parallel(5, func(i int) { statuses[i] = send(t, n, "GET", "/slow").cacheStatus() })
		collapsed := 0
		for _, s := range statuses {
			if strings.Contains(s, "; collapsed") {
				collapsed++
			}
		}
		if collapsed != 4 || origin.requests.Load()-before != 1 {
			t.Errorf("%d of 5 collapsed: %q", collapsed, statuses)
		}
	})
}

// RFC 9213: targeted cache control.
func TestNodeRFC9213_targetedFields(t *testing.T) {
	clock := newTestClock()
	var fields atomic.Value // []string
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		f := fields.Load().([]string)
		for i := 0; i+1 < len(f); i += 2 {
			w.Header().Set(f[i], f[i+1])
		}
		fmt.Fprint(w, "t")
	})
	cases := []struct {
		name     string
		cacheCfg string
		fields   []string
		stored   bool
		stripped []string // never sent downstream
		kept     []string // sent downstream
	}{
		{"2.2: CDN-Cache-Control overrides Cache-Control", "", []string{"Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60"}, true, nil, []string{"CDN-Cache-Control", "Cache-Control"}},
		{"2.2: CDN-Cache-Control no-store wins over Cache-Control", "", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", "no-store"}, false, nil, nil},
		{"2.2: Shoal-Cache-Control overrides both and is stripped", "", []string{"Cache-Control", "no-store", "CDN-Cache-Control", "no-store", "Shoal-Cache-Control", "max-age=60"}, true, []string{"Shoal-Cache-Control"}, nil},
		{"2.2: cache.targeted_field names the field", "targeted_field: Acme-Cache-Control", []string{"Cache-Control", "no-store", "Acme-Cache-Control", "max-age=60", "Shoal-Cache-Control", "no-store"}, true, []string{"Acme-Cache-Control"}, []string{"Shoal-Cache-Control"}},
		{"Surrogate-Control is recognised and stripped", "", []string{"Cache-Control", "no-store", "Surrogate-Control", "max-age=60"}, true, []string{"Surrogate-Control"}, nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields.Store(c.fields)
			n := rfcNode(t, clock, origin.URL, c.cacheCfg)
			path := fmt.Sprintf("/t/%d", i)
			first := fillOnce(t, n, path)
			second := send(t, n, "GET", path)
			if second.hit() != c.stored {
				t.Errorf("stored=%v, want %v (%q)", second.hit(), c.stored, second.cacheStatus())
			}
			for _, r := range []reply{first, second} {
				for _, f := range c.stripped {
					if r.header.Get(f) != "" {
						t.Errorf("%s sent downstream", f)
					}
				}
				for _, f := range c.kept {
					if r.header.Get(f) == "" {
						t.Errorf("%s not sent downstream", f)
					}
				}
			}
		})
	}
}

func runtimeYield() { runtime.Gosched() }
