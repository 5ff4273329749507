package origin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// rawHead is a RequestHead of fixed lines, for Upgrade.
type rawHead string

func (h rawHead) AppendHead(dst []byte, host string) []byte { return append(dst, h...) }
func (h rawHead) Method() []byte                            { return []byte("GET") }

// TestPool_upgradeRelaysTheSwitchAndHoldsItsSlot: Upgrade sends the head on a connection of
// its own, skips an interim 100 but returns the 101 with the connection and what the server
// sent after its head, and holds the server's slot until Close (least connections counts a
// tunnel); a server that declines answers as usual, its body readable.
func TestPool_upgradeRelaysTheSwitchAndHoldsItsSlot(t *testing.T) {
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.Header.Get("Upgrade") == "" {
			io.WriteString(c, "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 7\r\n\r\nupgrade")
			return
		}
		io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello ")
		io.Copy(c, br)
	})
	p, _ := newTestPool(t, poolConf("leastconn", "http://"+ln.Addr().String()), nil)
	u, err := p.Upgrade(rawHead("GET /t HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n"), Target{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Response.StatusCode != http.StatusSwitchingProtocols || u.Response.Header.Get("Upgrade") != "echo" {
		t.Fatalf("answer %d %v, want 101 with Upgrade: echo", u.Response.StatusCode, u.Response.Header)
	}
	p.mu.Lock()
	active := p.servers[0].active
	p.mu.Unlock()
	if active != 1 {
		t.Errorf("a tunnel holds %d slots, want 1", active)
	}
	u.Conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(u.Conn, "world")
	got := make([]byte, len("hello world"))
	if _, err := io.ReadFull(u.Reader, got); err != nil || string(got) != "hello world" {
		t.Errorf("through the tunnel: %q %v, want %q", got, err, "hello world")
	}
	u.Close()
	u.Close()
	p.mu.Lock()
	active = p.servers[0].active
	p.mu.Unlock()
	if active != 0 {
		t.Errorf("after Close the server holds %d slots, want 0", active)
	}

	u, err = p.Upgrade(rawHead("GET /t HTTP/1.1\r\nHost: h\r\n"), Target{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(u.Response.Body)
	u.Close()
	if u.Response.StatusCode != 426 || string(body) != "upgrade" {
		t.Errorf("declined: %d %q, want 426 %q", u.Response.StatusCode, body, "upgrade")
	}
}
