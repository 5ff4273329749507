package edge

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// RFC 9111 section 4.2: how long a stored response stays fresh, observed as a hit one
// second before the lifetime ends and a forward one second after.
func TestNodeRFC9111_freshnessLifetime(t *testing.T) {
	clock := newTestClock()
	cases := []struct {
		name     string
		path     string
		header   func() []string // evaluated at fill time
		lifetime time.Duration   // 0: stale on arrival
	}{
		{"4.2.1: s-maxage wins over max-age and Expires", "/s-maxage",
			func() []string {
				return []string{"Cache-Control", "max-age=100, s-maxage=20", "Expires", clock.httpDate(300 * time.Second)}
			}, 20 * time.Second},
		{"4.2.1: max-age wins over Expires", "/max-age",
			func() []string {
				return []string{"Cache-Control", "max-age=30", "Expires", clock.httpDate(300 * time.Second)}
			}, 30 * time.Second},
		{"4.2.1: Expires minus Date", "/expires",
			func() []string { return []string{"Expires", clock.httpDate(40 * time.Second)} }, 40 * time.Second},
		{"5.3: an invalid Expires means already expired", "/expires-invalid",
			func() []string { return []string{"Expires", "0", "ETag", `"e"`} }, 0},
		{"4.2.2: heuristic is a tenth of the time since Last-Modified", "/heuristic",
			func() []string { return []string{"Last-Modified", clock.httpDate(-100 * time.Second)} }, 10 * time.Second},
		{"4.2.2: heuristic capped by cache.heuristic_max", "/heuristic-capped",
			func() []string { return []string{"Last-Modified", clock.httpDate(-1000 * time.Hour)} }, 30 * time.Second},
	}
	headers := map[string][]string{}
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		h := headers[r.URL.Path]
		for i := 0; i+1 < len(h); i += 2 {
			w.Header().Set(h[i], h[i+1])
		}
		fmt.Fprint(w, r.URL.Path)
	})
	n := rfcNode(t, clock, origin.URL, "heuristic_max: 30s")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			headers[c.path] = c.header()
			fillOnce(t, n, c.path)
			if c.lifetime == 0 {
				if r := send(t, n, "GET", c.path); r.hit() {
					t.Errorf("stale on arrival but served as hit: %q", r.cacheStatus())
				}
				return
			}
			clock.Add(c.lifetime - time.Second)
			if r := send(t, n, "GET", c.path); !r.hit() || !strings.Contains(r.cacheStatus(), "ttl=1;") {
				t.Errorf("1 s before the end: Cache-Status %q, want a hit with ttl=1", r.cacheStatus())
			}
			clock.Add(2 * time.Second)
			if r := send(t, n, "GET", c.path); r.hit() {
				t.Errorf("1 s after the end: Cache-Status %q, want a forward", r.cacheStatus())
			}
		})
	}
}

// RFC 9111 section 4.2.3: Age counts the upstream Age and the response delay, and goes out
// as an integer.
func TestNodeRFC9111_age(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Age", "10")
		clock.Add(3 * time.Second) // the origin took 3 s: response_delay
		fmt.Fprint(w, "aged")
	})
	n := rfcNode(t, clock, origin.URL, "")
	integer := regexp.MustCompile(`^[0-9]+$`)
	cases := []struct {
		name    string
		advance time.Duration
		wantAge string
		wantTTL string
	}{
		{"4.2.3: corrected_age_value = Age 10 + response_delay 3", 0, "13", "ttl=47"},
		{"4.2.3: resident time adds on a hit", 2500 * time.Millisecond, "15", "ttl=44"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock.Add(c.advance)
			r := fillOnce(t, n, "/age")
			if got := r.header.Get("Age"); got != c.wantAge || !integer.MatchString(got) {
				t.Errorf("Age = %q, want %s", got, c.wantAge)
			}
			if !strings.Contains(r.cacheStatus(), c.wantTTL) || (i > 0) != r.hit() {
				t.Errorf("Cache-Status %q, want %s", r.cacheStatus(), c.wantTTL)
			}
		})
	}
}

// RFC 9111 section 5.2.1: the client's request directives.
func TestNodeRFC9111_requestDirectives(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "stored body")
	})
	n := rfcNode(t, clock, origin.URL, "")
	cases := []struct {
		name        string
		age         time.Duration // of the stored response when asked; -1: nothing stored
		header      []string
		wantStatus  int
		wantHit     bool
		wantFwd     string // in Cache-Status when not a hit
		conditional bool   // the origin saw If-None-Match
		stored      bool   // a later plain request is a hit
	}{
		{"5.2.1.1: max-age below the age forces validation", 10 * time.Second, []string{"Cache-Control", "max-age=5"}, 200, false, "fwd=request", true, true},
		{"5.2.1.1: max-age above the age is a hit", 10 * time.Second, []string{"Cache-Control", "max-age=50"}, 200, true, "", false, true},
		{"5.2.1.2: max-stale covers 50 s of staleness", 150 * time.Second, []string{"Cache-Control", "max-stale=100"}, 200, true, "", false, true},
		{"5.2.1.2: max-stale=10 does not", 150 * time.Second, []string{"Cache-Control", "max-stale=10"}, 200, false, "fwd=stale", true, true},
		{"5.2.1.3: min-fresh above the ttl forces validation", 60 * time.Second, []string{"Cache-Control", "min-fresh=50"}, 200, false, "fwd=request", true, true},
		{"5.2.1.4: no-cache forces validation", 0, []string{"Cache-Control", "no-cache"}, 200, false, "fwd=request", true, true},
		{"5.4: Pragma: no-cache without Cache-Control too", 0, []string{"Pragma", "no-cache"}, 200, false, "fwd=request", true, true},
		{"5.2.1.5: no-store keeps the response out of the store", -1, []string{"Cache-Control", "no-store"}, 200, false, "fwd=uri-miss", false, false},
		{"5.2.1.7: only-if-cached with nothing stored is 504", -1, []string{"Cache-Control", "only-if-cached"}, 504, false, "", false, false},
		{"5.2.1.7: only-if-cached with a fresh response is a hit", 10 * time.Second, []string{"Cache-Control", "only-if-cached"}, 200, true, "", false, true},
		{"5.2.1.7: only-if-cached with a stale response is 504", 150 * time.Second, []string{"Cache-Control", "only-if-cached"}, 504, false, "", false, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := fmt.Sprintf("/req/%d", i)
			if c.age >= 0 {
				fillOnce(t, n, path)
				clock.Add(c.age)
			}
			before := len(origin.seenBy(path))
			r := send(t, n, "GET", path, c.header...)
			n.bg.Wait()
			if r.status != c.wantStatus || r.hit() != c.wantHit || c.wantFwd != "" && !strings.Contains(r.cacheStatus(), c.wantFwd) {
				t.Errorf("got %d Cache-Status %q, want %d hit=%v %s", r.status, r.cacheStatus(), c.wantStatus, c.wantHit, c.wantFwd)
			}
			if c.wantStatus == 200 && r.body != "stored body" {
				t.Errorf("body %q", r.body)
			}
			seen := origin.seenBy(path)[before:]
			if conditional := len(seen) == 1 && seen[0].Get("If-None-Match") == `"v1"`; conditional != c.conditional {
				t.Errorf("origin saw %d requests, conditional=%v, want conditional=%v", len(seen), conditional, c.conditional)
			}
			if strings.Contains(c.name, "only-if-cached") && len(seen) != 0 {
				t.Errorf("only-if-cached contacted the origin")
			}
			if later := send(t, n, "GET", path, "Cache-Control", "only-if-cached, max-stale"); (later.status == 200) != c.stored {
				t.Errorf("afterwards stored=%v, want %v (%d %q)", later.status == 200, c.stored, later.status, later.cacheStatus())
			}
		})
	}
}
