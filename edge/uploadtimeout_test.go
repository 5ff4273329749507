package edge

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestNode_http1UploadIsTimedBetweenReads: limits.read_timeout bounds each wait for request
// content, as nginx's client_body_timeout, not the whole upload: content that keeps arriving,
// each piece well within read_timeout, reaches the origin whole however long the upload takes,
// within the prefetch and streamed to the origin, with a Content-Length and chunked.
// (TestNode_http1ClientStoppingMidContentTimesOut keeps the 408 for a client that stops.)
// Failed before: read_timeout counted from the head's first byte, so each of these uploads,
// four read_timeouts long, got 408 (a 16 MiB upload needed 0.5 MB/s at the defaults).
func TestNode_http1UploadIsTimedBetweenReads(t *testing.T) {
	origin := startOrigin(t, echoDigest)
	const readTimeout = 300 * time.Millisecond
	n := startNode(t, fmt.Sprintf("limits: {read_timeout: %v, idle_timeout: 30s}\n", readTimeout)+oneRoute(false, origin.URL), Options{})
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"within the prefetch", 20 << 10, false},
		{"streamed to the origin", 64 << 10, false},
		{"chunked, streamed", 64 << 10, true},
	} {
		content := strings.Repeat("u", tc.size)
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		head := fmt.Sprintf("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", tc.size)
		if tc.chunked {
			head = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		}
		// The listener reads up to 8 KiB of a Content-Length's content with the head, and
		// times them with it: they come at once.
		first := 0
		if !tc.chunked {
			first = 8 << 10
		}
		fmt.Fprint(c, head+content[:first])
		const pieces = 16 // one every readTimeout/4: four read_timeouts in all
		step := (tc.size - first) / pieces
		for i := 0; i < pieces && err == nil; i++ {
			p := content[first+i*step : first+(i+1)*step]
			if tc.chunked {
				p = fmt.Sprintf("%x\r\n%s\r\n", len(p), p)
			}
			if _, err = fmt.Fprint(c, p); err != nil {
				t.Errorf("%s: piece %d: %v (the node closed the connection)", tc.name, i, err)
			}
			time.Sleep(readTimeout / 4)
		}
		if err != nil {
			c.Close()
			continue
		}
		rest := content[first+pieces*step:]
		if tc.chunked && rest != "" {
			rest = fmt.Sprintf("%x\r\n%s\r\n", len(rest), rest)
		}
		if tc.chunked {
			rest += "0\r\n\r\n"
		}
		fmt.Fprint(c, rest)
		resp, body := readResponse(t, bufio.NewReader(c))
		c.Close()
		if want := digestOf("POST", []byte(content)); resp.StatusCode != 200 || body != want {
			t.Errorf("%s: %d %q, want 200 %q", tc.name, resp.StatusCode, body, want)
		}
	}
}
