package edge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// startNode runs a node from YAML text with listeners on loopback port 0.
func startNode(t testing.TB, yaml string, opts Options) *Node {
	t.Helper()
	if !strings.Contains(yaml, "listen:") {
		yaml = "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n" + yaml
	}
	cfg, err := conf.Parse([]byte(yaml), "test.yaml", t.TempDir())
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	n, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The package's tests share http.DefaultClient: its idle connections to this node
		// must not outlive it, or a later test whose listener gets the same port is sent
		// on a dead connection (EOF) and the shutdown waits for them.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n
}

// oneRoute is a config with one pool of the given servers and one route.
func oneRoute(cache bool, servers ...string) string {
	var b strings.Builder
	b.WriteString("node: {name: test-edge}\ncache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}\norigins:\n  o:\n    servers:\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "      - url: %s\n", s)
	}
	fmt.Fprintf(&b, "routes:\n  - {match: {path_prefix: /}, origin: o, cache: %v}\n", cache)
	return b.String()
}

// countingOrigin is a Go origin that counts requests and answers with handler.
type countingOrigin struct {
	URL      string
	requests atomic.Int64
	srv      *http.Server
}

func startOrigin(t testing.TB, handler http.HandlerFunc) *countingOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &countingOrigin{URL: "http://" + ln.Addr().String()}
	o.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		handler(w, r)
	})}
	go o.srv.Serve(ln)
	t.Cleanup(func() { o.srv.Close() })
	return o
}

// startHeldOrigin is startOrigin whose requests for path wait, each announced on arrived
// (room for 16), until release is called (once, or at the test's end, before the origin
// stops); handler then answers them as it answers the rest.
func startHeldOrigin(t testing.TB, path string, handler http.HandlerFunc) (o *countingOrigin, arrived <-chan struct{}, release func()) {
	t.Helper()
	came, gate := make(chan struct{}, 16), make(chan struct{})
	o = startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			came <- struct{}{}
			<-gate
		}
		handler(w, r)
	})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return o, came, release
}

// get sends a request through a fresh client and returns status, header and body.
func get(t testing.TB, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1] // Go's client ignores a Host header field
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// sendRaw writes raw bytes on a new connection with a 10 s deadline and returns it for the
// caller to read and close; ok is false when the write failed (the server closed first).
func sendRaw(t testing.TB, addr, raw string) (c net.Conn, ok bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, raw)
	return c, err == nil
}

// rawRequest writes raw bytes on a new connection and returns the status line (or "" when
// the server closed without answering).
func rawRequest(t testing.TB, addr, raw string) string {
	t.Helper()
	c, ok := sendRaw(t, addr, raw)
	defer c.Close()
	if !ok {
		return ""
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// rawResponse writes raw bytes on a new connection and returns everything read until close.
func rawResponse(t testing.TB, addr, raw string) string {
	t.Helper()
	c, _ := sendRaw(t, addr, raw)
	defer c.Close()
	out, _ := io.ReadAll(c)
	return string(out)
}

// parallel runs f n times at once and waits.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			f(i)
		}(i)
	}
	close(start)
	wg.Wait()
}

// serveEachRaw starts a raw origin on 127.0.0.1:0 that runs serve on each connection, on a
// goroutine of its own, with a reader over it, and closes the connection when serve returns;
// the listener closes when the test ends. It returns the origin's URL.
func serveEachRaw(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
