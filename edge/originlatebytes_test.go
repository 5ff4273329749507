package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lateBytesOrigin is a raw HTTP/1.1 origin that answers every request with its target
// (max-age=60) and then, delay later and in a write of its own, sends what no request asked
// for: a second response and garbage, or, for a target under /fin/, its FIN (it closes the
// connection). after receives one value per request once that is sent.
type lateBytesOrigin struct {
	URL   string
	after chan struct{}
}

const lateStray = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 6\r\n\r\npoison" + "garbage\r\n\r\n"

func startLateBytesOrigin(t *testing.T, delay time.Duration) *lateBytesOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	o := &lateBytesOrigin{URL: "http://" + ln.Addr().String(), after: make(chan struct{}, 64)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go o.serve(c, delay)
		}
	}()
	return o
}

func (o *lateBytesOrigin) serve(c net.Conn, delay time.Duration) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		tp := textproto.NewReader(br)
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			return
		}
		if n, _ := strconv.Atoi(h.Get("Content-Length")); n > 0 {
			io.CopyN(io.Discard, br, int64(n))
		}
		target := strings.Fields(line)[1]
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: %d\r\n\r\n%s", len(target), target)
		time.Sleep(delay)
		if strings.HasPrefix(target, "/fin/") || strings.HasPrefix(target, "/dyn/fin/") {
			c.Close()
			o.after <- struct{}{}
			return
		}
		c.Write([]byte(lateStray))
		o.after <- struct{}{}
	}
}

// An origin that sends more than the response it framed (a second response and garbage, 0, 5
// or 50 ms after its answer), or closes the connection while it is idle in the pool, never
// answers another request on that connection: over HTTP/1.1 and HTTP/2 clients, each miss,
// hit and pass gets its own origin answer, nothing of the stray bytes is stored or relayed,
// and a POST passed after an idle close still reaches the origin (before, the pool wrote it
// into the closed connection: 502).
func TestNode_lateOriginBytesNeverAnswerAnotherRequest(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 50 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			o := startLateBytesOrigin(t, delay)
			n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{})
			clients := map[string]struct {
				c    *http.Client
				addr string
			}{
				"http1": {&http.Client{Timeout: 10 * time.Second}, n.HTTPAddr()},
				"h2c":   {h2cClient(), n.H2CAddr()},
			}
			for _, proto := range []string{"http1", "h2c"} {
				cl := clients[proto]
				do := func(method, path string, originAsked bool) {
					t.Helper()
					req, _ := http.NewRequest(method, "http://"+cl.addr+path, strings.NewReader(map[bool]string{true: "a=1"}[method == "POST"]))
					resp, err := cl.c.Do(req)
					if err != nil {
						t.Fatalf("%s %s %s: %v", proto, method, path, err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || string(body) != path {
						t.Fatalf("%s %s %s: %d %q (%s), want 200 with the origin's answer to it", proto, method, path, resp.StatusCode, body, resp.Header.Get("Cache-Status"))
					}
					if originAsked {
						select {
						case <-o.after:
						case <-time.After(5 * time.Second):
							t.Fatalf("%s %s: the origin never sent its late bytes", proto, path)
						}
						time.Sleep(2 * time.Millisecond) // the bytes reach the idle connection
					}
				}
				for i := range 3 {
					miss := fmt.Sprintf("/%s/m%d", proto, i)
					do("GET", miss, true)                                 // miss: filled and stored
					do("GET", fmt.Sprintf("/dyn/%s/p%d", proto, i), true) // pass
					do("GET", miss, false)                                // hit: what was stored
					do("GET", fmt.Sprintf("/fin/%s/m%d", proto, i), true) // the origin closes while idle
					do("POST", fmt.Sprintf("/dyn/%s/post%d", proto, i), true)
					do("GET", fmt.Sprintf("/fin/%s/n%d", proto, i), true)
					do("POST", fmt.Sprintf("/dyn/fin/%s/post%d", proto, i), true)
				}
				cl.c.CloseIdleConnections()
			}
		})
	}
}
