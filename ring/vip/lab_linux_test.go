package vip

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The lab is a private layer-2 segment built from network namespaces: a "switch" namespace
// with a bridge, and node and client namespaces each joined to it by a veth pair. Addresses
// are private (10.250.0.0/24, fd00:250::/64) and exist only inside those namespaces, so
// nothing the test sends can leave the machine.
const (
	labPort    = 8080
	labPoll    = 10 * time.Millisecond  // client poll period
	labTimeout = 200 * time.Millisecond // client connect and read timeout
)

type lab struct {
	t      *testing.T
	sw     string // switch namespace
	client string // client namespace
	clNS   netns.NsHandle
	nodes  []*labNode
	vip    netip.Prefix
}

type labNode struct {
	name   string // cluster member name
	ns     string // namespace name
	port   string // its veth end on the switch
	mac    net.HardwareAddr
	mgr    *Manager
	quorum *Quorum
}

// newLab builds the segment with n nodes, each running a Manager for vip and a TCP server
// on every address of its namespace that answers with the node's name.
func newLab(t *testing.T, n int, vip string) *lab {
	t.Helper()
	testenv.RequireRoot(t)
	_, err := exec.LookPath("ip")
	testenv.Require(t, err == nil, "iproute2 (the ip command) is not installed")

	// Namespace names are unique per run so parallel or aborted runs never collide.
	id := fmt.Sprintf("shoalvip-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	l := &lab{t: t, sw: id + "-sw", client: id + "-cl", vip: netip.MustParsePrefix(vip)}
	l.addNS(l.sw)
	l.ip("-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.sw, "link", "set", "br0", "up")

	l.attach(l.client, "pc", 200)
	l.clNS = l.handle(l.client)
	for i := range n {
		node := &labNode{name: fmt.Sprintf("edge-%d", i+1), ns: fmt.Sprintf("%s-n%d", id, i+1), port: fmt.Sprintf("p%d", i+1)}
		l.attach(node.ns, node.port, 11+i)
		l.startNode(node)
		l.nodes = append(l.nodes, node)
	}
	return l
}

func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) addNS(name string) {
	l.t.Helper()
	l.ip("netns", "add", name)
	l.t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	l.ip("-n", name, "link", "set", "lo", "up")
}

// attach creates namespace ns with eth0 cabled to the bridge through switch port port, and
// gives it host number host in both address families.
func (l *lab) attach(ns, port string, host int) {
	l.t.Helper()
	l.addNS(ns)
	l.ip("-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.ip("-n", l.sw, "link", "set", port, "master", "br0")
	l.ip("-n", l.sw, "link", "set", port, "up")
	l.ip("-n", ns, "addr", "add", fmt.Sprintf("10.250.0.%d/24", host), "dev", "eth0")
	l.ip("-n", ns, "addr", "add", fmt.Sprintf("fd00:250::%d/64", host), "dev", "eth0", "nodad")
	l.ip("-n", ns, "link", "set", "eth0", "up")
}

func (l *lab) handle(ns string) netns.NsHandle {
	l.t.Helper()
	h, err := netns.GetFromName(ns)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { _ = h.Close() })
	return h
}

// inNetns runs fn on a fresh OS thread switched into ns. The thread is never unlocked, so
// it exits with the goroutine instead of running other goroutines in the wrong namespace.
func inNetns(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func (l *lab) startNode(node *labNode) {
	t := l.t
	t.Helper()
	nsh := l.handle(node.ns)
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	var (
		ann *PacketAnnouncer
		ln  net.Listener
	)
	err = inNetns(nsh, func() error {
		var err error
		if ann, err = NewPacketAnnouncer("eth0"); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", labPort))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ann.Close() })
	t.Cleanup(func() { _ = ln.Close() })
	go serveName(ln, node.name)
	node.mac = ann.HardwareAddr()

	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	node.mgr, err = New(conf.VIP{Interface: "eth0", Addresses: []string{l.vip.String()}}, node.name,
		Options{Logger: logger, Netlink: NewLinkAddrs(h, "eth0"), Announcer: ann})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.mgr.Close() })
	node.quorum = NewQuorum(0)
}

// serveName answers every connection with name and a newline.
func serveName(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte(name + "\n"))
		_ = c.Close()
	}
}

// view delivers the membership view of each group to its members, as gossip would after
// failure detection: every member of a group sees exactly that group.
func (l *lab) view(groups ...[]*labNode) {
	for _, g := range groups {
		var cands []Candidate
		for _, n := range g {
			cands = append(cands, Candidate{Name: n.name, Offers: []netip.Prefix{l.vip}})
		}
		for _, n := range g {
			n.mgr.Update(cands, n.quorum.Observe(len(g)))
		}
	}
}

// holder is the node Holders picks for the lab VIP among group.
func (l *lab) holder(group []*labNode) *labNode {
	var cands []Candidate
	for _, n := range group {
		cands = append(cands, Candidate{Name: n.name, Offers: []netip.Prefix{l.vip}})
	}
	name := Holders([]netip.Prefix{l.vip}, cands, true)[l.vip.Addr()]
	for _, n := range group {
		if n.name == name {
			return n
		}
	}
	l.t.Fatalf("no holder among %d nodes", len(group))
	return nil
}

// settle waits until every Manager has applied its latest view.
func (l *lab) settle() {
	l.t.Helper()
	for _, n := range l.nodes {
		if err := n.mgr.do(l.t.Context(), func() error { return nil }); err != nil {
			l.t.Fatal(err)
		}
	}
}

// holders lists the nodes whose interface carries the VIP, as iproute2 reports it.
func (l *lab) holders() []string {
	var out []string
	for _, n := range l.nodes {
		if strings.Contains(l.ip("-n", n.ns, "-o", "addr", "show", "dev", "eth0"), " "+l.vip.String()+" ") {
			out = append(out, n.name)
		}
	}
	return out
}

// clientMAC is the link-layer address the client's neighbour table has for the VIP.
func (l *lab) clientMAC() string {
	fields := strings.Fields(l.ip("-n", l.client, "neigh", "show", l.vip.Addr().String(), "dev", "eth0"))
	for i, f := range fields {
		if f == "lladdr" && i+1 < len(fields) {
			return fields[i+1]
		}
	}
	return ""
}

func (l *lab) cut(n *labNode)   { l.ip("-n", l.sw, "link", "set", n.port, "down") }
func (l *lab) cable(n *labNode) { l.ip("-n", l.sw, "link", "set", n.port, "up") }

// pollResult is one client attempt: when it ran, who answered, or why it failed.
type pollResult struct {
	start, end time.Time
	node       string
	err        error
}

// startClient polls the VIP from the client namespace every labPoll until the test ends.
func (l *lab) startClient() <-chan pollResult {
	results := make(chan pollResult, 1024)
	stop := make(chan struct{})
	l.t.Cleanup(func() { close(stop) })
	target := netip.AddrPortFrom(l.vip.Addr(), labPort).String()
	go func() {
		_ = inNetns(l.clNS, func() error {
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				r := pollResult{start: time.Now()}
				r.node, r.err = fetchName(target)
				r.end = time.Now()
				select {
				case results <- r:
				default: // nobody is reading; drop rather than block
				}
				time.Sleep(labPoll)
			}
		})
	}()
	return results
}

func fetchName(target string) (string, error) {
	c, err := net.DialTimeout("tcp", target, labTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(labTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// waitFor reads polls until one started at or after since is answered by node; it returns
// that poll's start time and how many polls ending after since failed (an answer from
// another node is not a failure: the client was served).
func (l *lab) waitFor(results <-chan pollResult, since time.Time, node string) (time.Time, int) {
	l.t.Helper()
	failed := 0
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-results:
			if r.end.Before(since) {
				continue
			}
			if r.err != nil {
				failed++
			} else if r.node == node && !r.start.Before(since) {
				return r.start, failed
			}
		case <-deadline:
			l.t.Fatalf("client never reached %s within 10s (%d failed polls)", node, failed)
		}
	}
}
