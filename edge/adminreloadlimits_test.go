package edge

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The admin listener kept the limits it started with: a reload to a shorter read_timeout or
// idle_timeout left admin connections their old time (20 s here), where the client and peer
// ports follow reloads. After the reload a new admin connection left idle, or sending its
// body a byte at a time, is closed after about the reloaded 300ms; a reload back still serves.
func TestNode_adminListenerFollowsReloadedLimits(t *testing.T) {
	const long, short = "limits: {read_timeout: 20s, idle_timeout: 20s}\n", "limits: {read_timeout: 300ms, idle_timeout: 300ms}\n"
	n := startNode(t, long+oneRoute(true, "http://127.0.0.1:1"), Options{})
	if err := reloadConfig(t, n, short+oneRoute(true, "http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func(c net.Conn, r *bufio.Reader) error
	}{
		{"idle after a request", func(c net.Conn, r *bufio.Reader) error {
			if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
				return err
			}
			line, err := r.ReadString('\n')
			if err == nil && !strings.Contains(line, " 200 ") {
				t.Errorf("/healthz: %q", line)
			}
			return err
		}},
		{"body a byte at a time", func(c net.Conn, r *bufio.Reader) error {
			_, err := c.Write([]byte("POST /purge HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n"))
			for i := 0; err == nil && i < 8; i++ {
				time.Sleep(50 * time.Millisecond)
				_, err = c.Write([]byte(" "))
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", n.AdminAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			start := time.Now()
			if err := tc.write(c, r); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, err := r.ReadByte(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatalf("connection open %v after it started; want closed after about the reloaded 300ms", time.Since(start).Round(time.Millisecond))
					}
					return // closed
				}
			}
		})
	}
	if err := reloadConfig(t, n, long+oneRoute(true, "http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + n.AdminAddr() + "/healthz")
	if err != nil {
		t.Fatalf("admin after a second reload: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("admin after a second reload: %d", res.StatusCode)
	}
}
