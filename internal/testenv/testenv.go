// Package testenv starts the real components integration tests run against: nginx origins
// with their own configuration in a temporary directory, and the shoal binary. A missing
// dependency skips the test with a message on a developer machine and fails it when CI=true,
// so nothing is skipped silently in CI.
package testenv

import (
	"net"
	"os"
	"strconv"
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

// FreePort returns a loopback address with a port that was free a moment ago, for servers
// that cannot be handed a listener (nginx).
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
