package edge

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// RFC 9111 section 4.1: variants selected by Vary.
func TestNodeRFC9111_vary(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		switch r.URL.Path {
		case "/lang":
			w.Header().Set("Vary", "Accept-Language")
			fmt.Fprint(w, "lang="+r.Header.Get("Accept-Language"))
		case "/star":
			w.Header().Set("Vary", "*")
			fmt.Fprint(w, "star")
		case "/enc":
			w.Header().Set("Vary", "Accept-Encoding")
			fmt.Fprint(w, "enc="+r.Header.Get("Accept-Encoding"))
		}
	})
	n := rfcNode(t, clock, origin.URL, "")
	steps := []struct {
		name, path, field, value string
		wantHit                  bool
		wantFwd, wantBody        string
	}{
		{"4.1: first variant (en)", "/lang", "Accept-Language", "en", false, "fwd=uri-miss", "lang=en"},
		{"4.1: second variant (fr) is a vary-miss", "/lang", "Accept-Language", "fr", false, "fwd=vary-miss", "lang=fr"},
		{"4.1: en and fr stored side by side: en", "/lang", "Accept-Language", "EN", true, "", "lang=en"},
		{"4.1: en and fr stored side by side: fr", "/lang", "Accept-Language", "fr", true, "", "lang=fr"},
		{"4.1: Vary: * is not stored", "/star", "", "", false, "", "star"},
		{"4.1: Vary: * never matches", "/star", "", "", false, "", "star"},
		{"4.1: Accept-Encoding preferring gzip", "/enc", "Accept-Encoding", "gzip, deflate", false, "fwd=uri-miss", "enc=gzip, deflate"},
		{"4.1: another string preferring gzip shares the variant", "/enc", "Accept-Encoding", "deflate, gzip;q=1.0, *;q=0.1", true, "", "enc=gzip, deflate"},
		{"4.1: br is another variant", "/enc", "Accept-Encoding", "br", false, "fwd=vary-miss", "enc=br"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			var h []string
			if s.field != "" {
				h = []string{s.field, s.value}
			}
			r := fillOnce(t, n, s.path, h...)
			if r.hit() != s.wantHit || !strings.Contains(r.cacheStatus(), s.wantFwd) || r.body != s.wantBody {
				t.Errorf("Cache-Status %q body %q, want hit=%v %s %q", r.cacheStatus(), r.body, s.wantHit, s.wantFwd, s.wantBody)
			}
		})
	}
	if got := len(origin.seenBy("/lang")); got != 2 {
		t.Errorf("origin saw %d requests for two variants", got)
	}
	if got := len(origin.seenBy("/star")); got != 2 {
		t.Errorf("origin saw %d requests for Vary: *, want every one", got)
	}
}

// RFC 9111 section 4.4: unsafe methods invalidate.
func TestNodeRFC9111_invalidation(t *testing.T) {
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
	n := rfcNode(t, clock, origin.URL, "")
	cases := []struct {
		name, method, target string
		invalidated, kept    []string
	}{
		{"4.4: POST 201 invalidates the target, same-origin Location and Content-Location", "POST",
			"/a?status=201&Location=/b&Content-Location=/c", []string{"/a?status=201&Location=/b&Content-Location=/c", "/b", "/c"}, []string{"/d"}},
		{"4.4: PUT 303 invalidates the target", "PUT", "/d?status=303", []string{"/d?status=303"}, []string{"/b2"}},
		{"4.4: DELETE with an error response invalidates nothing", "DELETE", "/e?status=500&Location=/b3", nil, []string{"/e?status=500&Location=/b3", "/b3"}},
		{"4.4: another origin's Location is ignored", "POST", "/f?status=200&Location=http://other.example/b4", []string{"/f?status=200&Location=http://other.example/b4"}, []string{"/b4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range append(append([]string{}, c.invalidated...), c.kept...) {
				fillOnce(t, n, p)
			}
			r := send(t, n, c.method, c.target)
			n.settleFills()
			if !strings.Contains(r.cacheStatus(), "fwd=method") {
				t.Errorf("%s on a cache route: Cache-Status %q, want fwd=method", c.method, r.cacheStatus())
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

// RFC 9110 section 14: ranges answered from the store.
func TestNodeRFC9110_ranges(t *testing.T) {
	clock := newTestClock()
	const body = "0123456789abcdefghij"
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"r1"`)
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/always-206" {
			w.Header().Set("Content-Range", "bytes 0-3/20")
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, body[:4])
			return
		}
		w.Header().Set("Accept-Ranges", "bytes")
		io.WriteString(w, body)
	})
	n := rfcNode(t, clock, origin.URL, "")
	fillOnce(t, n, "/r")
	cases := []struct {
		name         string
		header       []string
		status       int
		contentRange string
		body         string
	}{
		{"14.1.2: a single range", []string{"Range", "bytes=0-4"}, 206, "bytes 0-4/20", "01234"},
		{"14.1.2: a suffix range", []string{"Range", "bytes=-3"}, 206, "bytes 17-19/20", "hij"},
		{"13.1.5: If-Range with the current ETag", []string{"Range", "bytes=5-6", "If-Range", `"r1"`}, 206, "bytes 5-6/20", "56"},
		{"13.1.5: If-Range with another ETag sends all", []string{"Range", "bytes=5-6", "If-Range", `"r0"`}, 200, "", body},
		{"14.1.1: an invalid Range is ignored", []string{"Range", "lines=1-2"}, 200, "", body},
		{"15.5.17: unsatisfiable is 416 with bytes */size", []string{"Range", "bytes=50-60"}, 416, "bytes */20", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(t, n, "GET", "/r", c.header...)
			if r.status != c.status || r.header.Get("Content-Range") != c.contentRange || c.status != 416 && r.body != c.body {
				t.Errorf("%d %q %q, want %d %q %q", r.status, r.header.Get("Content-Range"), r.body, c.status, c.contentRange, c.body)
			}
		})
	}
	t.Run("14.6: several ranges make a multipart/byteranges body", func(t *testing.T) {
		r := send(t, n, "GET", "/r", "Range", "bytes=0-1,10-12")
		mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		if r.status != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("%d Content-Type %q", r.status, r.header.Get("Content-Type"))
		}
		mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
		want := [][2]string{{"bytes 0-1/20", "01"}, {"bytes 10-12/20", "abc"}}
		for i := 0; ; i++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				if i != len(want) {
					t.Errorf("%d parts, want %d", i, len(want))
				}
				break
			}
			if err != nil || i >= len(want) {
				t.Fatalf("part %d: %v", i, err)
			}
			got, _ := io.ReadAll(part)
			if part.Header.Get("Content-Range") != want[i][0] || string(got) != want[i][1] || part.Header.Get("Content-Type") != "text/plain" {
				t.Errorf("part %d: %q %q %q", i, part.Header.Get("Content-Range"), got, part.Header.Get("Content-Type"))
			}
		}
	})
	t.Run("14.2: a miss with Range fetches the whole object and answers the range", func(t *testing.T) {
		r := fillOnce(t, n, "/miss", "Range", "bytes=2-3")
		if r.status != 206 || r.body != "23" || r.header.Get("Content-Range") != "bytes 2-3/20" {
			t.Errorf("%d %q %q", r.status, r.header.Get("Content-Range"), r.body)
		}
		if seen := origin.seenBy("/miss"); len(seen) != 1 || seen[0].Get("Range") != "" {
			t.Errorf("origin saw %d requests, Range %q", len(seen), seen[0].Get("Range"))
		}
		if whole := send(t, n, "GET", "/miss"); !whole.hit() || whole.body != body {
			t.Errorf("after the ranged miss: %q %q", whole.cacheStatus(), whole.body)
		}
	})
	t.Run("RFC 9111 3.4: a 206 from the origin is never stored as complete", func(t *testing.T) {
		fillOnce(t, n, "/always-206", "Range", "bytes=0-3")
		if r := send(t, n, "GET", "/always-206"); r.hit() {
			t.Errorf("a 206 was stored: %q", r.cacheStatus())
		}
	})
}
