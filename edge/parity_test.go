package edge

import (
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// parityStep is one request of a scenario: sent over every protocol in turn, after the
// clock moved by advance.
type parityStep struct {
	name, method string
	header       []string
	advance      time.Duration
	sub          string // appended to the scenario's path (a query, or a long target)
}

// parityScenario is an origin behaviour (scripts in order, the last repeating) and the
// requests that meet it.
type parityScenario struct {
	name, path string
	scripts    []testenv.Script
	steps      []parityStep
}

func parityScenarios() []parityScenario {
	now := time.Now().UTC().Format(http.TimeFormat)
	obj := func(cc string, more ...string) []testenv.Field {
		return testenv.Fields(append([]string{"Cache-Control", cc, "Date", now, "ETag", `"v1"`,
			"Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT", "Content-Type", "text/plain"}, more...)...)
	}
	get := func(name string, header ...string) parityStep {
		return parityStep{name: name, method: "GET", header: header}
	}
	head := func(name string, header ...string) parityStep {
		return parityStep{name: name, method: "HEAD", header: header}
	}
	body := []byte("0123456789abcdefghij")
	big := []byte(strings.Repeat("0123456789abcdef", 100<<10/16)) // over ram_cache_cutoff: disk only
	css := []byte(strings.Repeat("body { margin: 0; padding: 0; color: #333; }\n", 60))
	dups := testenv.Fields("Cache-Control", "max-age=600", "Cache-Control", "public",
		"Set-Cookie", "a=1; Path=/", "Set-Cookie", "a=2; Path=/x", "Set-Cookie", "b=3",
		"Link", "</a.css>; rel=preload", "Link", "</b.js>; rel=preload",
		"Vary", "Accept-Language", "Vary", "X-Variant",
		"Server", "one", "Server", "two", "X-Dup", "1", "X-Dup", "2")
	many := testenv.Fields("Cache-Control", "max-age=600")
	for i := range 100 {
		many = append(many, testenv.Field{Name: fmt.Sprintf("X-Field-%d", i), Value: fmt.Sprint(i)})
	}
	basic := []parityStep{get("miss"), get("hit"), head("HEAD hit"),
		get("304", "If-None-Match", `"v1"`), get("If-Modified-Since 304", "If-Modified-Since", "Mon, 30 Nov 2026 10:00:00 GMT"),
		get("412", "If-Match", `"other"`), head("HEAD 304", "If-None-Match", `"v1"`),
		get("range 206", "Range", "bytes=2-5"), get("range suffix", "Range", "bytes=-3"),
		get("range 416", "Range", "bytes=100-200"), get("multi range", "Range", "bytes=0-1,4-6"),
		get("If-Range", "Range", "bytes=0-3", "If-Range", `"v1"`)}
	return []parityScenario{
		{name: "cached object", path: "/c/obj", scripts: []testenv.Script{{Header: obj("max-age=600"), Body: body}}, steps: basic},
		{name: "HEAD miss", path: "/c/headmiss", scripts: []testenv.Script{{Header: obj("max-age=600"), Body: body}},
			steps: []parityStep{head("HEAD miss"), get("after"), head("HEAD hit")}},
		{name: "pass", path: "/dyn/obj", scripts: []testenv.Script{{Header: obj("no-store"), Body: body}}, steps: basic},
		{name: "chunked miss", path: "/c/chunked", scripts: []testenv.Script{{Header: obj("max-age=600"), Body: body, Framing: testenv.Chunked, Chunk: 7, Stall: 30 * time.Millisecond}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "chunked pass", path: "/dyn/chunked", scripts: []testenv.Script{{Header: obj("no-store"), Body: body, Framing: testenv.Chunked, Chunk: 7, Stall: 30 * time.Millisecond}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "no Content-Type", path: "/c/notype", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600"), Body: body}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "no Content-Type pass", path: "/dyn/notype", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "no-store"), Body: body}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "empty content", path: "/c/empty", scripts: []testenv.Script{{Header: obj("max-age=600")}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "duplicate fields", path: "/c/dups", scripts: []testenv.Script{{Header: dups, Body: body}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD"), get("304", "If-None-Match", "*")}},
		{name: "duplicate fields pass", path: "/dyn/dups", scripts: []testenv.Script{{Header: dups, Body: body}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "two Content-Types", path: "/dyn/twotypes", scripts: []testenv.Script{{Header: testenv.Fields("Content-Type", "text/plain", "Content-Type", "text/html"), Body: body}},
			steps: []parityStep{get("pass")}},
		{name: "two Content-Types cached", path: "/c/twotypes", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=60", "Content-Type", "text/plain", "Content-Type", "text/html"), Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "empty and obs-text values", path: "/c/odd", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600", "X-Empty", "", "X-Obs", "caf\xe9", "Content-Type", "text/plain"), Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "empty and obs-text values pass", path: "/dyn/odd", scripts: []testenv.Script{{Header: testenv.Fields("X-Empty", "", "X-Obs", "caf\xe9", "Content-Type", "text/plain"), Body: body}},
			steps: []parityStep{get("pass")}},
		{name: "many fields", path: "/c/many", scripts: []testenv.Script{{Header: many, Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "origin 204", path: "/dyn/204", scripts: []testenv.Script{{Status: 204, Header: testenv.Fields("X-A", "1")}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "origin 204 cached", path: "/c/204", scripts: []testenv.Script{{Status: 204, Header: testenv.Fields("Cache-Control", "max-age=600", "X-A", "1")}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "origin 304", path: "/dyn/304", scripts: []testenv.Script{{Status: 304, Header: testenv.Fields("ETag", `"v1"`)}},
			steps: []parityStep{get("pass", "If-None-Match", `"v1"`), get("unconditional")}},
		{name: "origin 404 cached", path: "/c/404", scripts: []testenv.Script{{Status: 404, Header: obj("max-age=600"), Body: []byte("not here\n")}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "origin 500", path: "/dyn/500", scripts: []testenv.Script{{Status: 500, Body: []byte("broken\n")}},
			steps: []parityStep{get("pass")}},
		{name: "origin redirect", path: "/c/moved", scripts: []testenv.Script{{Status: 301, Header: testenv.Fields("Location", "/elsewhere", "Cache-Control", "max-age=600")}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "Early Hints", path: "/dyn/hints", scripts: []testenv.Script{{Interim: []testenv.Interim{{Status: 103, Header: testenv.Fields("Link", "</a.css>; rel=preload")}}, Header: obj("no-store"), Body: body}},
			steps: []parityStep{get("pass")}},
		{name: "compressible", path: "/c/style.css", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600", "Content-Type", "text/css", "ETag", `"css"`), Body: css}},
			steps: []parityStep{get("identity"), get("gzip", "Accept-Encoding", "gzip"), get("gzip hit", "Accept-Encoding", "gzip"),
				get("br", "Accept-Encoding", "br"), get("zstd", "Accept-Encoding", "zstd"), head("HEAD gzip", "Accept-Encoding", "gzip"),
				get("gzip 304", "Accept-Encoding", "gzip", "If-None-Match", `W/"css"`), get("gzip range", "Accept-Encoding", "gzip", "Range", "bytes=0-9")}},
		{name: "compressible pass", path: "/dyn/style.css", scripts: []testenv.Script{{Header: testenv.Fields("Content-Type", "text/css"), Body: css}},
			steps: []parityStep{get("gzip", "Accept-Encoding", "gzip"), head("HEAD gzip", "Accept-Encoding", "gzip")}},
		{name: "Vary", path: "/c/vary", scripts: []testenv.Script{{Header: obj("max-age=600", "Vary", "Accept-Language"), Body: body}},
			steps: []parityStep{get("en", "Accept-Language", "en"), get("de", "Accept-Language", "de"), get("en hit", "Accept-Language", "en")}},
		{name: "stale-if-error", path: "/c/sie", scripts: []testenv.Script{{Header: obj("max-age=1, stale-if-error=600"), Body: body}, {Status: 503, Body: []byte("down\n")}},
			steps: []parityStep{get("miss"), {name: "stale on error", method: "GET", advance: 5 * time.Second}}},
		{name: "stale-while-revalidate", path: "/c/swr", scripts: []testenv.Script{{Header: obj("max-age=1, stale-while-revalidate=600"), Body: body}},
			steps: []parityStep{get("miss"), {name: "stale", method: "GET", advance: 5 * time.Second}, get("after")}},
		{name: "revalidated", path: "/c/reval", scripts: []testenv.Script{{Header: obj("max-age=1"), Body: body}, {Status: 304, Header: obj("max-age=600")}},
			steps: []parityStep{get("miss"), {name: "revalidated", method: "GET", advance: 5 * time.Second}, get("hit")}},
		{name: "disk tier", path: "/c/big.bin", scripts: []testenv.Script{{Header: obj("max-age=600"), Body: big}},
			steps: []parityStep{get("miss"), get("disk hit"), head("HEAD disk hit"), get("disk 304", "If-None-Match", `"v1"`),
				get("disk range", "Range", "bytes=10-19"), get("disk 416", "Range", "bytes=999999-"), get("disk multi range", "Range", "bytes=0-1,5-9")}},
		{name: "origin's connection fields", path: "/dyn/hop", scripts: []testenv.Script{{Header: testenv.Fields("Connection", "X-Hop", "X-Hop", "1",
			"Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive", "Upgrade", "h2c", "TE", "trailers", "X-End", "2"), Body: body}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "origin's connection fields cached", path: "/c/hop", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600", "Connection", "X-Hop", "X-Hop", "1",
			"Keep-Alive", "timeout=5", "Proxy-Connection", "keep-alive", "Upgrade", "h2c", "X-End", "2"), Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "origin's trailer", path: "/dyn/trailer", scripts: []testenv.Script{{Raw: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")}},
			steps: []parityStep{get("pass")}},
		{name: "origin's Content-Length on a HEAD", path: "/dyn/headlen", scripts: []testenv.Script{{Header: obj("no-store"), Body: body}},
			steps: []parityStep{head("HEAD pass")}},
		{name: "Early Hints on a miss", path: "/c/hints", scripts: []testenv.Script{{Interim: []testenv.Interim{
			{Status: 103, Header: testenv.Fields("Link", "</a.css>; rel=preload", "Link", "</b.js>; rel=preload", "X-Other", "1")},
			{Status: 102}}, Header: obj("max-age=600"), Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "empty Content-Type", path: "/c/emptytype", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600", "Content-Type", ""), Body: body}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "empty Content-Type pass", path: "/dyn/emptytype", scripts: []testenv.Script{{Header: testenv.Fields("Content-Type", ""), Body: body}},
			steps: []parityStep{get("pass")}},
		{name: "two equal Content-Lengths", path: "/dyn/twolengths", scripts: []testenv.Script{{Header: testenv.Fields("Content-Length", "20", "Content-Length", "20"), Body: body, Framing: testenv.NoFraming}},
			steps: []parityStep{get("pass")}},
		{name: "two Dates and an Age", path: "/c/twodates", scripts: []testenv.Script{{Header: testenv.Fields("Cache-Control", "max-age=600", "Date", now, "Date", now, "Age", "100"), Body: body}},
			steps: []parityStep{get("miss"), get("hit")}},
		{name: "no Date, an Age, pass", path: "/dyn/nodate", scripts: []testenv.Script{{Header: testenv.Fields("Age", "100", "Server", "origin/1"), Body: body}},
			steps: []parityStep{get("pass")}},
		{name: "odd name case", path: "/c/case", scripts: []testenv.Script{{Header: testenv.Fields("cache-control", "max-age=600", "CONTENT-TYPE", "text/plain", "x-MiXeD", "1", "etag", `"e"`), Body: body}},
			steps: []parityStep{get("miss"), get("hit"), get("304", "If-None-Match", `"e"`)}},
		{name: "PURGE", path: "/c/purged", scripts: []testenv.Script{{Header: obj("max-age=600"), Body: body}},
			steps: []parityStep{get("miss"), {name: "PURGE", method: "PURGE"}, get("miss again"), {name: "soft PURGE", method: "PURGE", header: []string{"Purge-Mode", "soft"}},
				get("after the soft purge"), {name: "PURGE again", method: "PURGE"}}},
		{name: "rate limit", path: "/limited/x", scripts: []testenv.Script{{Header: obj("no-store"), Body: body}},
			steps: []parityStep{get("within"), get("429"), head("HEAD 429")}},
		{name: "unregistered statuses", path: "/dyn/odd-status", scripts: []testenv.Script{{Status: 299, Body: body}, {Status: 599, Body: body}, {Status: 451, Header: obj("max-age=60"), Body: body}},
			steps: []parityStep{get("299"), get("599"), get("451"), head("HEAD 451")}},
		{name: "origin 204 with Content-Length: 0", path: "/dyn/204cl", scripts: []testenv.Script{{Status: 204, Header: testenv.Fields("Content-Length", "0", "X-A", "1"), Framing: testenv.NoFraming}},
			steps: []parityStep{get("pass"), head("HEAD")}},
		{name: "origin 204 with Content-Length: 0 cached", path: "/c/204cl", scripts: []testenv.Script{{Status: 204, Header: testenv.Fields("Cache-Control", "max-age=600", "Content-Length", "0"), Framing: testenv.NoFraming}},
			steps: []parityStep{get("miss"), get("hit"), head("HEAD")}},
		{name: "origin 304 with a Content-Length", path: "/dyn/304cl", scripts: []testenv.Script{{Status: 304, Header: testenv.Fields("ETag", `"v1"`, "Content-Length", "20"), Framing: testenv.NoFraming}},
			steps: []parityStep{get("pass", "If-None-Match", `"v1"`)}},
		{name: "origin's odd heads", path: "/dyn/raw", scripts: []testenv.Script{
			{Raw: []byte("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok"), Close: true},
			{Raw: []byte("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nX-Nul: a\x00b\r\nContent-Length: 2\r\n\r\nok"), Close: true},
			{Raw: []byte("HTTP/1.1 200\r\nCache-Control: no-store\r\nX-Sp:    a b   \r\nContent-Length: 2\r\n\r\nok"), Close: true},
			{Raw: []byte("HTTP/1.0 200 OK\r\nCache-Control: no-store\r\n\r\nok"), Close: true},
			{Raw: []byte("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), Close: true},
			{Raw: []byte("HTTP/1.1 200 OK\nCache-Control: no-store\nX-Lf: 1\nContent-Length: 2\n\nok"), Close: true}},
			steps: []parityStep{get("obs-fold"), get("NUL in a value"), get("no reason, spaces around a value"), get("HTTP/1.0, close-delimited"),
				get("Transfer-Encoding: gzip, chunked"), get("bare LF")}},
		{name: "denied", path: "/deny/x", steps: []parityStep{get("403"), head("HEAD 403")}},
		{name: "redirect route", path: "/moved/x", steps: []parityStep{get("302"), head("HEAD 302")}},
		{name: "dead origin", path: "/dead/x", steps: []parityStep{get("502 or 503"), head("HEAD")}},
		{name: "own answers", path: "/c/own",
			steps: []parityStep{{name: "TRACE 405", method: "TRACE"}, {name: "loop 508", method: "GET", header: []string{"Via", "1.1 hostile-edge"}},
				{name: "414", method: "GET", sub: "?" + strings.Repeat("q", 20000)},
				{name: "431", method: "GET", header: []string{"X-Big", strings.Repeat("b", 20000)}},
				{name: "OPTIONS Max-Forwards 0", method: "OPTIONS", header: []string{"Max-Forwards", "0"}},
				{name: "413", method: "POST", header: []string{"Content-Length", "999999999"}},
				{name: "414 HEAD", method: "HEAD", sub: "?" + strings.Repeat("q", 20000)}}},
	}
}

// TestParity_sameAnswerOnEveryProtocol sends each scenario's requests over HTTP/1.1, h2c
// and HTTP/2 over TLS, each protocol to its own copy of the object (the path's last
// segment), and compares what came back with HTTP/1.1's: the status, every field (per
// name, the values in order; the framing fields aside), the content and the interim
// responses, and checks each answer against RFC 9110 and RFC 9113 section 8.2.2.
func TestParity_sameAnswerOnEveryProtocol(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	for _, page := range []string{"403", "413", "429", "502", "503"} {
		os.WriteFile(filepath.Join(dir, page+".html"), []byte("<h1>"+page+" page</h1>\n"), 0o600)
	}
	n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %[1]s, key: %[2]s}]}
compression: {encodings: [br, zstd, gzip]}
limits: {max_body_bytes: 1MiB}
node: {name: hostile-edge}
purge: {allow: [127.0.0.1/32]}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s, disk: {path: %[3]s/disk, size: 64MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}
error_pages: {403: %[3]s/403.html, 413: %[3]s/413.html, 429: %[3]s/429.html, 502: %[3]s/502.html, 503: %[3]s/503.html}
origins:
  o: {servers: [{url: %[4]s}]}
  dead: {servers: [{url: "http://127.0.0.1:1"}]}
routes:
  - {match: {path_prefix: /deny/}, origin: o, cache: false, access: {deny: [127.0.0.0/8]}}
  - {match: {path_prefix: /moved/}, redirect: {to: /elsewhere, status: 302}}
  - {match: {path_regex: "^/limited/.*/h1$"}, origin: o, cache: false, rate_limit: {rate: 0.001, burst: 0}}
  - {match: {path_regex: "^/limited/.*/h2c$"}, origin: o, cache: false, rate_limit: {rate: 0.001, burst: 0}}
  - {match: {path_regex: "^/limited/.*/h2$"}, origin: o, cache: false, rate_limit: {rate: 0.001, burst: 0}}
  - {match: {path_regex: "^/limited/.*/h1s$"}, origin: o, cache: false, rate_limit: {rate: 0.001, burst: 0}}
  - {match: {path_prefix: /dead/}, origin: dead, cache: false}
  - {match: {path_prefix: /dyn/}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, certFile, keyFile, dir, o.URL), Options{Now: now})
	protos := []wireProto{
		{name: "HTTP/1.1", addr: n.HTTPAddr()},
		{name: "h2c", addr: n.H2CAddr(), h2: true},
		{name: "HTTP/2 over TLS", addr: n.HTTPSAddr(), tls: true, h2: true, pool: pool},
		{name: "HTTP/1.1 over TLS", addr: n.HTTPSAddr(), tls: true, pool: pool},
	}
	tags := []string{"h1", "h2c", "h2", "h1s"}
	scenarios := parityScenarios()
	byPath := map[string][]testenv.Script{}
	for _, s := range scenarios {
		byPath[s.path] = s.scripts
	}
	o.Handle("", func(r testenv.RawRequest, k int) testenv.Script {
		scripts := byPath[path.Dir(r.Path)]
		if len(scripts) == 0 {
			return testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("ok")}
		}
		return scripts[min(k, len(scripts)-1)]
	})
	for _, s := range scenarios {
		for _, step := range s.steps {
			ahead.Add(int64(step.advance))
			compareOn(t, protos, s.name, step, func(p wireProto) string {
				return s.path + "/" + tags[slices.IndexFunc(protos, func(q wireProto) bool { return q.name == p.name })] + step.sub
			}, n.settleFills)
		}
	}
}
