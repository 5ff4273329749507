package origin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/valyala/fasthttp"
)

type interim struct {
	status int
	link   string
}

// doWithInterim sends method path through p, recording the interim responses OnInterim sees.
func doWithInterim(t *testing.T, p *Pool, method, path string) (status int, header, body string, got []interim, err error) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://www.example.com" + path)
	target := Target{Idempotent: true, OnInterim: func(status int, h *fasthttp.ResponseHeader) {
		got = append(got, interim{status, string(h.Peek("Link"))})
	}}
	_, done, err := p.Do(req, resp, target)
	if err != nil {
		return 0, "", "", got, err
	}
	defer done()
	b, err := io.ReadAll(resp.BodyStream())
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp.StatusCode(), resp.Header.String(), string(b), got, nil
}

// Issue 13, input 4: interim responses (RFC 9110 §15.2) are consumed, handed to OnInterim in
// order, and never returned as the final response; 101 and endless 1xx are protocol errors.
func TestPool_interimResponses(t *testing.T) {
	hints := testenv.Interim{Status: 103, Header: testenv.Fields("Link", "</a.css>; rel=preload")}
	body := []byte(strings.Repeat("b", 300))
	cases := []struct {
		name       string
		method     string
		script     testenv.Script
		want       []interim
		wantStatus int
		wantBody   string
		wantErr    string // Error.Kind
	}{
		{"one 103", "GET", testenv.Script{Interim: []testenv.Interim{hints}, Body: body},
			[]interim{{103, "</a.css>; rel=preload"}}, 200, string(body), ""},
		{"100, 102, two 103", "GET", testenv.Script{Interim: []testenv.Interim{{Status: 100}, {Status: 102}, hints, {Status: 103, Header: testenv.Fields("Link", "</b.js>; rel=preload")}}, Body: body},
			[]interim{{100, ""}, {102, ""}, {103, "</a.css>; rel=preload"}, {103, "</b.js>; rel=preload"}}, 200, string(body), ""},
		{"103 then chunked", "GET", testenv.Script{Interim: []testenv.Interim{hints}, Body: body, Framing: testenv.Chunked, Chunk: 100},
			[]interim{{103, "</a.css>; rel=preload"}}, 200, string(body), ""},
		{"103 then close-delimited", "GET", testenv.Script{Interim: []testenv.Interim{hints}, Body: body, Framing: testenv.CloseDelimited},
			[]interim{{103, "</a.css>; rel=preload"}}, 200, string(body), ""},
		{"103 then 304", "GET", testenv.Script{Interim: []testenv.Interim{hints}, Status: 304, Framing: testenv.NoFraming},
			[]interim{{103, "</a.css>; rel=preload"}}, 304, "", ""},
		{"103 then 204", "GET", testenv.Script{Interim: []testenv.Interim{hints}, Status: 204, Framing: testenv.NoFraming},
			[]interim{{103, "</a.css>; rel=preload"}}, 204, "", ""},
		{"103 to HEAD", "HEAD", testenv.Script{Interim: []testenv.Interim{hints}, Body: body},
			[]interim{{103, "</a.css>; rel=preload"}}, 200, "", ""},
		{"101 unasked", "GET", testenv.Script{Raw: []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")},
			nil, 0, "", KindProtocol},
		{"endless 1xx", "GET", testenv.Script{Interim: testenvRepeat(testenv.Interim{Status: 102}, maxInterim+2), Body: body},
			nil, 0, "", KindProtocol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			o.Script("/x", c.script)
			p, _ := newTestPool(t, poolConf("", o.URL), nil)
			status, header, gotBody, got, err := doWithInterim(t, p, c.method, "/x")
			if c.wantErr != "" {
				var oe *Error
				if !errors.As(err, &oe) || oe.Kind != c.wantErr || oe.retryable() {
					t.Fatalf("err = %v, want a %s error that is not retried", err, c.wantErr)
				}
				if o.Count("/x") != 1 {
					t.Fatalf("origin saw %d requests, want 1 (no retry after a response byte)", o.Count("/x"))
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if status != c.wantStatus || gotBody != c.wantBody {
				t.Fatalf("final response %d %q, want %d %q", status, gotBody, c.wantStatus, c.wantBody)
			}
			if strings.Contains(header, "Link") {
				t.Fatalf("an interim field leaked into the final head:\n%s", header)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("OnInterim saw %v, want %v", got, c.want)
			}
		})
	}
}

func testenvRepeat(in testenv.Interim, n int) []testenv.Interim {
	out := make([]testenv.Interim, n)
	for i := range out {
		out[i] = in
	}
	return out
}

// A request body sent with Expect: 100-continue reaches the origin whole, both at a raw origin
// and at net/http's server, which answers 100 only when the handler reads the body.
func TestPool_expectContinueBody(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/up", testenv.Script{Status: 201, Body: []byte("stored")})
	echo := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(201)
		fmt.Fprintf(w, "got %d", len(b))
	})
	payload := strings.Repeat("p", 70_000)
	for _, c := range []struct {
		name, url, want string
	}{{"raw origin", o.URL, "stored"}, {"net/http", echo.URL, fmt.Sprintf("got %d", len(payload))}} {
		p, _ := newTestPool(t, poolConf("", c.url), nil)
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.Header.SetMethod("PUT")
		req.SetRequestURI("http://www.example.com/up")
		req.Header.Set("Expect", "100-continue")
		req.SetBodyString(payload)
		var interims []int
		_, done, err := p.Do(req, resp, Target{Idempotent: true, OnInterim: func(s int, _ *fasthttp.ResponseHeader) { interims = append(interims, s) }})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.BodyStream())
		done()
		if resp.StatusCode() != 201 || string(b) != c.want {
			t.Fatalf("%s: %d %q, want 201 %q", c.name, resp.StatusCode(), b, c.want)
		}
		if fmt.Sprint(interims) != "[100]" {
			t.Fatalf("%s: interim responses %v, want [100]", c.name, interims)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	if reqs := o.Requests(); len(reqs) != 1 || len(reqs[0].Body) != len(payload) {
		t.Fatalf("raw origin read %d requests, body %d bytes; want the whole body", len(reqs), len(reqs[0].Body))
	}
}

// Issue 13, keep-alive: an idle connection is not reused past the server's Keep-Alive:
// timeout=N (less a margin), nor past idle_timeout.
func TestPool_keepAliveLimits(t *testing.T) {
	cases := []struct {
		name      string
		keepAlive string
		idle      time.Duration // pool idle_timeout; 0 means the default (4s)
		wait      time.Duration
		wantConns int
	}{
		{"reused within the limits", "timeout=5, max=100", 0, 50 * time.Millisecond, 1},
		{"timeout=1 closes after 500ms idle", "timeout=1, max=100", 0, 700 * time.Millisecond, 2},
		{"idle_timeout 300ms", "", 300 * time.Millisecond, 500 * time.Millisecond, 2},
		{"idle_timeout below the server's", "timeout=5", 300 * time.Millisecond, 500 * time.Millisecond, 2},
		{"max=0: no request left", "timeout=5, max=0", 0, 0, 2},
		{"timeout=0: not reused", "timeout=0", 0, 0, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			var h []testenv.Field
			if c.keepAlive != "" {
				h = testenv.Fields("Keep-Alive", c.keepAlive)
			}
			o.Script("/k", testenv.Script{Header: h, Body: []byte("ok")})
			cfg := poolConf("", o.URL)
			cfg.IdleTimeout = conf.Duration(c.idle)
			p, _ := newTestPool(t, cfg, nil)
			for i := range 2 {
				if i == 1 {
					time.Sleep(c.wait)
				}
				if status, body, _, err := doGet(t, p, "/k", Target{Idempotent: true}); err != nil || status != 200 || body != "ok" {
					t.Fatalf("request %d: %d %q %v", i, status, body, err)
				}
			}
			if o.Conns() != c.wantConns {
				t.Fatalf("origin accepted %d connections, want %d", o.Conns(), c.wantConns)
			}
		})
	}
}

// A server that closes idle connections sooner than the pool expects (no Keep-Alive field):
// its FIN is seen when the connection is taken (unsolicited), so every request goes on a new
// connection, the non-idempotent one too, with no retry and no error counted.
func TestPool_connectionClosedWhileIdleGoesUnused(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/s", testenv.Script{Body: []byte("ok"), IdleClose: 100 * time.Millisecond})
	cfg := poolConf("", o.URL)
	cfg.Retries = -1
	cfg.Passive.Errors = 1
	p, reg := newTestPool(t, cfg, nil)
	for i := range 4 {
		if status, body, _, err := doGet(t, p, "/s", Target{Idempotent: i < 3}); err != nil || status != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
		time.Sleep(300 * time.Millisecond) // the origin has closed the idle connection
	}
	if o.Conns() != 4 || o.Count("/s") != 4 {
		t.Fatalf("origin: %d connections, %d requests; want 4 and 4", o.Conns(), o.Count("/s"))
	}
	if snap := p.Snapshot().Servers[0]; snap.State != StateUp || snap.Errors != 0 {
		t.Fatalf("server after idle closes: %+v", snap)
	}
	for _, name := range []string{"shoal_origin_errors_total", "shoal_origin_stale_connection_retries_total"} {
		if n := counterValue(t, reg, name, nil); n != 0 {
			t.Fatalf("%s = %v, want 0", name, n)
		}
	}
}

// A server that closes a kept-alive connection as the next request arrives (its close races
// the request, after the pool looked at the idle connection): an idempotent request is
// retried once on a new connection, even in a one-server pool with retries off, and the
// server's health does not suffer; a non-idempotent one is not (the server may have acted on
// it): a reset is reported.
func TestPool_staleConnectionRetriedOnNewConnection(t *testing.T) {
	ln := listenLocal(t)
	var conns, answered atomic.Int32
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil || i > 0 {
				return // the second request on a connection: closed unanswered
			}
			io.Copy(io.Discard, req.Body)
			answered.Add(1)
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	})
	cfg := poolConf("", "http://"+ln.Addr().String())
	cfg.Retries = -1
	cfg.Passive.Errors = 1
	p, reg := newTestPool(t, cfg, nil)
	for i := range 3 {
		if status, body, _, err := doGet(t, p, "/s", Target{Idempotent: true}); err != nil || status != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	if conns.Load() != 3 || answered.Load() != 3 {
		t.Fatalf("origin: %d connections, %d answers; want 3 and 3", conns.Load(), answered.Load())
	}
	snap := p.Snapshot().Servers[0]
	if snap.State != StateUp || snap.Errors != 0 {
		t.Fatalf("server after stale connections: %+v", snap)
	}
	if n := counterValue(t, reg, "shoal_origin_errors_total", nil); n != 0 {
		t.Fatalf("errors_total = %v, want 0", n)
	}
	if n := counterValue(t, reg, "shoal_origin_stale_connection_retries_total", nil); n != 2 {
		t.Fatalf("stale_connection_retries_total = %v, want 2", n)
	}
	var oe *Error
	if _, _, _, err := doGet(t, p, "/s", Target{}); !errors.As(err, &oe) || oe.Kind != KindReset {
		t.Fatalf("non-idempotent request on a stale connection: err %v, want a reset", err)
	}
	if answered.Load() != 3 {
		t.Fatalf("origin answered %d requests, want 3", answered.Load())
	}
}

func TestParseKeepAlive(t *testing.T) {
	cases := []struct {
		in                 string
		timeout, maxLeft   int
		hasTimeout, hasMax bool
	}{
		{"timeout=5, max=100", 5, 100, true, true},
		{"timeout=5", 5, 0, true, false},
		{"Timeout = 15 ,MAX=2", 15, 2, true, true},
		{`timeout="3"`, 3, 0, true, false},
		{"timeout=-1, max=x", 0, 0, false, false},
		{"", 0, 0, false, false},
		{"max", 0, 0, false, false},
	}
	for _, c := range cases {
		timeout, hasTimeout, maxLeft, hasMax := parseKeepAlive([]byte(c.in))
		if timeout != c.timeout || hasTimeout != c.hasTimeout || maxLeft != c.maxLeft || hasMax != c.hasMax {
			t.Errorf("%q: timeout %d %v, max %d %v", c.in, timeout, hasTimeout, maxLeft, hasMax)
		}
	}
}

// The keep-alive limit applies under TLS too: the limit lives on our connection below
// fasthttp's tls.Conn.
func TestPool_keepAliveLimitOverTLS(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Keep-Alive", "timeout=1")
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p, _ := newTestPool(t, poolConf("", srv.URL), nil)
	p.servers[0].client.TLSConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	for i, wait := range []time.Duration{0, 50 * time.Millisecond, 700 * time.Millisecond} {
		time.Sleep(wait)
		if status, body, _, err := doGet(t, p, "/", Target{Idempotent: true}); err != nil || status != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	if conns.Load() != 2 {
		t.Fatalf("server accepted %d TLS connections, want 2 (reused after 50ms, not after 700ms)", conns.Load())
	}
}
