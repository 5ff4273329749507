package edge

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestNode_adminConnectionsEnd: the admin listener (metrics, stats, purge API) had only a
// 10 s bound on reading a request's head: a keep-alive connection left idle after a request,
// and a request whose body arrived a byte at a time, held their connection and goroutine for
// ever, from any address (admin.allow answers 403 only once a request is read), so clients
// could pile up connections until the process ran out of file descriptors. The admin
// listener now keeps limits.read_timeout, write_timeout and idle_timeout, as the data and
// peer listeners do.
func TestNode_adminConnectionsEnd(t *testing.T) {
	const limit = 300 * time.Millisecond
	n := startNode(t, "limits: {read_timeout: 300ms, idle_timeout: 300ms}\n"+oneRoute(true, "http://127.0.0.1:1"), Options{})
	adminSlowClientsAreClosed(t, n.AdminAddr(), 40, limit/6, 10*limit)
}

// adminSlowClientsAreClosed opens two admin connections, one left idle after a request and
// one sending a purge body a byte every gap (trickle bytes), and fails unless the node
// closes each within wait.
func adminSlowClientsAreClosed(t *testing.T, addr string, trickle int, gap, wait time.Duration) {
	t.Helper()
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
			for i := 0; err == nil && i < trickle; i++ {
				time.Sleep(gap)
				_, err = c.Write([]byte(" "))
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			start := time.Now()
			if err := tc.write(c, r); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(wait))
			for {
				if _, err := r.ReadByte(); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatalf("connection open %v after it started; want it closed within %v", time.Since(start).Round(time.Millisecond), wait)
					}
					return // closed
				}
			}
		})
	}
}
