// Package testenv starts the real components integration tests run against: nginx origins
// with their own configuration in a temporary directory, and the shoal binary. A missing
// dependency skips the test with a message on a developer machine and fails it when CI=true,
// so nothing is skipped silently in CI.
package testenv

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the tests run in CI, where skipping for a missing dependency is an error.
func InCI() bool { v, _ := strconv.ParseBool(os.Getenv("CI")); return v }

// Require fails the test in CI and skips it elsewhere, with the reason.
func Require(t testing.TB, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("missing test dependency (CI=true, so this is a failure): %s", reason)
	}
	t.Skipf("skipped: %s (make test installs it)", reason)
}

// RequireRoot needs the test to run as root (network namespaces, VIPs).
func RequireRoot(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "this test needs root")
}

// FreePort returns a loopback address with a port that was free for both TCP and UDP a moment
// ago, for servers that cannot be handed a listener (nginx, a shoal process's gossip and DNS).
//
// The port comes from below the kernel's ephemeral range (net.ipv4.ip_local_port_range), not
// from a port-0 listener: a port the kernel handed out once goes back to its ephemeral pool
// when that listener closes, and the next outgoing connection of any test running beside this
// one may take it as its source port before the server binds it (a node then fails to start
// with "address already in use"; CI saw this as a node never ready). Below the range only
// another test's FreePort can pick it, and ports handed out in this process are never
// handed out twice.
func FreePort(t testing.TB) string {
	t.Helper()
	lo, hi := freePortRange()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 500 {
		port := lo + rand.IntN(hi-lo)
		if portsGiven[port] || !bindable(port) {
			continue
		}
		portsGiven[port] = true
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	t.Fatalf("no free port in %d-%d after 500 tries", lo, hi-1)
	return ""
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// freePortRange is [lo, hi): the 10,000 ports just below the ephemeral range, or 20000-30000
// when the range cannot be read or leaves too little room below it.
func freePortRange() (lo, hi int) {
	lo, hi = 20000, 30000
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	first, err := strconv.Atoi(f[0])
	if err != nil || first < 12000 {
		return lo, hi
	}
	return first - 10000, first
}

// bindable says whether a TCP listener and a UDP socket can both take the port on 127.0.0.1.
func bindable(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	pc.Close()
	return true
}
