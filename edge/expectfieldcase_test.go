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
	"github.com/valyala/fasthttp"
)

// RFC 9110 section 5.1: field names are case-insensitive. An HTTP/1.1 upload whose
// expectation is spelled "expect" or "EXPECT" (Node.js and other clients send names as the
// caller wrote them, often lower case) gets its 100 (Continue) before it sends its content,
// and one over limits.max_body_bytes its 413 from the head, as "Expect" does. The listener
// keeps names as sent (DisableHeaderNamesNormalizing), and fasthttp looks for "Expect" alone:
// before, such a request got no 100 and no 413, and a client waiting for either waited
// until it gave up (curl 1 s) or read_timeout ended the connection.
func TestNode_expectContinueFieldNameAnyCase(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/upload", testenv.Script{Status: 201, Body: []byte("stored")})
	n := startNode(t, oneRoute(false, o.URL)+"limits: {max_body_bytes: 64KiB}\n", Options{})
	for _, name := range []string{"Expect", "expect", "EXPECT", "eXpect"} {
		for _, tc := range []struct {
			size  int
			first int
		}{{5000, http.StatusContinue}, {100 << 10, http.StatusRequestEntityTooLarge}} {
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: %d\r\n%s: 100-continue\r\n\r\n", tc.size, name)
			br := bufio.NewReader(c)
			// A client waits a while for the 100 before it sends anyway; 1 s is curl's wait.
			c.SetReadDeadline(time.Now().Add(time.Second))
			first, err := http.ReadResponse(br, nil)
			if err != nil || first.StatusCode != tc.first {
				t.Errorf("%s: 100-continue, %d bytes: before the content got %v (%v), want %d", name, tc.size, first, err, tc.first)
				c.Close()
				continue
			}
			if tc.first == http.StatusContinue {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, strings.Repeat("u", tc.size))
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != 201 {
					t.Errorf("%s: 100-continue: final answer %v (%v), want 201", name, resp, err)
				}
			}
			c.Close()
		}
		// Content of unknown length (chunked) waits for the 100 the same way.
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: www.example.com\r\nTransfer-Encoding: chunked\r\n%s: 100-continue\r\n\r\n", name)
		br := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(time.Second))
		if first, err := http.ReadResponse(br, nil); err != nil || first.StatusCode != http.StatusContinue {
			t.Errorf("%s: 100-continue, chunked: before the content got %v (%v), want 100", name, first, err)
		} else {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "5\r\nhello\r\n0\r\n\r\n")
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 201 {
				t.Errorf("%s: 100-continue, chunked: final answer %v (%v), want 201", name, resp, err)
			}
		}
		c.Close()
	}
}

// The look for another spelling of Expect costs an upload nothing: a head with content and
// "Expect", or with no expectation at all, passes the HeaderReceived hook without allocating.
func TestHeaderReceived_expectLookAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	hook := headerReceived(1 << 20)
	for _, raw := range []string{
		"POST /up HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n",
		"POST /up HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 2048\r\nX-A: 1\r\nX-B: 2\r\n\r\n",
	} {
		var h fasthttp.RequestHeader
		h.DisableNormalizing()
		if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(100, func() { hook(&h) }); a != 0 {
			t.Errorf("%q: %v allocations, want 0", raw, a)
		}
	}
}
