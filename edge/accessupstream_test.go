package edge

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The access log says who answered, as nginx's $upstream_addr, $upstream_status,
// $upstream_response_time and $request_id and HAProxy's backend/server and Tr do: the pool
// and the server's address, its status and time for a pass and a miss (a revalidation's
// 304 included), nothing for a hit, the server tried, status 0 and the time spent for a
// refused connection,
// and the client's X-Request-Id; over HTTP/1.1 and HTTP/2. Failed before: none of these
// fields was logged, so a 502 could not be traced to a server.
func TestNode_accessLogNamesTheUpstream(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".css") {
			w.Header().Set("Cache-Control", "max-age=60")
			if strings.HasSuffix(r.URL.Path, "/reval.css") {
				w.Header().Set("Cache-Control", "max-age=0, must-revalidate")
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
		}
		w.Write([]byte("ok"))
	})
	dead := testenv.FreePort(t)
	u, _ := url.Parse(o.URL)
	var buf syncBuffer
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
log: {access: json}
node: {name: up}
origins:
  o: {servers: [{url: `+o.URL+`}]}
  gone: {retries: 0, servers: [{url: "http://`+dead+`"}]}
routes:
  - {match: {path_prefix: /dead/}, origin: gone, cache: false}
  - {match: {path_prefix: /dyn/}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, Options{AccessLog: &buf})
	h2 := h2cClient()
	for _, proto := range []string{"h1", "h2"} {
		get := func(path string) {
			t.Helper()
			req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
			c := http.DefaultClient
			if proto == "h2" {
				req.URL.Host, c = n.H2CAddr(), h2
			}
			req.Header.Set("X-Request-Id", "rid-"+proto+path)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		p := "/" + proto
		for _, path := range []string{"/dyn" + p, p + "/c.css", p + "/c.css", p + "/reval.css", p + "/reval.css", "/dead" + p} {
			get(path)
			n.settleFills() // the object is stored before it is asked again
		}
		for _, tc := range []struct {
			path, upstream, addr string
			status, nth          int // nth: which record of path (a hit follows its miss)
		}{
			{"/dyn" + p, "o", u.Host, 200, 0},
			{p + "/c.css", "o", u.Host, 200, 0},
			{p + "/c.css", "", "", 0, 1},
			{p + "/reval.css", "o", u.Host, 304, 1},
			{"/dead" + p, "gone", dead, 0, 0},
		} {
			e := nthEntry(t, &buf, tc.path, tc.nth)
			if e.Upstream != tc.upstream || e.UpstreamAddr != tc.addr || e.UpstreamStatus != tc.status {
				t.Errorf("%s record %d: upstream %q %q status %d, want %q %q %d", tc.path, tc.nth, e.Upstream, e.UpstreamAddr, e.UpstreamStatus, tc.upstream, tc.addr, tc.status)
			}
			if (tc.upstream != "") != (e.UpstreamSeconds > 0) {
				t.Errorf("%s record %d: upstream_seconds %v", tc.path, tc.nth, e.UpstreamSeconds)
			}
			if e.RequestID != "rid-"+proto+tc.path {
				t.Errorf("%s record %d: request_id %q", tc.path, tc.nth, e.RequestID)
			}
		}
	}
}

// nthEntry is the nth access record (from 0) of uri, waiting for it as loggedEntry does.
func nthEntry(t *testing.T, buf *syncBuffer, uri string, nth int) accessEntry {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var found []accessEntry
		for _, line := range strings.Split(buf.String(), "\n") {
			var e accessEntry
			if json.Unmarshal([]byte(line), &e) == nil && e.URI == uri {
				found = append(found, e)
			}
		}
		if len(found) > nth {
			return found[nth]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access record %d for %s in %q", nth, uri, buf.String())
		}
	}
}
