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
)

// trickleHeadOrigin answers every request with a head that arrives one field line at a time,
// each within the pool's first_byte_timeout of the last, for lines*every; headDone is closed
// once the head is complete.
func trickleHeadOrigin(t *testing.T, lines int, every time.Duration) (url string, headDone chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	headDone = make(chan struct{})
	go func() {
		c := acceptHead(ln)
		if c == nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		for i := 0; i < lines; i++ {
			time.Sleep(every)
			if _, err := fmt.Fprintf(c, "X-Slow-%d: a\r\n", i); err != nil {
				break
			}
		}
		close(headDone)
		io.WriteString(c, "Cache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(time.Second)
	}()
	return "http://" + ln.Addr().String(), headDone
}

// cache.fill_timeout bounds the wait for a fill's head (fill.go): an origin that sends its
// head a line at a time, each line within first_byte_timeout (an inactivity bound), is cut
// at fill_timeout, and the request that leads the fill hears so then (504), as its followers
// do, not once the origin is done. The leader fills on its own goroutine here (the pool's
// timeouts are within fill_timeout, as with the defaults: startFill).
func TestReview4_leaderOfATrickledHeadIsAnsweredAtTheFillTimeout(t *testing.T) {
	url, headDone := trickleHeadOrigin(t, 30, 100*time.Millisecond) // 3 s of head
	cfg := strings.Replace(oneRoute(true, url), "fill_timeout: 5s", "fill_timeout: 500ms", 1)
	cfg = strings.Replace(cfg, "    servers:\n", "    first_byte_timeout: 500ms\n    connect_timeout: 500ms\n    servers:\n", 1)
	n := startNode(t, cfg, Options{})
	resp, err := http.Get("http://" + n.HTTPAddr() + "/trickle")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-headDone:
		t.Fatalf("the leader was answered (%d) only after the origin's 3 s head was complete; want 504 at fill_timeout (500ms)", resp.StatusCode)
	default:
	}
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("leader answered %d, want 504", resp.StatusCode)
	}
}

// RFC 8297: a 103 Early Hints is worth relaying only before the final response, while the
// origin still works on it. The request that leads a fill on its own goroutine relays each
// 103 as it arrives, as a pass does, not once its fetch returned with the final head.
func TestReview4_leaderRelaysEarlyHintsBeforeTheFinalHead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	release, finalSent := make(chan struct{}), make(chan struct{})
	go func() {
		c := acceptHead(ln)
		if c == nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
		select { // the final answer once the client saw the 103, or when it never will
		case <-release:
		case <-time.After(2 * time.Second):
		}
		close(finalSent)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(time.Second)
	}()
	// first_byte_timeout and connect_timeout within fill_timeout: the leader fills inline.
	cfg := strings.Replace(oneRoute(true, "http://"+ln.Addr().String()), "    servers:\n", "    first_byte_timeout: 3s\n    servers:\n", 1)
	n := startNode(t, cfg, Options{})
	c, ok := sendRaw(t, n.HTTPAddr(), "GET /hinted HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !ok {
		t.Fatal("request not sent")
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-finalSent:
		t.Fatalf("first line %q reached the client only after the origin sent its final head; want the 103 while the origin waits", strings.TrimSpace(line))
	default:
		close(release)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 103") {
		t.Errorf("first line %q, want the 103", strings.TrimSpace(line))
	}
}

// acceptHead accepts one connection on ln and reads a request head from it; nil once ln is
// closed.
func acceptHead(ln net.Listener) net.Conn {
	c, err := ln.Accept()
	if err != nil {
		return nil
	}
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			return c
		}
	}
}
