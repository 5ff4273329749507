package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Issue 13, input 4: a request body sent with Expect: 100-continue works end to end. The
// client waits for 100 Continue before it sends the body, as curl does; the origin (which
// answers the expectation of the node's request with its own 100) gets the whole body, and the
// client gets the origin's final answer, not an interim one. On pass and cache routes alike.
func TestNode_expectContinueBodyEndToEnd(t *testing.T) {
	for _, cache := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", cache), func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			o.Script("/upload", testenv.Script{Status: 201, Body: []byte("stored")})
			n := startNode(t, oneRoute(cache, o.URL), Options{})
			body := strings.Repeat("u", 5000)
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
			br := bufio.NewReader(c)
			interim, err := http.ReadResponse(br, nil)
			if err != nil || interim.StatusCode != http.StatusContinue {
				t.Fatalf("before the body: %v %v, want 100 Continue", interim, err)
			}
			io.WriteString(c, body)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 201 || string(got) != "stored" {
				t.Fatalf("final response %d %q, want 201 %q", resp.StatusCode, got, "stored")
			}
			if reqs := o.Requests(); len(reqs) != 1 || string(reqs[0].Body) != body {
				t.Fatalf("origin read %d requests (body %d bytes), want one with the whole body", len(reqs), len(o.Requests()))
			}
		})
	}
}
