package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// writeCert writes a self-signed certificate for names into dir and returns its files and a
// pool that trusts it.
func writeCert(t testing.TB, dir, prefix string, names ...string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, prefix+".crt"), filepath.Join(dir, prefix+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func tlsNode(t *testing.T, originURL string, extra string) (*Node, *x509.CertPool, string) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	cfg := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]%s}
`, certFile, keyFile, extra) + oneRoute(true, originURL)
	return startNode(t, cfg, Options{}), pool, dir
}

func tlsClient(pool *x509.CertPool, h2 bool, addr string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "www.example.test"},
		ForceAttemptHTTP2: h2,
		DialTLSContext:    nil,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}
}

// HTTP/1.1 and HTTP/2 over TLS go through the same cache pipeline.
func TestNode_httpsAndHTTP2ShareTheCache(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, strings.Repeat("tls ", 100))
	})
	n, pool, _ := tlsNode(t, origin.URL, "")
	url := "https://www.example.test:" + strings.Split(n.HTTPSAddr(), ":")[1] + "/asset.css"
	dial := func(c *http.Client) *http.Client {
		tr := c.Transport.(*http.Transport)
		tr.DialContext = nil
		tr.Proxy = nil
		tr.DialTLSContext = nil
		tr.TLSClientConfig.ServerName = "www.example.test"
		return c
	}
	for i, h2 := range []bool{false, true} {
		c := dial(tlsClient(pool, h2, n.HTTPSAddr()))
		req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+"/asset.css", nil)
		req.Host = "www.example.test"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("h2=%v: %v", h2, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantMajor := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != wantMajor {
			t.Errorf("h2=%v: spoke HTTP/%d", h2, resp.ProtoMajor)
		}
		if resp.StatusCode != 200 || len(body) != 400 {
			t.Errorf("h2=%v: %d, %d bytes", h2, resp.StatusCode, len(body))
		}
		cs := resp.Header.Get("Cache-Status")
		if i == 0 && !strings.Contains(cs, "stored") || i == 1 && !strings.Contains(cs, "hit") {
			t.Errorf("request %d (h2=%v): Cache-Status %q", i, h2, cs)
		}
		n.settleFills()
	}
	_ = url
	if origin.requests.Load() != 1 {
		t.Errorf("origin saw %d requests for one object over h1 and h2", origin.requests.Load())
	}
	// The plain-HTTP URL is another object: the scheme is part of the key.
	_, h, _ := get(t, "http://"+n.HTTPAddr()+"/asset.css", "Host", "www.example.test")
	if strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Error("http:// and https:// shared one cache entry")
	}
}

func TestNode_tlsVersionsAndCertificateReload(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n, pool, dir := tlsNode(t, origin.URL, "")
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", MinVersion: v, MaxVersion: v})
		if err == nil {
			c.Close()
			t.Errorf("TLS version %x accepted", v)
		}
	}
	certFile, keyFile, newPool := writeCert(t, dir, "next", "www.example.test")
	cfg, err := conf.Parse([]byte(fmt.Sprintf(`listen: {http: %q, https: %q, admin: %q}
tls: {certificates: [{cert: %s, key: %s}]}
`, n.rt.Load().cfg.Listen.HTTP, n.rt.Load().cfg.Listen.HTTPS, n.rt.Load().cfg.Listen.Admin, certFile, keyFile)+oneRoute(true, origin.URL)), "r.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: newPool, ServerName: "www.example.test"})
	if err != nil {
		t.Fatalf("after reload the new certificate is not served: %v", err)
	}
	c.Close()
}

func TestNode_redirectHTTPToHTTPS(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n, _, _ := tlsNode(t, origin.URL, ", redirect_http: true")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+"/a?b=1", nil)
	req.Host = "www.example.test:80"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://www.example.test/a?b=1" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A real client: curl over HTTP/2 with compression negotiated.
func TestNode_curlHTTP2(t *testing.T) {
	curl, err := exec.LookPath("curl")
	testenv.Require(t, err == nil, "curl is not installed")
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, strings.Repeat("curl over h2 ", 100))
	})
	n, _, dir := tlsNode(t, origin.URL, "")
	port := strings.Split(n.HTTPSAddr(), ":")[1]
	for i := 0; i < 2; i++ {
		out, err := exec.Command(curl, "-sS", "--http2", "--compressed", "-k", "--resolve", "www.example.test:"+port+":127.0.0.1",
			"-o", filepath.Join(dir, "body"), "-w", "%{http_version} %{http_code}", "https://www.example.test:"+port+"/c.txt").CombinedOutput()
		if err != nil || string(out) != "2 200" {
			t.Fatalf("curl: %q %v", out, err)
		}
		body, _ := os.ReadFile(filepath.Join(dir, "body"))
		if string(body) != strings.Repeat("curl over h2 ", 100) {
			t.Fatalf("curl body: %d bytes", len(body))
		}
		n.settleFills()
	}
}

// TestNode_plainHTTPOnTheHTTPSPortIs400: a client that speaks plain HTTP to listen.https (a
// health check or a URL with the wrong scheme) gets a plaintext 400 that says so and the
// connection closed, as nginx and Go's net/http answer it; a TLS alert was all it got before,
// which its parser read as garbage. Bytes that are neither HTTP nor TLS still get nothing.
func TestNode_plainHTTPOnTheHTTPSPortIs400(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, "site", "www.example.test")
	origin := startRawLogOrigin(t)
	n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, cert, key)+hostileConfig(origin.URL, ""), Options{})
	for _, raw := range []string{"GET /dyn/x HTTP/1.1\r\nHost: www.example.test\r\n\r\n", "PATCH /dyn/x HTTP/1.1\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n"} {
		out, closed := converse(t, n.HTTPSAddr(), raw, 3*time.Second)
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") || !strings.Contains(out, "\r\nDate: ") || !strings.HasSuffix(out, plainHTTPNotice) || !closed {
			t.Errorf("%q on the HTTPS port: %q (closed %v), want a 400 saying plain HTTP, then close", raw, out, closed)
		}
	}
	if out, _ := converse(t, n.HTTPSAddr(), "\x00\x01\x02\x03\x04\x05 junk", 3*time.Second); strings.Contains(out, "HTTP/1.1") {
		t.Errorf("junk on the HTTPS port: %q, want no HTTP answer", out)
	}
	if got := origin.requests(); len(got) > 0 {
		t.Errorf("the origin got %d requests", len(got))
	}
}

// TestNode_tlsHandshakeBoundedByReadTimeout: a connection to listen.https that sends nothing,
// or stops part way through its ClientHello, is closed after limits.read_timeout when that
// is below the 10 s handshake bound, as the plain listener closes a silent connection; it
// was held the whole 10 s.
func TestNode_tlsHandshakeBoundedByReadTimeout(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, "site", "www.example.test")
	n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
limits: {read_timeout: 300ms}
`, cert, key)+oneRoute(false, "http://127.0.0.1:1"), Options{})
	for _, sent := range []string{"", "\x16\x03\x01\x00"} {
		if _, closed := converse(t, n.HTTPSAddr(), sent, 5*time.Second); !closed {
			t.Errorf("%q sent: the connection was still open after 5 s, read_timeout 300ms", sent)
		}
	}
}
