package edge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// wsOrigin is an origin that speaks WebSocket on /ws (echoing each message until the client
// closes, or closing itself after the message "bye") and plain HTTP elsewhere; closed
// receives one value per WebSocket connection that ended.
func wsOrigin(t *testing.T) (url string, closed chan struct{}) {
	closed = make(chan struct{}, 16)
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) {
		defer func() { closed <- struct{}{} }()
		for {
			var msg string
			if err := websocket.Message.Receive(c, &msg); err != nil {
				return
			}
			if msg == "bye" {
				c.Close()
				return
			}
			websocket.Message.Send(c, "echo "+msg)
		}
	}))
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "no websocket here")
	})
	o := startOrigin(t, mux.ServeHTTP)
	return o.URL, closed
}

// TestNode_websocketPassesThrough: a WebSocket handshake (RFC 6455; an HTTP/1.1 upgrade,
// RFC 9110 section 7.8) reaches the origin with its Upgrade and Connection fields, the
// origin's 101 reaches the client, and messages then cross both ways, over plain HTTP and
// TLS, on a cache route too; a close from either side ends the tunnel on the other, an idle
// tunnel is closed after limits.idle_timeout while a busy one is not, and an origin that
// does not upgrade has its answer relayed. Failed before: Upgrade was dropped as a
// hop-by-hop field, the origin saw a plain GET, and the handshake failed ("bad status").
func TestNode_websocketPassesThrough(t *testing.T) {
	originURL, closed := wsOrigin(t)
	certFile, keyFile, pool := writeCert(t, t.TempDir(), "site", "www.example.test")
	const idle = 400 * time.Millisecond
	n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
limits: {idle_timeout: %v}
`, certFile, keyFile, idle)+oneRoute(true, originURL), Options{})
	dial := func(scheme, addr string) *websocket.Conn {
		t.Helper()
		cfg, err := websocket.NewConfig(scheme+"://www.example.test/ws", "http://www.example.test/")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TlsConfig = &tls.Config{RootCAs: pool, ServerName: "www.example.test"}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var rwc io.ReadWriteCloser = c
		if scheme == "wss" {
			tc := tls.Client(c, cfg.TlsConfig)
			rwc = tc
		}
		ws, err := websocket.NewClient(cfg, rwc)
		if err != nil {
			t.Fatalf("%s handshake: %v", scheme, err)
		}
		ws.SetDeadline(time.Now().Add(10 * time.Second))
		return ws
	}
	echo := func(ws *websocket.Conn, msg string) {
		t.Helper()
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatalf("send %q: %v", msg, err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil || got != "echo "+msg {
			t.Fatalf("sent %q, got %q, %v", msg, got, err)
		}
	}
	waitClosed := func(what string) {
		t.Helper()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the origin's WebSocket did not end", what)
		}
	}
	for _, tc := range []struct{ scheme, addr string }{{"ws", n.HTTPAddr()}, {"wss", n.HTTPSAddr()}} {
		// The client closes: the origin's side ends.
		ws := dial(tc.scheme, tc.addr)
		echo(ws, "one")
		echo(ws, strings.Repeat("x", 100<<10))
		ws.Close()
		waitClosed(tc.scheme + " client close")

		// The origin closes: the client reads the end.
		ws = dial(tc.scheme, tc.addr)
		websocket.Message.Send(ws, "bye")
		var got string
		if err := websocket.Message.Receive(ws, &got); err == nil {
			t.Errorf("%s: after the origin closed, read %q, want the end", tc.scheme, got)
		}
		ws.Close()
		waitClosed(tc.scheme + " origin close")

		// Busy for three idle timeouts: kept. Then idle: closed on both sides.
		ws = dial(tc.scheme, tc.addr)
		for i := 0; i < 12; i++ {
			echo(ws, fmt.Sprint("busy ", i))
			time.Sleep(idle / 4)
		}
		start := time.Now()
		if err := websocket.Message.Receive(ws, &got); err == nil {
			t.Errorf("%s: an idle tunnel sent %q", tc.scheme, got)
		} else if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: the idle tunnel ended after %v, want about %v", tc.scheme, took, idle)
		}
		ws.Close()
		waitClosed(tc.scheme + " idle")
	}
	// An origin that does not upgrade: its answer, and the connection closes after it.
	out, closedConn := converse(t, n.HTTPAddr(), "GET /page HTTP/1.1\r\nHost: www.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 3*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 200 ") || !strings.HasSuffix(out, "no websocket here") || !closedConn {
		t.Errorf("an upgrade the origin declined: %q (closed %v), want its 200 and the connection closed", out, closedConn)
	}
}

// TestNode_websocketTunnelCountsAgainstConnLimits: a connection that became a tunnel (ws or
// wss) still holds its place under limits.max_conns and max_conns_per_ip until the tunnel ends, as it
// does under nginx's limit_conn and HAProxy's maxconn. Failed before: a hijacked connection
// left the gate at the hijack, so with a limit of 1 a second client was served while a
// WebSocket was open, and any number of tunnels could be held.
func TestNode_websocketTunnelCountsAgainstConnLimits(t *testing.T) {
	originURL, closed := wsOrigin(t)
	const page = "GET /page HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n"
	certFile, keyFile, pool := writeCert(t, t.TempDir(), "site", "www.example.test")
	for _, tc := range []struct {
		limit string
		wss   bool
	}{{"max_conns_per_ip: 1", false}, {"max_conns: 1", false}, {"max_conns_per_ip: 1", true}} {
		limit, wss := tc.limit, tc.wss
		n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
limits: {%s}
`, certFile, keyFile, limit)+oneRoute(false, originURL), Options{})
		cfg, err := websocket.NewConfig("ws://www.example.test/ws", "http://www.example.test/")
		if err != nil {
			t.Fatal(err)
		}
		// One connection only: a plain one dialled and closed before the TLS one would hold
		// the only place until the node reads its close, which on a loaded machine comes
		// after the TLS handshake (429, as limit_conn counts a connection until it is seen
		// to close).
		var rwc io.ReadWriteCloser
		if wss {
			rwc = tls.Client(dialTCP(t, n.HTTPSAddr()), &tls.Config{RootCAs: pool, ServerName: "www.example.test"})
		} else {
			rwc = dialTCP(t, n.HTTPAddr())
		}
		ws, err := websocket.NewClient(cfg, rwc)
		if err != nil {
			t.Fatalf("%s: handshake: %v", limit, err)
		}
		ws.SetDeadline(time.Now().Add(10 * time.Second))
		if err := websocket.Message.Send(ws, "hi"); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil || got != "echo hi" {
			t.Fatalf("%s: got %q, %v", limit, got, err)
		}
		if out, _ := converse(t, n.HTTPAddr(), page, 3*time.Second); strings.HasPrefix(out, "HTTP/1.1 200 ") {
			t.Errorf("%s: a second connection was served while a tunnel held the only place", limit)
		}
		ws.Close()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the tunnel did not end", limit)
		}
		served := false
		for deadline := time.Now().Add(5 * time.Second); !served && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			out, _ := converse(t, n.HTTPAddr(), page, 3*time.Second)
			served = strings.HasPrefix(out, "HTTP/1.1 200 ")
		}
		if !served {
			t.Errorf("%s: no connection served after the tunnel ended", limit)
		}
	}
}

// upgradeOrigin answers every request with answer on a raw connection and sends the
// Upgrade field of each request it read to seen.
func upgradeOrigin(t *testing.T, answer string) (url string, seen chan string) {
	t.Helper()
	seen = make(chan string, 16)
	url = serveEachRaw(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		seen <- req.Header.Get("Upgrade")
		io.WriteString(c, answer)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, c) // until the node closes the tunnel
	})
	return url, seen
}

// TestNode_upgradeRefusesH2CAndUnaskedProtocols: an Upgrade to h2c never reaches the origin
// (an origin that took it would serve every request on the tunnel past the routes, access
// rules and limits: "h2c smuggling"; nginx and HAProxy never pass it): the request is served
// as a plain GET. A 101 that switches to a protocol the client did not offer, or names
// none, is a broken answer: 502 (RFC 9110 section 7.8). Failed before: the h2c upgrade was
// forwarded and its 101 relayed with the origin's bytes, and so were 101s naming "foo" to a
// WebSocket handshake and naming nothing.
func TestNode_upgradeRefusesH2CAndUnaskedProtocols(t *testing.T) {
	const switched = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\ntunnel bytes"
	for _, tc := range []struct {
		name, upgrade, switchedTo string
		forwarded                 bool // the origin sees the Upgrade
	}{
		{"h2c", "h2c", "h2c", false},
		{"h2c in a list", "websocket, H2C", "websocket", false},
		{"another protocol", "websocket", "foo", true},
		{"no protocol", "websocket", "", true},
	} {
		for _, cache := range []bool{false, true} {
			o, seen := upgradeOrigin(t, fmt.Sprintf(switched, tc.switchedTo))
			n := startNode(t, `listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+oneRoute(cache, o), Options{})
			out, _ := converse(t, n.HTTPAddr(), "GET /x HTTP/1.1\r\nHost: www.example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: "+tc.upgrade+"\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", time.Second)
			var got string
			select {
			case got = <-seen:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s (cache %v): the origin saw no request", tc.name, cache)
			}
			if (got != "") != tc.forwarded {
				t.Errorf("%s (cache %v): the origin saw Upgrade %q", tc.name, cache, got)
			}
			if strings.Contains(out, "101") || strings.Contains(out, "tunnel bytes") {
				t.Errorf("%s (cache %v): the client got %q", tc.name, cache, out)
			}
		}
	}
}
