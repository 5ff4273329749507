package testenv

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// CI saw a shoal process never start: FreePort took its port from a port-0 listener, which
// gives it back to the kernel's ephemeral pool, where another test's outgoing connection can
// take it before the process binds it. FreePort's ports now lie below that pool, are never
// handed out twice in one process, and are free for UDP too (gossip and DNS bind both).
func TestFreePort_belowTheEphemeralRangeDistinctAndFreeForTCPAndUDP(t *testing.T) {
	eph := ephemeralLow(t)
	seen := map[string]bool{}
	for range 200 {
		addr := FreePort(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		host, portText, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("FreePort = %q, want 127.0.0.1:<port>", addr)
		}
		port, _ := strconv.Atoi(portText)
		if port < 1024 || port >= eph {
			t.Fatalf("port %d is not between 1024 and the ephemeral range (from %d)", port, eph)
		}
	}
	addr := FreePort(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP on %s: %v", addr, err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP on %s: %v", addr, err)
	}
	pc.Close()
}

// ephemeralLow is the first port of the kernel's ephemeral range, read where FreePort cannot
// have read it wrong: from /proc, or failing that from a port-0 listener (a port inside it).
func ephemeralLow(t *testing.T) int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil {
				return lo
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
