package edge

import (
	"bufio"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// An origin answer framed twice (Content-Length and Transfer-Encoding, RFC 9112 section
// 6.3) is read by its Transfer-Encoding and its connection closed (origin/framedtwice.go),
// and the RFC calls it a sign of smuggling: what such an answer carries is relayed to the
// one client that asked, never stored for everyone. It was stored: the second GET was a
// hit. The answer framed once is the control: stored, one origin request for two GETs.
func TestNode_answerFramedTwiceIsNotStored(t *testing.T) {
	for name, c := range map[string]struct {
		framing string
		asked   int64
	}{
		"length then chunked": {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 2},
		"chunked then length": {"Transfer-Encoding: chunked\r\ncontent-length: 40\r\n", 2},
		"chunked alone":       {"Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + c.framing + "\r\n5\r\nhello\r\n0\r\n\r\n"
			var asked atomic.Int64
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer conn.Close()
						br := bufio.NewReader(conn)
						for {
							line, err := br.ReadString('\n')
							if err != nil {
								return
							}
							if line == "\r\n" {
								asked.Add(1)
								io.WriteString(conn, answer)
							}
						}
					}()
				}
			}()
			n := startNode(t, oneRoute(true, "http://"+ln.Addr().String()), Options{})
			for i := range 2 {
				if status, _, body := get(t, "http://"+n.HTTPAddr()+"/obj"); status != 200 || body != "hello" {
					t.Fatalf("GET %d: %d %q", i+1, status, body)
				}
				n.settleFills()
			}
			if got := asked.Load(); got != c.asked {
				t.Errorf("origin asked %d times for two GETs, want %d", got, c.asked)
			}
		})
	}
}
