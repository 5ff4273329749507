package edge

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNode_passRelaysAnOriginsEarlyAnswer: an origin that answers an upload with 413 as soon
// as it read the head, and then reads nothing more, gets its 413 to the client. Failed
// before: 504 after first_byte_timeout (the body's write timed out and its error was the
// answer), charged to the server's health.
func TestNode_passRelaysAnOriginsEarlyAnswer(t *testing.T) {
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit) })
	url := serveEachRaw(t, func(c net.Conn, br *bufio.Reader) {
		for { // the head only
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if l == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig")
		<-quit // and read nothing more
	})
	cfg := strings.Replace(passAndTier(t, url, "memory"), "    servers:\n", "    first_byte_timeout: 500ms\n    servers:\n", 1)
	n := startNode(t, cfg, Options{})
	const size = 16 << 20 // past every socket buffer on the way: the edge's write cannot finish
	req, _ := http.NewRequest("POST", "http://"+n.HTTPAddr()+"/pass/upload", bytes.NewReader(make([]byte, size)))
	req.Host = "www.example.test"
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || string(b) != "big" {
		t.Errorf("%d %q, want the origin's 413 \"big\"", resp.StatusCode, b)
	}
}
