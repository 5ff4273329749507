package edge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// limits.max_conns and max_conns_per_ip are one count over every kind of client connection,
// as an operator reads them (HAProxy's maxconn, nginx's worker_connections): two connections
// of one kind held leave no room for a third of another kind, whichever the two are. Each
// held connection has had an answer, so it is counted whatever goroutine accepted it.
// Failed before: HTTP/1.1 connections (plain, or over TLS after the handshake) were counted
// apart from HTTP/2 and handshakes, so with max_conns 2 a node held 2 of each (the third
// was served in every row below).
func TestNode_connLimitsAreOneCountAcrossProtocols(t *testing.T) {
	origin := startRawLogOrigin(t)
	certFile, keyFile, _ := writeCert(t, t.TempDir(), "site", "www.test")
	for _, limit := range []string{"max_conns: 2", "max_conns_per_ip: 2"} {
		n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
limits: {%s}
`, certFile, keyFile, limit)+hostileConfig(origin.URL, ""), Options{})
		plain := func(t *testing.T) net.Conn { return heldHTTP1(t, dialTCP(t, n.HTTPAddr())) }
		overTLS := func(t *testing.T) net.Conn {
			c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{ServerName: "www.test", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			return heldHTTP1(t, c)
		}
		h2c := func(t *testing.T) net.Conn {
			c := dialTCP(t, n.H2CAddr())
			io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, make([]byte, 9)); err != nil { // the server's SETTINGS
				t.Fatalf("h2c preface: %v", err)
			}
			return c
		}
		serveH1 := func(t *testing.T) error { return getOver(&http.Client{}, "http://"+n.HTTPAddr()+"/dyn/one") }
		serveH2C := func(t *testing.T) error { return getOver(h2cClient(), "http://"+n.H2CAddr()+"/dyn/one") }
		serveH2 := func(t *testing.T) error {
			return getOver(sniClient(n.HTTPSAddr(), "www.test", true), "https://www.test/dyn/one")
		}
		for _, tc := range []struct {
			name  string
			hold  [2]func(t *testing.T) net.Conn
			serve func(t *testing.T) error
		}{
			{"two HTTP/1.1, then h2c", [2]func(*testing.T) net.Conn{plain, plain}, serveH2C},
			{"two HTTP/1.1, then HTTP/2 over TLS", [2]func(*testing.T) net.Conn{plain, plain}, serveH2},
			{"two h2c, then HTTP/1.1", [2]func(*testing.T) net.Conn{h2c, h2c}, serveH1},
			{"HTTP/1.1 over TLS and h2c, then HTTP/1.1", [2]func(*testing.T) net.Conn{overTLS, h2c}, serveH1},
		} {
			held := []net.Conn{tc.hold[0](t), tc.hold[1](t)}
			thirdWaitsForTheHeld(t, limit+", "+tc.name, held, tc.serve)
			for deadline := time.Now().Add(5 * time.Second); gateHolds(n) > 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond) // the served connections have ended
			}
		}
	}
}

// heldHTTP1 has c answered once, keeping it open, and returns it.
func heldHTTP1(t *testing.T, c net.Conn) net.Conn {
	t.Helper()
	if st, err := rawGET(t, c, bufio.NewReader(c), "/dyn/held"); st != http.StatusOK {
		t.Fatalf("a held connection got %d (%v)", st, err)
	}
	return c
}
