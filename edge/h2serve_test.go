package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
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
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
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
		n.Store().Wait()
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
