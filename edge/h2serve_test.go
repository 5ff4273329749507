package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/demo"
	"github.com/shoal-cdn/shoal/internal/testenv"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Node starts a node with listen.https (and listen.h2c) and routes; it returns the node
// and a pool trusting its certificate for www.example.test.
func h2Node(t *testing.T, routes string) (*Node, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	cfg := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile) + routes
	return startNode(t, cfg, Options{}), pool
}

// h2Client is Go's HTTP/2 client over TLS to addr, whatever host the URL names.
func h2Client(pool *x509.CertPool, addr string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "www.example.test"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	return &http.Client{Transport: tr}
}

// h1TLSClient speaks HTTP/1.1 over TLS to addr.
func h1TLSClient(pool *x509.CertPool, addr string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "www.example.test"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	return &http.Client{Transport: tr}
}

// fetch GETs url with c and returns the response with its body read.
func fetch(t *testing.T, c *http.Client, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	return fetchRequest(t, c, req)
}

// fetchRequest sends req with c and returns the response with its body read.
func fetchRequest(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// patterned is n bytes that differ along their length, so a shifted or cut copy shows.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// TestH2Serve_oneObjectForEveryClient: one object fetched by an HTTP/1.1 client over TLS,
// Go's HTTP/2 client and curl --http2 is fetched from the origin (nginx) once, and each
// client gets it byte for byte. A hit over HTTP/2 counts the store lookups one over HTTP/1.1
// does: the listener asks whether a request is a fresh hit without counting it.
func TestH2Serve_oneObjectForEveryClient(t *testing.T) {
	curl, err := exec.LookPath("curl")
	testenv.Require(t, err == nil, "curl is not installed")
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: "location / { expires 60s; }"})
	for _, size := range []int{1 << 10, 100 << 10} {
		body := patterned(size)
		name := fmt.Sprintf("shared-%d.css", size)
		ngx.WriteFile(name, string(body))
		n, pool := h2Node(t, oneRoute(true, ngx.URL))
		port := strings.Split(n.HTTPSAddr(), ":")[1]
		url := "https://www.example.test:" + port + "/" + name
		check := func(who string, proto int, resp *http.Response, got []byte, wantHit bool) {
			t.Helper()
			if resp.ProtoMajor != proto || resp.StatusCode != 200 || !bytes.Equal(got, body) {
				t.Fatalf("%s: HTTP/%d %d, %d bytes (want HTTP/%d 200, %d exact bytes)", who, resp.ProtoMajor, resp.StatusCode, len(got), proto, len(body))
			}
			if hit := strings.Contains(resp.Header.Get("Cache-Status"), "; hit"); hit != wantHit {
				t.Errorf("%s: Cache-Status %q", who, resp.Header.Get("Cache-Status"))
			}
		}
		h1 := h1TLSClient(pool, n.HTTPSAddr())
		resp, got := fetch(t, h1, "GET", url)
		check("HTTP/1.1", 1, resp, got, false)
		n.settleFills()
		hits := n.Store().Stats().Hits
		resp, got = fetch(t, h1, "GET", url)
		check("HTTP/1.1", 1, resp, got, true)
		perHit := n.Store().Stats().Hits - hits // the pipeline's own lookups for one hit
		hits = n.Store().Stats().Hits
		h2c := h2Client(pool, n.HTTPSAddr())
		for i := 0; i < 3; i++ {
			resp, got = fetch(t, h2c, "GET", url)
			check("Go HTTP/2", 2, resp, got, true)
		}
		if d := n.Store().Stats().Hits - hits; d != 3*perHit {
			t.Errorf("3 HTTP/2 hits counted as %d store hits, want %d as over HTTP/1.1", d, 3*perHit)
		}
		out := filepath.Join(t.TempDir(), "body")
		w, err := exec.Command(curl, "-sS", "--http2", "-k", "--resolve", "www.example.test:"+port+":127.0.0.1",
			"-o", out, "-w", "%{http_version} %{http_code}", "https://www.example.test:"+port+"/"+name).CombinedOutput()
		if err != nil || string(w) != "2 200" {
			t.Fatalf("curl: %q %v", w, err)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, body) {
			t.Errorf("curl: %d bytes, not the %d sent", len(got), len(body))
		}
		if c := ngx.Requests("/" + name); c != 1 {
			t.Errorf("origin fetched %s %d times for three kinds of client", name, c)
		}
	}
}

// h2specBinary finds h2spec on PATH or in GOPATH/bin, installing it with go install when it
// is missing (as edge/h2's TestServer_h2spec does).
func h2specBinary() string {
	if p, err := exec.LookPath("h2spec"); err == nil {
		return p
	}
	gopath := func() string {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			return ""
		}
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "h2spec")
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	if p := gopath(); p != "" {
		return p
	}
	for _, v := range []string{"v2.2.1", "latest"} {
		if exec.Command("go", "install", "github.com/summerwind/h2spec/cmd/h2spec@"+v).Run() == nil {
			break
		}
	}
	return gopath()
}

// TestH2Serve_h2spec runs the whole h2spec suite against a node (not only the edge/h2
// package): the pipeline's answers must keep the connection conformant. h2spec's requests
// go to the origin route (GET / and POSTs with bodies).
func TestH2Serve_h2spec(t *testing.T) {
	bin := h2specBinary()
	testenv.Require(t, bin != "", "h2spec is not installed and go install failed")
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "h2spec through shoal\n")
	})
	n, _ := h2Node(t, oneRoute(true, origin.URL))
	host, port, _ := net.SplitHostPort(n.HTTPSAddr())
	out, err := exec.Command(bin, "-t", "-k", "-h", host, "-p", port, "-o", "2").CombinedOutput()
	summary := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindSubmatch(out)
	if summary == nil {
		t.Fatalf("h2spec gave no summary (err %v):\n%s", err, out)
	}
	t.Logf("h2spec against the node: %s", summary[0])
	if string(summary[1]) != "145" || string(summary[2]) != "145" {
		t.Fatalf("h2spec: %s, want 145 passed:\n%s", summary[0], out)
	}
}

// rawH2 is a frame-level HTTP/2 client on one TLS connection to addr.
type rawH2 struct {
	t   *testing.T
	c   net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
	dec *hpack.Decoder
	// feed, once readUntil started it, is the only reader of fr.
	feed *frameFeed
	// resetCode is the code of the RST_STREAM response last returned reset.
	resetCode http2.ErrCode
}

func dialRawH2(t *testing.T, addr string) *rawH2 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, http2.ClientPreface)
	r := &rawH2{t: t, c: c, fr: http2.NewFramer(c, c), dec: hpack.NewDecoder(4096, nil)}
	r.enc = hpack.NewEncoder(&r.buf)
	r.fr.WriteSettings()
	return r
}

// get opens stream id with a GET of path on www.example.test.
func (r *rawH2) get(id uint32, path string) {
	r.buf.Reset()
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "www.example.test"}, {":path", path}} {
		r.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: true, EndHeaders: true})
}

// next reads the next frame that is not SETTINGS, PING or WINDOW_UPDATE, acknowledging
// SETTINGS and returning window for DATA as it goes.
func (r *rawH2) next() http2.Frame {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			r.t.Fatalf("read frame: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				r.fr.WriteSettingsAck()
			}
			continue
		case *http2.PingFrame, *http2.WindowUpdateFrame:
			continue
		case *http2.DataFrame:
			if n := len(f.Data()); n > 0 {
				r.fr.WriteWindowUpdate(0, uint32(n))
				r.fr.WriteWindowUpdate(f.StreamID, uint32(n))
			}
		}
		return f
	}
}

// slowOrigin answers every GET with size bytes of patterned content, the second half after
// release is closed; headSent receives once the first half is out.
func slowOrigin(t *testing.T, size int) (url string, headSent chan struct{}, release chan struct{}) {
	headSent, release = make(chan struct{}, 16), make(chan struct{})
	body := patterned(size)
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body[:size/2])
		w.(http.Flusher).Flush()
		headSent <- struct{}{}
		<-release
		w.Write(body[size/2:])
	})
	return o.URL, headSent, release
}

// TestH2Serve_goAwayFinishesStreams: shutting a node down, and a reload that changes the
// limits, send GOAWAY (NO_ERROR, naming the last stream accepted) on open HTTP/2
// connections; a response in flight on them still arrives whole.
func TestH2Serve_goAwayFinishesStreams(t *testing.T) {
	const size = 64 << 10
	for _, how := range []string{"reload", "shutdown"} {
		t.Run(how, func(t *testing.T) {
			url, headSent, release := slowOrigin(t, size)
			n, _ := h2Node(t, oneRoute(false, url))
			c := dialRawH2(t, n.HTTPSAddr())
			c.get(1, "/slow")
			<-headSent
			if _, ok := c.next().(*http2.HeadersFrame); !ok {
				t.Fatal("no response header first")
			}
			done := make(chan error, 1)
			go func() {
				switch how {
				case "reload":
					cfg := *n.rt.Load().cfg
					cfg.Limits.IdleTimeout = conf.Duration(cfg.Limits.IdleTimeout.D() + time.Second)
					done <- n.Reload(&cfg)
				default:
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					done <- n.Shutdown(ctx)
				}
			}()
			var goAway *http2.GoAwayFrame
			got := 0
			ended := false
			for !ended {
				switch f := c.next().(type) {
				case *http2.GoAwayFrame:
					goAway = f
					close(release) // the rest of the body comes after the GOAWAY
				case *http2.DataFrame:
					got += len(f.Data())
					ended = f.StreamEnded()
				case *http2.RSTStreamFrame:
					t.Fatalf("stream reset (%v) after %d bytes", f.ErrCode, got)
				}
			}
			if goAway == nil || goAway.ErrCode != http2.ErrCodeNo || goAway.LastStreamID != 1 {
				t.Fatalf("GOAWAY %+v, want NO_ERROR with last stream 1", goAway)
			}
			if got != size {
				t.Errorf("in-flight response: %d bytes of %d", got, size)
			}
			if err := <-done; err != nil {
				t.Errorf("%s: %v", how, err)
			}
			if how == "reload" {
				// The next connection is served by the new generation.
				c2 := dialRawH2(t, n.HTTPSAddr())
				c2.get(1, "/again")
				<-headSent
				if _, ok := c2.next().(*http2.HeadersFrame); !ok {
					t.Error("no answer on a new connection after the reload")
				}
			}
		})
	}
}

// TestH2Serve_h2cPriorKnowledge: listen.h2c speaks HTTP/2 in cleartext to a client with prior
// knowledge (RFC 9113 section 3.3) through the same cache: its requests are http:// ones and
// share objects with HTTP/1.1 on listen.http.
func TestH2Serve_h2cPriorKnowledge(t *testing.T) {
	body := patterned(5000)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write(body)
	})
	n, _ := h2Node(t, oneRoute(true, origin.URL))
	_, h, got := get(t, "http://"+n.HTTPAddr()+"/plain.css", "Host", "www.example.test")
	if got != string(body) || !strings.Contains(h.Get("Cache-Status"), "stored") {
		t.Fatalf("HTTP/1.1: %d bytes, Cache-Status %q", len(got), h.Get("Cache-Status"))
	}
	n.settleFills()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+"/plain.css", nil)
	req.Host = "www.example.test"
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || !bytes.Equal(b, body) || !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
		t.Errorf("h2c: HTTP/%d, %d bytes, Cache-Status %q", resp.ProtoMajor, len(b), resp.Header.Get("Cache-Status"))
	}
	if origin.requests.Load() != 1 {
		t.Errorf("origin asked %d times", origin.requests.Load())
	}
}

// TestH2Serve_chromiumLoadsThirtyAssets: headless Chromium loads a page over HTTPS through a
// node, and the page pulls 30 stylesheets of the demo site (internal/demo) at once. Every
// load spoke h2 (nextHopProtocol of the navigation and of each resource), every asset's bytes
// as the browser received them equal the origin's, and the origin served each asset once:
// the first browser's 30 concurrent misses on one connection were filled, a second browser
// (empty profile) got 30 hits.
func TestH2Serve_chromiumLoadsThirtyAssets(t *testing.T) {
	_, err := os.Stat(chromiumPath)
	testenv.Require(t, err == nil, "chromium is not installed (scripts/test-deps.sh installs it)")
	static, err := demo.StartOrigin("static-a")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { static.Close() })
	const assets = 30
	var links, expect strings.Builder
	for i := range assets {
		path := fmt.Sprintf("/static/asset-%02d.css", i)
		fmt.Fprintf(&links, "<link rel=\"stylesheet\" href=\"%s\">\n", path)
		_, _, body := get(t, static.URL+path)
		fmt.Fprintf(&expect, "%q: %q,\n", path, base64.StdEncoding.EncodeToString([]byte(body)))
	}
	static.Requests.Store(0)
	page := `<!doctype html><html><head><meta charset="utf-8"><title>thirty</title>
` + links.String() + `</head><body><pre id="result">pending</pre><script>
const expected = {` + expect.String() + `};
window.addEventListener("load", async () => {
  const out = {nav: performance.getEntriesByType("navigation")[0].nextHopProtocol, assets: []};
  for (const e of performance.getEntriesByType("resource")) {
    const path = new URL(e.name).pathname;
    if (!(path in expected)) continue;
    const want = Uint8Array.from(atob(expected[path]), c => c.charCodeAt(0));
    // From the browser's HTTP cache: the bytes the stylesheet load received. (A fetch past
    // that cache would send Cache-Control: no-cache, which the node rightly revalidates.)
    const got = new Uint8Array(await (await fetch(path)).arrayBuffer());
    const exact = got.length === want.length && got.every((b, i) => b === want[i]);
    out.assets.push({path, proto: e.nextHopProtocol, size: e.decodedBodySize, want: want.length, exact});
  }
  document.getElementById("result").textContent = JSON.stringify(out);
});
</script></body></html>`
	pages := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, page)
	})
	n, _ := h2Node(t, fmt.Sprintf(`node: {name: test-edge}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}
origins:
  static: {servers: [{url: %s}]}
  pages: {servers: [{url: %s}]}
routes:
  - {match: {path_prefix: /static/}, origin: static, cache: true}
  - {match: {path_prefix: /}, origin: pages, cache: false}
`, static.URL, pages.URL))
	for _, browser := range []string{"first", "second"} {
		res := chromiumH2Page(t, "https://www.example.test:"+strings.Split(n.HTTPSAddr(), ":")[1]+"/page.html")
		if res.Nav != "h2" {
			t.Errorf("%s browser: page loaded over %q", browser, res.Nav)
		}
		if len(res.Assets) != assets {
			t.Errorf("%s browser: %d of %d assets loaded: %+v", browser, len(res.Assets), assets, res.Assets)
		}
		for _, a := range res.Assets {
			if a.Proto != "h2" || a.Size != a.Want || !a.Exact {
				t.Errorf("%s browser: %s over %q, %d of %d bytes, exact %v", browser, a.Path, a.Proto, a.Size, a.Want, a.Exact)
			}
		}
	}
	if got := static.Requests.Load(); got != assets {
		t.Errorf("the demo origin served %d requests for %d assets", got, assets)
	}
}

// h2PageResult is what the page of TestH2Serve_chromiumLoadsThirtyAssets reports.
type h2PageResult struct {
	Nav    string
	Assets []struct {
		Path, Proto string
		Size, Want  int
		Exact       bool
	}
}

// chromiumH2Page loads url in a headless Chromium with a fresh profile (www.example.test
// mapped to 127.0.0.1, the test certificate accepted) and returns the page's report.
func chromiumH2Page(t *testing.T, url string) h2PageResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--ignore-certificate-errors",
		"--host-resolver-rules=MAP www.example.test 127.0.0.1", "--virtual-time-budget=30000", "--dump-dom", url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`<pre id="result">(.*?)</pre>`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no result in the page:\n%.2000s", stdout.String())
	}
	var res h2PageResult
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &res); err != nil {
		t.Fatalf("result %q: %v", m[1], err)
	}
	return res
}

// request opens stream id with method and path on www.example.test plus fields; body, when
// not nil, follows in DATA frames (without content-length unless fields give one).
func (r *rawH2) request(id uint32, method, path string, body []byte, fields ...string) {
	r.buf.Reset()
	for _, f := range [][2]string{{":method", method}, {":scheme", "https"}, {":authority", "www.example.test"}, {":path", path}} {
		r.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for i := 0; i+1 < len(fields); i += 2 {
		r.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: body == nil, EndHeaders: true})
	for len(body) > 0 {
		k := min(len(body), 16384)
		r.fr.WriteData(id, k == len(body), body[:k])
		body = body[k:]
	}
}

// response reads one response on stream id: its fields (":status" included) and content;
// reset reports an RST_STREAM.
func (r *rawH2) response(id uint32) (fields map[string][]string, content []byte, reset bool) {
	r.t.Helper()
	fields = map[string][]string{}
	for {
		switch f := r.next().(type) {
		case *http2.HeadersFrame:
			if f.StreamID != id {
				continue
			}
			hf, err := r.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				r.t.Fatal(err)
			}
			if len(hf) > 0 && hf[0].Name == ":status" && strings.HasPrefix(hf[0].Value, "1") {
				continue // interim
			}
			for _, h := range hf {
				fields[h.Name] = append(fields[h.Name], h.Value)
			}
			if f.StreamEnded() {
				return fields, content, false
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				content = append(content, f.Data()...)
				if f.StreamEnded() {
					return fields, content, false
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				r.resetCode = f.ErrCode
				return fields, content, true
			}
		case *http2.GoAwayFrame:
			r.t.Fatalf("GOAWAY %v", f.ErrCode)
		}
	}
}

// TestH2Serve_framingOfEachAnswer: what each kind of answer puts on the stream. Bodyless
// answers (HEAD, 204, 304) carry no DATA; a 304 and a 204 carry no content-length (RFC 9110
// section 8.6: a 304's would have to be the representation's, a 204 has none), a HEAD the
// representation's; request content reaches the origin whole, past the stream's initial
// window; content above limits.max_body_bytes gets 413 whether it was declared or not.
func TestH2Serve_framingOfEachAnswer(t *testing.T) {
	object := patterned(3000)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/empty":
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "POST":
			got, _ := io.ReadAll(r.Body)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(got)
		default:
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Write(object)
		}
	})
	n, pool := h2Node(t, "limits: {max_body_bytes: 512KiB}\n"+oneRoute(true, origin.URL))
	c := dialRawH2(t, n.HTTPSAddr())
	c.request(1, "GET", "/obj.css", nil)
	if _, body, _ := c.response(1); !bytes.Equal(body, object) {
		t.Fatalf("GET: %d bytes", len(body))
	}
	n.settleFills()
	cases := []struct {
		name          string
		method, path  string
		fields        []string
		status        string
		contentLength string // "" when the field must be absent
		content       []byte
	}{
		{"HEAD hit", "HEAD", "/obj.css", nil, "200", "3000", nil},
		{"304 hit", "GET", "/obj.css", []string{"if-none-match", `"v1"`}, "304", "", nil},
		{"204 pass", "GET", "/empty", nil, "204", "", nil},
	}
	id := uint32(3)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.request(id, tc.method, tc.path, nil, tc.fields...)
			fields, content, reset := c.response(id)
			if reset {
				t.Fatalf("stream reset")
			}
			if got := strings.Join(fields[":status"], ","); got != tc.status {
				t.Fatalf(":status %q, want %s", got, tc.status)
			}
			if got := strings.Join(fields["content-length"], ","); got != tc.contentLength {
				t.Errorf("content-length %q, want %q", got, tc.contentLength)
			}
			if !bytes.Equal(content, tc.content) {
				t.Errorf("content: %d bytes, want %d", len(content), len(tc.content))
			}
		})
		id += 2
	}
	// Uploads through Go's client, which keeps to the windows the node advertises.
	client := h2Client(pool, n.HTTPSAddr())
	upload := patterned(400 << 10) // past the 256 KiB initial stream window
	tooLarge := patterned(600 << 10)
	for _, tc := range []struct {
		name     string
		body     []byte
		declared bool
		status   int
	}{
		{"POST with content-length", upload, true, 200},
		{"POST without content-length", upload, false, 200},
		{"POST declared too large", tooLarge, true, 413},
		{"POST streamed too large", tooLarge, false, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.body)
			if !tc.declared {
				body = io.MultiReader(body) // length unknown: no content-length is sent
			}
			req, _ := http.NewRequest("POST", "https://www.example.test/echo", body)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.status == 200 && !bytes.Equal(got, tc.body)) {
				t.Errorf("%d with %d bytes, want %d echoing %d", resp.StatusCode, len(got), tc.status, len(tc.body))
			}
		})
	}
}
