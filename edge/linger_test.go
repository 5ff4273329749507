package edge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNode_refusalWithUnreadContentLingers: an answer that closes the connection before the
// request's content was read (a framing 400, a 413 from the head or from chunked content
// within the prefetch, a 400 whose content was read but more bytes follow, plain HTTP on
// the TLS port) is followed by a lingering close, as
// nginx's: the client reads its answer, may go on sending what it had started, and then
// sees the connection end cleanly (EOF), never a reset that would have thrown away the
// answer on a real network. Failed before: the node closed with the content unread, the
// kernel sent a reset, and the client's next write or read failed with ECONNRESET or EPIPE.
func TestNode_refusalWithUnreadContentLingers(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nlimits: {max_body_bytes: 32KiB}\n"
	certFile, keyFile, _ := writeCert(t, t.TempDir(), "site", "www.test")
	n := startNode(t, hostileConfig(origin.URL, listen+fmt.Sprintf("tls: {certificates: [{cert: %s, key: %s}]}\n", certFile, keyFile)), Options{})
	content := strings.Repeat("c", 64<<10)
	for _, tc := range []struct {
		name, addr, head, want string
	}{
		{"framing", n.HTTPAddr(), "POST /dyn/l HTTP/1.1\r\nHost: www.test\r\nContent-Length: 300000\r\nTransfer-Encoding: chunked\r\n\r\n", "400"},
		{"declared too large", n.HTTPAddr(), "POST /dyn/l HTTP/1.1\r\nHost: www.test\r\nContent-Length: 300000\r\n\r\n", "413"},
		{"chunked too large", n.HTTPAddr(), "POST /dyn/l HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n\r\n30000\r\n", "413"},
		{"lowercase method, content and more", n.HTTPAddr(), "post /dyn/l HTTP/1.1\r\nHost: www.test\r\nContent-Length: 20000\r\n\r\n", "400"},
		{"plain HTTP on the TLS port", n.HTTPSAddr(), "POST /dyn/l HTTP/1.1\r\nHost: www.test\r\nContent-Length: 300000\r\n\r\n", "400"},
	} {
		c, err := net.Dial("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, tc.head+content)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("%s: %v, want a %s", tc.name, err, tc.want)
			c.Close()
			continue
		}
		if fmt.Sprint(resp.StatusCode) != tc.want || !resp.Close {
			t.Errorf("%s: %d (close %v), want %s and the connection closed", tc.name, resp.StatusCode, resp.Close, tc.want)
		}
		io.Copy(io.Discard, resp.Body)
		time.Sleep(100 * time.Millisecond) // a reset, if the node sends one, arrives meanwhile
		_, werr := io.WriteString(c, content)
		c.(*net.TCPConn).CloseWrite()
		rest, rerr := io.ReadAll(br)
		if reset(werr) || reset(rerr) || len(rest) != 0 {
			t.Errorf("%s: after the answer, write %v, read %q %v; want the node to read on and end with EOF", tc.name, werr, rest, rerr)
		}
		c.Close()
	}
	if got := origin.requests(); len(got) != 0 {
		t.Errorf("the origin got %d requests", len(got))
	}
}

func reset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
