package edge

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The listeners keep field names as the client spelled them (normalising off), and HTTP/2
// clients spell every name in lower case. Every request field the node reads by a fixed name
// must be found whatever its case (RFC 9110 section 5.1). Each test below sends the names in
// lower case; each failed before the lookups went through peekFold and delFold.

// lowerGet sends a request whose field lines are written exactly as given (raw "name: value"
// lines) and returns the parsed response with its body read (chunks and all).
func lowerGet(t *testing.T, addr, path string, lines ...string) (*http.Response, string) {
	t.Helper()
	raw := "GET " + path + " HTTP/1.1\r\nhost: www.example.com\r\n" + strings.Join(lines, "\r\n")
	if len(lines) > 0 {
		raw += "\r\n"
	}
	raw += "connection: close\r\n\r\n"
	out := rawResponse(t, addr, raw)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("GET %s: %v\n%.300s", path, err, out)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s body: %v", path, err)
	}
	return resp, string(body)
}

// compresspass.go: a pass and an uncacheable miss are coded for "accept-encoding".
func TestFieldCase_acceptEncodingOnPassIsFound(t *testing.T) {
	page := strings.Repeat("<p>dynamic page, not stored</p>\n", 200)
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `default_type text/html;
location /nostore/ { add_header Cache-Control "no-store"; }`})
	ngx.WriteFile("dyn", page)
	ngx.WriteFile("nostore/a", page)
	n := policyNode(t, ngx.URL, `  - {match: {path_prefix: /nostore/}, origin: o, cache: true}
  - {match: {path_prefix: /}, origin: o}
`, "compression: {encodings: [br, gzip]}\n")
	for _, path := range []string{"/dyn", "/nostore/a"} {
		for _, line := range []string{"accept-encoding: gzip", "ACCEPT-ENCODING: gzip", "Accept-encoding: gzip"} {
			resp, body := lowerGet(t, n.HTTPAddr(), path, line)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || decode(t, "gzip", []byte(body)) != page {
				t.Errorf("%s with %q: %d Content-Encoding %q", path, line, resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
		}
	}
}

// routepolicy.go: ${request_id} takes the client's "x-request-id".
func TestFieldCase_requestIDIsFound(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { return 200 "id=[$http_x_id]"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /}
    origin: o
    headers:
      request: {set: {X-Id: "${request_id}"}}
      response: {set: {X-Seen-Id: "${request_id}"}}
`, "")
	for _, line := range []string{"x-request-id: abc123", "X-REQUEST-ID: abc123"} {
		resp, body := lowerGet(t, n.HTTPAddr(), "/a", line)
		if body != "id=[abc123]" || resp.Header.Get("X-Seen-Id") != "abc123" {
			t.Errorf("%q: origin saw %q, client got X-Seen-Id %q", line, body, resp.Header.Get("X-Seen-Id"))
		}
	}
}

// routepolicy.go: cache_key.include_headers adds "x-device" to the key, or a mobile and a
// desktop page would share one object.
func TestFieldCase_includeHeadersInKeyAreFound(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "device=[$http_x_device]"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /}
    origin: o
    cache: true
    cache_key: {include_headers: [X-Device]}
`, "")
	for _, c := range []struct{ line, want string }{
		{"x-device: mobile", "device=[mobile]"},
		{"x-device: desktop", "device=[desktop]"},
		{"X-DEVICE: tv", "device=[tv]"},
		{"X-Device: mobile", "device=[mobile]"},
	} {
		_, body := lowerGet(t, n.HTTPAddr(), "/page", c.line)
		if body != c.want {
			t.Errorf("%q: got %q, want %q", c.line, body, c.want)
		}
		n.settleFills()
	}
}

// routepolicy.go: request field rules remove a client's "x-debug" and replace its "x-edge";
// response field rules remove an origin's "x-powered-by" and replace its
// "strict-transport-security" (the origin's spelling is kept too).
func TestFieldCase_fieldRulesMatchAnySpelling(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / {
  add_header x-powered-by PHP/8.2;
  add_header strict-transport-security "max-age=1";
  return 200 "edge=[$http_x_edge] debug=[$http_x_debug]";
}`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /}
    origin: o
    headers:
      request: {set: {X-Edge: "${node}"}, remove: [X-Debug]}
      response: {set: {Strict-Transport-Security: "max-age=31536000"}, remove: [X-Powered-By]}
`, "")
	resp, body := lowerGet(t, n.HTTPAddr(), "/a", "x-debug: 1", "x-edge: spoofed", "X-DEBUG: 2")
	if body != "edge=[edge-p] debug=[]" {
		t.Errorf("origin saw %q, want the node's X-Edge and no X-Debug", body)
	}
	if v := resp.Header.Values("X-Powered-By"); len(v) != 0 {
		t.Errorf("X-Powered-By %q reached the client", v)
	}
	if v := resp.Header.Values("Strict-Transport-Security"); len(v) != 1 || v[0] != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security %q, want one line max-age=31536000", v)
	}
}

// peer.go: the peer port finds "shoal-peer-secret" and the client address and scheme sent
// with it, and strips them whatever their spelling before the origin.
func TestFieldCase_peerFieldsAreFound(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / {
  return 200 "secret=[$http_shoal_peer_secret] ip=[$http_shoal_client_ip] xff=[$http_x_forwarded_for] proto=[$http_x_forwarded_proto]";
}`})
	secretFile := writeSecret(t)
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\", peer: \"127.0.0.1:0\"}\n"+
		"cluster: {bind: \"127.0.0.1:0\", secret_file: "+secretFile+"}\n"+oneRoute(false, ngx.URL), Options{Logger: testLogger(t)})
	resp, body := lowerGet(t, n.PeerAddr(), "/a", "shoal-peer-secret: "+string(secret), "shoal-client-ip: 10.1.2.3", "shoal-scheme: https")
	want := fmt.Sprintf("secret=[] ip=[] xff=[%s] proto=[%s]", "10.1.2.3", "https")
	if resp.StatusCode != 200 || body != want {
		t.Errorf("peer port: %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

// forward.go: a non-owner keeps no hot copy (and adopts no object) of a response whose
// origin wrote "vary" in lower case: the copy is stored under the primary key alone and
// would answer every X-Lang with the first one's body.
func TestFieldCase_hotCopyHonoursLowercaseVary(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header()["vary"] = []string{"X-Lang"} // written as spelled: Go keeps non-canonical keys
		fmt.Fprint(w, "lang="+r.Header.Get("X-Lang"))
	})
	nodes := startCluster(t, 2, origin.URL)
	owner, _ := nodes[0].Ring().Owner("http://hot.example/popular.css")
	other := nodes[0]
	if owner.Name == nodes[0].name {
		other = nodes[1]
	}
	url := "http://" + other.HTTPAddr() + "/popular.css"
	get(t, url, "Host", "hot.example", "X-Lang", "en")
	get(t, url, "Host", "hot.example", "X-Lang", "en") // popular now: a copy would be kept
	other.settleFills()
	for _, lang := range []string{"fr", "de", "en"} {
		if _, h, body := get(t, url, "Host", "hot.example", "X-Lang", lang); body != "lang="+lang {
			t.Errorf("X-Lang %s through the non-owner got %q (%s)", lang, body, h.Get("Cache-Status"))
		}
	}
}

// pass.go: a pass keeps the origin's Date (RFC 9110 section 6.6.1) whatever the spelling of
// its name, as a cached response does. Failed before: a lower-case "date" was replaced by
// the node's clock.
func TestFieldCase_passKeepsTheOriginsDate(t *testing.T) {
	const date = "Mon, 01 Jan 2024 00:00:00 GMT"
	o := testenv.StartBadOrigin(t)
	for _, name := range []string{"Date", "date", "DATE"} {
		o.Script("/"+name, testenv.Script{Header: testenv.Fields(name, date), Body: []byte("ok")})
	}
	n := startNode(t, oneRoute(false, o.URL), Options{})
	for _, name := range []string{"Date", "date", "DATE"} {
		resp, _ := lowerGet(t, n.HTTPAddr(), "/"+name)
		if got := resp.Header.Values("Date"); len(got) != 1 || got[0] != date {
			t.Errorf("origin field %q: the client got Date %q, want the origin's %q", name, got, date)
		}
	}
}
