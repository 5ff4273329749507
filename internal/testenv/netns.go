//go:build linux

package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Network namespaces give a test its own private layer-2 segment: a "switch" namespace with a
// bridge, and one namespace per host cabled to it by a veth pair. Addresses given to those
// interfaces exist only inside the namespaces, so nothing the test sends can leave the
// machine. Every name carries the process id and a counter, so parallel or aborted runs never
// collide; everything is removed in t.Cleanup, also when the test fails.

// nsSeq numbers the namespaces this test binary creates.
var nsSeq atomic.Int64

// RequireNetns skips (fails in CI) unless the test can build namespaces: root and iproute2.
func RequireNetns(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	_, err := exec.LookPath("ip")
	Require(t, err == nil, "iproute2 (the ip command) is not installed")
}

// Netns is a network namespace the test created, with its loopback up.
type Netns struct {
	Name string
	t    testing.TB
}

// NewNetns creates a namespace whose name ends in label; it is deleted when the test ends,
// after any process still inside it is killed.
func NewNetns(t testing.TB, label string) *Netns {
	t.Helper()
	ns := &Netns{Name: fmt.Sprintf("shoal-%d-%d-%s", os.Getpid(), nsSeq.Add(1), label), t: t}
	runIP(t, "netns", "add", ns.Name)
	t.Cleanup(ns.remove)
	ns.IP("link", "set", "lo", "up")
	return ns
}

// remove kills what the test left running inside the namespace (only processes of this
// run can be there: the name is unique), then deletes it.
func (ns *Netns) remove() {
	out, _ := exec.Command("ip", "netns", "pids", ns.Name).Output()
	for _, field := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(field); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
		ns.t.Logf("delete namespace %s: %v: %s", ns.Name, err, out)
	}
}

// IP runs `ip -n <ns> args...` and fails the test if it fails.
func (ns *Netns) IP(args ...string) string {
	ns.t.Helper()
	return runIP(ns.t, append([]string{"-n", ns.Name}, args...)...)
}

// Command prepares name with args to run inside the namespace (`ip netns exec`, which execs
// the program, so the command's process is the program itself and signals reach it).
func (ns *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Do runs fn on a fresh OS thread switched into the namespace. The thread is never unlocked,
// so it exits with fn instead of running other goroutines in the wrong namespace. Sockets
// fn creates belong to the namespace and may be used from any goroutine afterwards.
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns.Name)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", ns.Name, err)
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Dial connects from inside the namespace.
func (ns *Netns) Dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = net.DialTimeout(network, addr, timeout)
		return err
	})
	return c, err
}

// Listen opens a listener inside the namespace; it is closed when the test ends.
func (ns *Netns) Listen(network, addr string) net.Listener {
	ns.t.Helper()
	var ln net.Listener
	err := ns.Do(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		ns.t.Fatalf("listen %s in %s: %v", addr, ns.Name, err)
	}
	ns.t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// HasAddr reports whether dev in the namespace carries prefix (e.g. "10.77.0.100/24").
func (ns *Netns) HasAddr(dev, prefix string) bool {
	ns.t.Helper()
	return strings.Contains(ns.IP("-o", "addr", "show", "dev", dev), " "+prefix+" ")
}

// Switch is a namespace holding one bridge; hosts are cabled to its ports.
type Switch struct {
	*Netns
	ports int
}

// NewSwitch creates the switch namespace with bridge br0 up.
func NewSwitch(t testing.TB) *Switch {
	t.Helper()
	s := &Switch{Netns: NewNetns(t, "sw")}
	s.IP("link", "add", "br0", "type", "bridge")
	s.IP("link", "set", "br0", "up")
	return s
}

// Attach cables host to the bridge: a veth pair with dev (e.g. "eth0") inside host carrying
// cidr (e.g. "10.77.0.11/24"), and the returned port on the bridge. Both ends are up.
func (s *Switch) Attach(host *Netns, dev, cidr string) (port string) {
	s.t.Helper()
	s.ports++
	port = fmt.Sprintf("p%d", s.ports)
	s.IP("link", "add", port, "type", "veth", "peer", "name", dev, "netns", host.Name)
	s.IP("link", "set", port, "master", "br0")
	s.IP("link", "set", port, "up")
	host.IP("addr", "add", cidr, "dev", dev)
	host.IP("link", "set", dev, "up")
	return port
}

// SetPort plugs (up) or unplugs (down) a cable on the bridge side: the host keeps its
// interface and addresses but no longer reaches anyone.
func (s *Switch) SetPort(port string, up bool) {
	s.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	s.IP("link", "set", port, state)
}

func runIP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
