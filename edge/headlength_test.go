package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A HEAD answer carries the fields a GET would (RFC 9110 section 9.3.2): when the origin's
// length is unknown (a chunked answer), "Content-Length: 0" would tell a client or a cache
// downstream that the object is empty. Whatever framing the node picks instead, it must not
// claim a length it does not know.
func TestNode_headOfAnUnknownLengthNeverSaysEmpty(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // no Content-Length: chunked
		if r.Method != http.MethodHead {
			fmt.Fprint(w, strings.Repeat("chunked body ", 100))
		}
	})
	for _, cache := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache=%v", cache), func(t *testing.T) {
			n := startNode(t, oneRoute(cache, origin.URL), Options{})
			head := rawResponse(t, n.HTTPAddr(), "HEAD /unknown-length HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
			status, _, _ := strings.Cut(head, "\r\n")
			if !strings.Contains(status, " 200 ") {
				t.Fatalf("HEAD: %q", status)
			}
			if strings.Contains(strings.ToLower(head), "\r\ncontent-length: 0\r\n") {
				t.Errorf("HEAD of a body of unknown length says it is empty:\n%s", head)
			}
			_, _, body := do(t, "GET", "http://"+n.HTTPAddr()+"/unknown-length", "")
			if want := strings.Repeat("chunked body ", 100); body != want {
				t.Errorf("GET after the HEAD: %d bytes, want %d", len(body), len(want))
			}
		})
	}
}

// The neighbour: a known length still reaches the HEAD answer, on a miss and on a pass.
func TestNode_headOfAKnownLengthSaysIt(t *testing.T) {
	body := strings.Repeat("x", 1300)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "1300")
		if r.Method != http.MethodHead {
			fmt.Fprint(w, body)
		}
	})
	for _, cache := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache=%v", cache), func(t *testing.T) {
			n := startNode(t, oneRoute(cache, origin.URL), Options{})
			head := rawResponse(t, n.HTTPAddr(), "HEAD /known-length HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
			if !strings.Contains(strings.ToLower(head), "\r\ncontent-length: 1300\r\n") {
				t.Errorf("HEAD of a 1300-byte body:\n%s", head)
			}
		})
	}
}

// The peer hop: a HEAD through a node that forwards to the owner keeps the owner's framing
// (the origin's length, or chunked when unknown), never a 0 of its own.
func TestCluster_headThroughAPeerKeepsTheLength(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/known" {
			w.Header().Set("Content-Length", "1300")
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if r.Method != http.MethodHead {
			fmt.Fprint(w, strings.Repeat("x", 1300))
		}
	})
	nodes := startCluster(t, 3, origin.URL)
	for _, path := range []string{"/known", "/unknown"} {
		for _, n := range nodes { // at least two of the three forward to the owner
			head := strings.ToLower(rawResponse(t, n.HTTPAddr(), "HEAD "+path+" HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"))
			switch {
			case !strings.Contains(head, " 200 "):
				t.Errorf("%s HEAD %s: %q", n.name, path, head)
			case path == "/known" && !strings.Contains(head, "\r\ncontent-length: 1300\r\n"):
				t.Errorf("%s HEAD %s lost the length:\n%s", n.name, path, head)
			case strings.Contains(head, "\r\ncontent-length: 0\r\n"):
				t.Errorf("%s HEAD %s says the body is empty:\n%s", n.name, path, head)
			}
		}
	}
}
