package origin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// doGet sends GET path through p and returns the status, the body read to its end, and the result.
func doGet(t *testing.T, p *Pool, path string, target Target) (int, string, Result, error) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://www.example.com" + path)
	resp.StreamBody = true
	res, done, err := p.Do(req, resp, target)
	if err != nil {
		if done != nil {
			t.Fatal("Do returned an error and a done func")
		}
		return 0, "", res, err
	}
	defer done()
	body, err := io.ReadAll(resp.BodyStream())
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp.StatusCode(), string(body), res, nil
}

func TestPool_DoRelaysResponse(t *testing.T) {
	var gotHost, gotUA atomic.Value
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotHost.Store(r.Host)
		gotUA.Store(r.UserAgent())
		w.Header().Set("x-Mixed-Case", "kept")
		w.WriteHeader(201)
		io.WriteString(w, "hello "+r.URL.RequestURI())
	})
	tests := []struct {
		name, host, wantHost string
	}{
		{"client host kept", "", "www.example.com"},
		{"host rewritten", "internal.example", "internal.example"},
	}
	for _, tt := range tests {
		cfg := poolConf("roundrobin", origin.URL)
		cfg.HostRewrite = tt.host
		p, reg := newTestPool(t, cfg, nil)
		status, body, res, err := doGet(t, p, "/a//b?q=1", Target{Idempotent: true})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if status != 201 || body != "hello /a//b?q=1" || res.Server != p.servers[0].cfg.id || res.SetCookie != "" {
			t.Fatalf("%s: got %d %q %+v", tt.name, status, body, res)
		}
		if gotHost.Load() != tt.wantHost || gotUA.Load() != "" {
			t.Fatalf("%s: origin saw Host %q, User-Agent %q", tt.name, gotHost.Load(), gotUA.Load())
		}
		if n := counterValue(t, reg, "shoal_origin_requests_total", map[string]string{"code": "201"}); n != 1 {
			t.Fatalf("%s: requests_total{code=201} = %v, want 1", tt.name, n)
		}
	}
}

func TestPool_DoKeepsHeaderCase(t *testing.T) {
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["x-lower-case"] = []string{"yes"}
	})
	p, _ := newTestPool(t, poolConf("", origin.URL), nil)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://a.example/")
	_, done, err := p.Do(req, resp, Target{})
	if err != nil {
		t.Fatal(err)
	}
	done()
	if !bytes.Contains(resp.Header.Header(), []byte("x-lower-case: yes")) {
		t.Fatalf("header names normalised:\n%s", resp.Header.Header())
	}
}

func TestPool_retriesConnectRefusedOnlyWhenIdempotent(t *testing.T) {
	var hits atomic.Int64
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	})
	tests := []struct {
		name       string
		idempotent bool
		retries    int
		wantErr    bool
		wantHits   int64
	}{
		{"idempotent retried on the next server", true, 2, false, 1},
		{"non-idempotent not retried", false, 2, true, 0},
		{"retries 0 is off", true, 0, true, 0},
		{"retries -1 is off", true, -1, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			cfg := poolConf("first", "http://"+closedPort(t), origin.URL)
			cfg.Retries = tt.retries
			p, reg := newTestPool(t, cfg, nil)
			_, body, res, err := doGet(t, p, "/", Target{Idempotent: tt.idempotent})
			if hits.Load() != tt.wantHits {
				t.Fatalf("origin hit %d times, want %d", hits.Load(), tt.wantHits)
			}
			if !tt.wantErr {
				if err != nil || body != "ok" || res.Server != p.servers[1].cfg.id {
					t.Fatalf("got %q from %q, err %v", body, res.Server, err)
				}
				if n := counterValue(t, reg, "shoal_origin_retries_total", nil); n != 1 {
					t.Fatalf("retries_total = %v, want 1", n)
				}
				return
			}
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != KindConnect || IsTimeout(err) {
				t.Fatalf("err = %v, want a connect Error that is not a timeout", err)
			}
			if n := counterValue(t, reg, "shoal_origin_errors_total", map[string]string{"kind": "connect"}); n != 1 {
				t.Fatalf("errors_total{kind=connect} = %v, want 1", n)
			}
		})
	}
}

func TestPool_retryGivesUpWhenNoOtherServer(t *testing.T) {
	p, _ := newTestPool(t, poolConf("", "http://"+closedPort(t)), nil)
	_, _, _, err := doGet(t, p, "/", Target{Idempotent: true})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindConnect {
		t.Fatalf("err = %v, want the connect failure", err)
	}
}

func TestPool_firstByteTimeoutIsNotRetried(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	handler := func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
	}
	slow1, slow2 := newCountingServer(t, handler), newCountingServer(t, handler)
	defer close(release)
	cfg := poolConf("roundrobin", slow1.URL, slow2.URL)
	cfg.FirstByteTimeout = conf.Duration(100 * time.Millisecond)
	p, reg := newTestPool(t, cfg, nil)
	_, _, _, err := doGet(t, p, "/", Target{Idempotent: true})
	if !IsTimeout(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("slow request sent %d times, want 1 (timeouts are not retried)", hits.Load())
	}
	if n := counterValue(t, reg, "shoal_origin_errors_total", map[string]string{"kind": "timeout"}); n != 1 {
		t.Fatalf("errors_total{kind=timeout} = %v, want 1", n)
	}
}

// With passive.observe layer7, consecutive 5xx eject a server; with another server up, traffic
// moves to it.
func TestPool_DoPassiveEjectionOn5xxWithLayer7(t *testing.T) {
	bad := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	good := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	cfg := poolConf("first", bad.URL, good.URL)
	cfg.Passive = conf.Passive{Errors: 2, Backoff: conf.Duration(time.Minute), Observe: conf.ObserveLayer7}
	p, reg := newTestPool(t, cfg, newFakeClock())
	for range 2 {
		if status, _, _, err := doGet(t, p, "/", Target{Idempotent: true}); err != nil || status != 503 {
			t.Fatalf("got %d, %v; want the 503 relayed", status, err)
		}
	}
	if status, body, _, err := doGet(t, p, "/", Target{}); err != nil || status != 200 || body != "ok" {
		t.Fatalf("after 2 consecutive 5xx: %d %q %v, want the other server's 200", status, body, err)
	}
	snap := p.Snapshot()
	if !p.Healthy() || snap.Servers[0].State != StateDown || !snap.Servers[0].Ejected {
		t.Fatalf("ejected server reported as %+v", snap.Servers[0])
	}
	if v := counterValue(t, reg, "shoal_origin_server_up", map[string]string{"server": bad.Listener.Addr().String()}); v != 0 {
		t.Fatalf("server_up = %v, want 0", v)
	}
}

// Issue 13, input 1: one server, every key at its default. 30 answers of 503 must not take the
// only server out: 5xx are not counted by default, and the 20 requests after them reach it.
// The same holds with observe layer7 and with connection failures, which do eject: a pool whose
// every server passive checks ejected still sends to the least recently failed one.
func TestPool_neverEjectsItselfIntoEmptiness(t *testing.T) {
	cases := []struct {
		name    string
		observe string
	}{
		{"defaults", ""},
		{"observe layer7", conf.ObserveLayer7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hits atomic.Int64
			origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if r.URL.Path == "/err" {
					w.Header().Set("Cache-Control", "no-store")
					w.WriteHeader(503)
					return
				}
				io.WriteString(w, "ok")
			})
			cfg := poolConf("", origin.URL)
			cfg.Passive.Observe = c.observe
			p, _ := newTestPool(t, cfg, newFakeClock())
			for i := range 30 {
				if status, _, _, err := doGet(t, p, "/err", Target{Idempotent: true}); err != nil || status != 503 {
					t.Fatalf("/err #%d: %d, %v; want the 503 relayed", i, status, err)
				}
			}
			for i := range 20 {
				status, body, _, err := doGet(t, p, fmt.Sprintf("/page/%d", i), Target{Idempotent: true})
				if err != nil || status != 200 || body != "ok" {
					t.Fatalf("/page/%d after the 503s: %d %q %v, want 200 from the origin", i, status, body, err)
				}
			}
			if hits.Load() != 50 {
				t.Fatalf("origin saw %d requests, want all 50", hits.Load())
			}
			if !p.Healthy() {
				t.Fatal("pool reports itself unhealthy after passive failures only")
			}
		})
	}
}

// Connection failures eject by default; when they have ejected every server the least recently
// failed one is still tried, and a success brings it back at once.
func TestPool_allEjectedFallsBackOnLeastRecentlyFailed(t *testing.T) {
	clock := newFakeClock()
	a, b := closedPort(t), closedPort(t)
	cfg := poolConf("first", "http://"+a, "http://"+b)
	cfg.Retries = 0
	cfg.Passive.Errors = 1
	p, reg := newTestPool(t, cfg, clock)
	for range 2 { // a then b fail once each and are ejected
		if _, _, _, err := doGet(t, p, "/", Target{Idempotent: true}); err == nil {
			t.Fatal("a closed port answered")
		}
		clock.Advance(time.Second)
	}
	p.mu.Lock()
	ejected := p.servers[0].ejected && p.servers[1].ejected
	p.mu.Unlock()
	if !ejected {
		t.Fatal("connection failures did not eject both servers")
	}
	// Both ejected: a failed first, so a is tried, not ErrNoServer.
	_, _, _, err := doGet(t, p, "/", Target{Idempotent: true})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindConnect || oe.Server != p.servers[0].cfg.id {
		t.Fatalf("err = %v, want a connect failure of server a (least recently failed)", err)
	}
	if n := counterValue(t, reg, "shoal_origin_all_ejected_picks_total", nil); n != 1 {
		t.Fatalf("all_ejected_picks_total = %v, want 1", n)
	}
	clock.Advance(time.Second)
	// Now b failed longest ago. Bring a listener up on b: the request reaches it and b is back.
	ln, lerr := net.Listen("tcp", b)
	if lerr != nil {
		t.Fatalf("port %s taken meanwhile: %v", b, lerr)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if status, body, _, err := doGet(t, p, "/", Target{Idempotent: true}); err != nil || status != 200 || body != "b" {
		t.Fatalf("got %d %q %v, want b's answer", status, body, err)
	}
	if snap := p.Snapshot(); snap.Servers[1].State != StateUp || !snap.Healthy {
		t.Fatalf("b after a success: %+v", snap.Servers[1])
	}
}

func TestPool_maxConnsQueueTimeout(t *testing.T) {
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	cfg := poolConf("", origin.URL)
	cfg.MaxConns = 1
	cfg.MaxQueue = 1
	cfg.QueueTimeout = conf.Duration(50 * time.Millisecond)
	p, reg := newTestPool(t, cfg, nil)

	hold := func() func() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://a.example/")
		_, done, err := p.Do(req, resp, Target{})
		if err != nil {
			t.Fatal(err)
		}
		return func() { done(); fasthttp.ReleaseRequest(req); fasthttp.ReleaseResponse(resp) }
	}
	held := hold()
	if _, _, _, err := doGet(t, p, "/", Target{}); !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("with the only slot held: err = %v, want ErrQueueTimeout", err)
	}
	if n := counterValue(t, reg, "shoal_origin_queue_timeouts_total", nil); n != 1 {
		t.Fatalf("queue_timeouts_total = %v, want 1", n)
	}

	// A queued request is served as soon as the slot is released; a second one finds the
	// queue (max_queue 1) full and is refused at once.
	held() // release the first pool's slot before moving to a new pool
	cfg.QueueTimeout = conf.Duration(time.Minute)
	p, _ = newTestPool(t, cfg, nil)
	held = hold()
	served := make(chan error, 1)
	go func() {
		_, _, _, err := doGet(t, p, "/", Target{})
		served <- err
	}()
	for p.Snapshot().Queued != 1 {
		time.Sleep(time.Millisecond)
	}
	if _, _, _, err := doGet(t, p, "/", Target{}); !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("with the queue full: err = %v, want ErrQueueTimeout", err)
	}
	held()
	if err := <-served; err != nil {
		t.Fatalf("queued request: %v", err)
	}
	if a := p.Snapshot().Servers[0].Active; a != 0 {
		t.Fatalf("active = %d after every done, want 0", a)
	}
}

func TestPool_streamsBodyThroughDone(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, beyond what is read in memory
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.Write(big[:100_000])
			w.(http.Flusher).Flush()
			w.Write(big[100_000:])
			return
		}
		w.Header().Set("Content-Length", "1048576")
		w.Write(big)
	})
	p, _ := newTestPool(t, poolConf("leastconn", origin.URL), nil)
	tests := []struct {
		name      string
		path      string
		readAll   bool
		wantConns int // connections the origin has accepted after this request
	}{
		{"content-length body read fully", "/", true, 1},
		{"keep-alive reused", "/", true, 1},
		{"chunked body read fully", "/chunked", true, 1},
		{"abandoned body closes the connection", "/", false, 1},
		{"next request needs a new connection", "/", true, 2},
	}
	for _, tt := range tests {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://a.example" + tt.path)
		resp.StreamBody = true
		_, done, err := p.Do(req, resp, Target{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.Snapshot().Servers[0].Active != 1 {
			t.Fatalf("%s: slot not held while the body is open", tt.name)
		}
		if tt.readAll {
			got, err := io.ReadAll(resp.BodyStream())
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("%s: read %d bytes, err %v; want the 1 MiB body", tt.name, len(got), err)
			}
		} else {
			io.ReadFull(resp.BodyStream(), make([]byte, 1000))
		}
		done()
		done() // idempotent
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if p.Snapshot().Servers[0].Active != 0 {
			t.Fatalf("%s: slot still held after done", tt.name)
		}
		if got := origin.connections(); got != tt.wantConns {
			t.Fatalf("%s: origin accepted %d connections, want %d", tt.name, got, tt.wantConns)
		}
	}
}

func TestPool_closingTheBodyStreamCallsDone(t *testing.T) {
	origin := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "small") })
	p, _ := newTestPool(t, poolConf("", origin.URL), nil)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI("http://a.example/")
	if _, _, err := p.Do(req, resp, Target{}); err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.BodyStream())
	fasthttp.ReleaseResponse(resp) // fasthttp closes the stream, which releases the slot
	if p.Snapshot().Servers[0].Active != 0 {
		t.Fatal("slot still held after the response carrying the stream was released")
	}
}
