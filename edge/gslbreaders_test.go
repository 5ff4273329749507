package edge

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// gslb.udp_threads and gslb.udp_netpoll reach the DNS server: the number of UDP sockets
// bound to its port is the number of readers (one SO_REUSEPORT socket each), and only
// blocking readers raise GOMAXPROCS, one P each, while the server listens.
func TestNode_gslbUDPThreadsAndNetpollKeys(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("blocking readers and /proc/net/udp are Linux's")
	}
	for _, tc := range []struct {
		name    string
		netpoll bool
		procs   int // GOMAXPROCS added while listening
	}{
		{"blocking readers", false, 3},
		{"netpoller readers", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.GOMAXPROCS(0)
			n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0"}
gslb:
  listen: "127.0.0.1:0"
  zone: cdn.example.com.
  names: [www]
  udp_threads: 3
  udp_netpoll: %t
`, tc.netpoll)+oneRoute(true, "http://127.0.0.1:1"), Options{Logger: testLogger(t)})
			_, portText, err := net.SplitHostPort(n.DNSAddr())
			if err != nil {
				t.Fatal(err)
			}
			port, err := strconv.Atoi(portText)
			if err != nil {
				t.Fatal(err)
			}
			if got := udpSocketsOnPort(t, port); got != 3 {
				t.Errorf("%d UDP sockets bound to port %d, want 3 (udp_threads)", got, port)
			}
			if got := runtime.GOMAXPROCS(0) - before; got != tc.procs {
				t.Errorf("GOMAXPROCS rose by %d while listening, want %d", got, tc.procs)
			}
		})
	}
}

// udpSocketsOnPort counts the IPv4 UDP sockets bound to port, from /proc/net/udp.
func udpSocketsOnPort(t *testing.T, port int) int {
	t.Helper()
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	suffix := fmt.Sprintf(":%04X", port)
	count := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasSuffix(fields[1], suffix) {
			count++
		}
	}
	return count
}
