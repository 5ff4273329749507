package edge

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestNode_connLimitsHoldForTLSHandshakesAndHTTP2: limits.max_conns_per_ip and
// limits.max_conns bound connections that are still in their TLS handshake and HTTP/2
// connections (listen.https with ALPN h2, listen.h2c) as they bound HTTP/1.1's: a client
// holding the limit's worth of such connections gets its next one closed, and gets one
// again once it lets go. Failed before: with max_conns_per_ip 2 (or max_conns 2), a client
// holding 2 connections that never started their handshake, or 2 HTTP/2 connections, still
// got its third served (fasthttp counted only HTTP/1.1 connections after the handshake).
func TestNode_connLimitsHoldForTLSHandshakesAndHTTP2(t *testing.T) {
	origin := startRawLogOrigin(t)
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir, "site", "www.test")
	for _, limit := range []string{"max_conns_per_ip: 2", "max_conns: 2"} {
		cfg := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
limits: {%s}
`, certFile, keyFile, limit) + hostileConfig(origin.URL, "")
		n := startNode(t, cfg, Options{})
		for _, tc := range []struct {
			name  string
			addr  string
			hold  func(t *testing.T) net.Conn // one connection counted against the limit
			serve func(t *testing.T) error    // a whole request on a new connection
		}{
			{"TLS handshake pending", n.HTTPSAddr(),
				func(t *testing.T) net.Conn { return dialTCP(t, n.HTTPSAddr()) },
				func(t *testing.T) error {
					return getOver(sniClient(n.HTTPSAddr(), "www.test", false), "https://www.test/dyn/limit")
				}},
			{"HTTP/2 over TLS", n.HTTPSAddr(),
				func(t *testing.T) net.Conn {
					c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{ServerName: "www.test", InsecureSkipVerify: true, NextProtos: []string{"h2"}})
					if err != nil {
						t.Fatal(err)
					}
					io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
					return c
				},
				func(t *testing.T) error {
					return getOver(sniClient(n.HTTPSAddr(), "www.test", true), "https://www.test/dyn/limit")
				}},
			{"h2c", n.H2CAddr(),
				func(t *testing.T) net.Conn {
					c := dialTCP(t, n.H2CAddr())
					io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
					return c
				},
				func(t *testing.T) error { return getOver(h2cClient(), "http://"+n.H2CAddr()+"/dyn/limit") }},
		} {
			for deadline := time.Now().Add(5 * time.Second); gateHolds(n) > 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond) // the previous case's connections have ended
			}
			held := []net.Conn{tc.hold(t), tc.hold(t)}
			// Both accepted and counted before the third: an h2c connection is counted on
			// its own goroutine, which a loaded machine may run after the third's.
			for deadline := time.Now().Add(5 * time.Second); gateHolds(n) < 2 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			thirdWaitsForTheHeld(t, limit+", "+tc.name, held, tc.serve)
		}
	}
}

// gateHolds is how many connections n's gate counts now.
func gateHolds(n *Node) int {
	n.gate.mu.Lock()
	defer n.gate.mu.Unlock()
	return n.gate.total
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// getOver GETs url with c on a new connection; nil only for a 200.
func getOver(c *http.Client, url string) error {
	defer c.CloseIdleConnections()
	c.Timeout = 3 * time.Second
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// thirdWaitsForTheHeld checks that a new connection is refused while held fill the limit,
// and served again (within 5 s) once they are closed.
func thirdWaitsForTheHeld(t *testing.T, what string, held []net.Conn, serve func(t *testing.T) error) {
	t.Helper()
	if err := serve(t); err == nil {
		t.Errorf("%s: a third connection was served while two were held", what)
	}
	for _, c := range held {
		c.Close()
	}
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = serve(t); err == nil {
			return
		}
	}
	t.Errorf("%s: no connection served after the held ones closed: %v", what, err)
}
