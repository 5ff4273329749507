package edge

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// sniClient speaks HTTP/1.1 or HTTP/2 over TLS to addr, sending sni in the handshake ("" for
// none) whatever host a request names; it does not verify the certificate, as a client
// reusing a connection for another host no longer asks.
func sniClient(addr, sni string, h2 bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: sni, InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	tr.Protocols = new(http.Protocols)
	if h2 {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	return &http.Client{Transport: tr}
}

// TestNode_misdirectedRequestIs421: on a TLS connection whose client sent SNI, a request
// for a host the certificate served for that name does not cover gets 421 Misdirected
// Request (RFC 9110 section 7.4, RFC 9113 section 9.1.1) and reaches no origin, over
// HTTP/1.1 and HTTP/2; the connection stays and answers its next request for a covered host.
// A host the certificate covers (the SNI name, another of its names, a wildcard's), and any
// host on a connection without SNI, is answered. Failed before: every host was answered on
// every connection (200 for other.test on www.example.test's connection).
func TestNode_misdirectedRequestIs421(t *testing.T) {
	origin := startRawLogOrigin(t)
	dir := t.TempDir()
	siteCert, siteKey, _ := writeCert(t, dir, "site", "www.example.test", "*.img.example.test")
	otherCert, otherKey, _ := writeCert(t, dir, "other", "other.test")
	cfg := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}, {cert: %s, key: %s}]}
`, siteCert, siteKey, otherCert, otherKey) + hostileConfig(origin.URL, "")
	n := startNode(t, cfg, Options{})
	for _, tc := range []struct {
		sni, host string
		want      int
	}{
		{"www.example.test", "www.example.test", 200},
		{"www.example.test", "a.img.example.test", 200}, // the wildcard the same certificate holds
		{"www.example.test", "other.test", 421},
		{"www.example.test", "example.test", 421},
		{"www.example.test", "b.a.img.example.test", 421}, // a wildcard covers one label
		{"other.test", "other.test", 200},
		{"other.test", "www.example.test", 421},
		{"unknown.test", "unknown.test", 200}, // the client asked for this name: not misdirected
		{"unknown.test", "other.test", 421},   // served the first certificate, which lacks it
		{"unknown.test", "www.example.test", 200},
		{"", "other.test", 200},                // no SNI: nothing to compare
		{"www.example.test", "127.0.0.1", 200}, // an address: no certificate name at stake
		{"WWW.Example.Test", "www.example.test", 200},
	} {
		for _, h2 := range []bool{false, true} {
			c := sniClient(n.HTTPSAddr(), tc.sni, h2)
			path := fmt.Sprintf("/dyn/sni-%s-%s-%v", tc.sni, tc.host, h2)
			before := len(origin.asked(path))
			req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+path, nil)
			req.Host = tc.host
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("SNI %q Host %q h2 %v: %v", tc.sni, tc.host, h2, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			asked := len(origin.asked(path)) - before
			if resp.StatusCode != tc.want || (tc.want == 421) != (asked == 0) || (h2 != (resp.ProtoMajor == 2)) {
				t.Errorf("SNI %q Host %q h2 %v: %d %q (HTTP/%d), origin asked %d times; want %d", tc.sni, tc.host, h2, resp.StatusCode, body, resp.ProtoMajor, asked, tc.want)
			}
			if tc.want != 421 {
				c.CloseIdleConnections()
				continue
			}
			// The same connection answers a host it covers next.
			var reused bool
			req, _ = http.NewRequest("GET", "https://"+n.HTTPSAddr()+"/dyn/after-421", nil)
			req.Host = "www.example.test"
			if tc.sni == "other.test" {
				req.Host = "other.test"
			}
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
			}))
			resp, err = c.Do(req)
			if err != nil {
				t.Fatalf("SNI %q after 421, h2 %v: %v", tc.sni, h2, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !reused {
				t.Errorf("SNI %q after 421, h2 %v: %d, connection reused %v; want 200 on the same connection", tc.sni, h2, resp.StatusCode, reused)
			}
			c.CloseIdleConnections()
		}
	}
	// A fresh hit is refused too: over HTTP/2 the probe answers hits on the connection's
	// goroutine, and the refusal must come before it.
	for _, h2 := range []bool{false, true} {
		path := fmt.Sprintf("/c/sni-hit-%v.css", h2)
		for i := 0; i < 2; i++ {
			n.settleFills()
			resp := sniGet(t, n.HTTPSAddr(), "", h2, path, "other.test")
			if i == 1 && !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
				t.Fatalf("h2 %v: %s not a hit without SNI: %q", h2, path, resp.Header.Get("Cache-Status"))
			}
		}
		resp := sniGet(t, n.HTTPSAddr(), "www.example.test", h2, path, "other.test")
		if resp.StatusCode != 421 {
			t.Errorf("h2 %v: a hit for other.test on www.example.test's connection: %d, want 421", h2, resp.StatusCode)
		}
	}
}

// sniGet asks addr for path with Host host on a new connection that sends sni (none when
// empty), over HTTP/2 or HTTP/1.1, and returns the response with its body read and closed.
func sniGet(t *testing.T, addr, sni string, h2 bool, path, host string) *http.Response {
	t.Helper()
	c := sniClient(addr, sni, h2)
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestNode_misdirectedNotCheckedForATrustedProxy: a front proxy in trusted_proxies pools its
// TLS connections to the node under one name and sends every site's requests over them (as
// HAProxy with a fixed sni, Envoy or nginx with proxy_ssl_name do): its requests for other
// hosts are served, over HTTP/1.1 and HTTP/2, not refused 421. A client outside the list is
// still refused. Failed before: 421 for other.test on the proxy's www.example.test connection.
func TestNode_misdirectedNotCheckedForATrustedProxy(t *testing.T) {
	origin := startRawLogOrigin(t)
	dir := t.TempDir()
	siteCert, siteKey, _ := writeCert(t, dir, "site", "www.example.test")
	for _, tc := range []struct {
		trusted string
		want    int
	}{
		{"[127.0.0.1/32]", 200},
		{"[192.0.2.0/24]", 421},
	} {
		cfg := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
trusted_proxies: %s
`, siteCert, siteKey, tc.trusted) + hostileConfig(origin.URL, "")
		n := startNode(t, cfg, Options{})
		for _, h2 := range []bool{false, true} {
			path := fmt.Sprintf("/dyn/trusted-%v", h2)
			if resp := sniGet(t, n.HTTPSAddr(), "www.example.test", h2, path, "other.test"); resp.StatusCode != tc.want {
				t.Errorf("trusted_proxies %s, h2 %v: other.test on www.example.test's connection: %d, want %d", tc.trusted, h2, resp.StatusCode, tc.want)
			}
		}
	}
}
