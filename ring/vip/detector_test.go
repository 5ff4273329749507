package vip

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testNet is an in-memory network between detector clusters: datagrams are delivered on
// their own goroutine (as from a socket), unless the sender or receiver is dead, the link is
// cut, or the loss draw drops them.
type testNet struct {
	mu    sync.Mutex
	nodes map[string]*Manager
	cut   map[[2]string]bool // directed links that drop everything
	dead  map[string]bool    // processes gone: their host refuses knocks
	mute  map[string]bool    // processes frozen (starved): nothing in or out, but the host accepts knocks
	gone  map[string]bool    // hosts gone: nothing answers at all
	loss  float64
	rng   *rand.Rand
	sent  atomic.Int64
	kinds sync.Map // kind name -> *atomic.Int64
}

func newTestNet() *testNet {
	return &testNet{nodes: map[string]*Manager{}, cut: map[[2]string]bool{}, dead: map[string]bool{},
		mute: map[string]bool{}, gone: map[string]bool{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (n *testNet) transport(from string) Transport {
	return TransportFunc(func(to string, msg []byte) error {
		n.sent.Add(1)
		if m, err := decodeMessage(msg); err == nil {
			c, _ := n.kinds.LoadOrStore(kindNames[m.kind], new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
		}
		n.mu.Lock()
		dst := n.nodes[to]
		drop := dst == nil || n.dead[from] || n.dead[to] || n.mute[from] || n.mute[to] || n.gone[from] || n.gone[to] ||
			n.cut[[2]string{from, to}] || n.rng.Float64() < n.loss
		n.mu.Unlock()
		if !drop {
			go dst.Receive(msg)
		}
		return nil
	})
}

// knock answers as the host of to would a TCP connection from from.
func (n *testNet) knock(from string) func(string, time.Duration) error {
	return func(to string, timeout time.Duration) error {
		n.mu.Lock()
		unanswered := n.gone[to] || n.cut[[2]string{from, to}] || n.rng.Float64() < n.loss
		refused := n.dead[to]
		n.mu.Unlock()
		switch {
		case unanswered:
			time.Sleep(timeout)
			return errors.New("i/o timeout")
		case refused:
			return ErrRefused
		}
		return nil
	}
}

// set marks name in one of the net's sets (dead, mute, gone).
func (n *testNet) set(which map[string]bool, name string, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	which[name] = on
}

// partition cuts every link between the two groups, or heals them.
func (n *testNet) partition(a, b []string, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			n.cut[[2]string{x, y}], n.cut[[2]string{y, x}] = cut, cut
		}
	}
}

func (n *testNet) setLoss(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loss = p
}

// opLog serialises every node's address changes, so replaying it tells exactly how many
// nodes held a VIP at every moment.
type opLog struct {
	mu  sync.Mutex
	ops []addrOp
}

type addrOp struct {
	node string
	add  bool
	vip  netip.Addr
}

type loggedNetlink struct {
	node string
	log  *opLog
}

func (l loggedNetlink) AddrAdd(p netip.Prefix) error { return l.record(true, p) }
func (l loggedNetlink) AddrDel(p netip.Prefix) error { return l.record(false, p) }

func (l loggedNetlink) record(add bool, p netip.Prefix) error {
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	l.log.ops = append(l.log.ops, addrOp{l.node, add, p.Addr()})
	return nil
}

// replay returns, for vip, the most nodes among alive that held it at once, and who holds it
// at the end.
func (o *opLog) replay(vip netip.Addr, alive func(string) bool) (most int, now []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	held := map[string]bool{}
	count := func() int {
		n := 0
		for node, h := range held {
			if h && alive(node) {
				n++
			}
		}
		return n
	}
	for _, op := range o.ops {
		if op.vip == vip {
			held[op.node] = op.add
			most = max(most, count())
		}
	}
	for node, h := range held {
		if h && alive(node) {
			now = append(now, node)
		}
	}
	slices.Sort(now)
	return most, now
}

// detCluster is n Managers with detectors on one testNet, each fed the same full view.
type detCluster struct {
	t     *testing.T
	net   *testNet
	log   *opLog
	vips  []netip.Prefix
	names []string
	regs  map[string]*prometheus.Registry
}

func newDetCluster(t *testing.T, n int, vips []netip.Prefix) *detCluster {
	t.Helper()
	return newDetClusterViewing(t, n, vips, n)
}

// newDetClusterViewing is newDetCluster where every node's first view holds only the first
// inView nodes: the others run but are not members yet (they join later).
func newDetClusterViewing(t *testing.T, n int, vips []netip.Prefix, inView int) *detCluster {
	t.Helper()
	c := &detCluster{t: t, net: newTestNet(), log: &opLog{}, vips: vips, regs: map[string]*prometheus.Registry{}}
	var addrs []string
	for _, p := range vips {
		addrs = append(addrs, p.String())
	}
	for i := range n {
		name := "edge-" + strconv.Itoa(i+1)
		c.names = append(c.names, name)
		reg := prometheus.NewRegistry()
		m, err := New(confVIP(addrs...), name, Options{
			Netlink: loggedNetlink{name, c.log}, Registerer: reg,
			Announcer:     AnnouncerFunc(func(netip.Addr) error { return nil }),
			AnnounceEvery: -1,
			Detector: DetectorOptions{Transport: c.net.transport(name), Knock: c.net.knock(name),
				ClusterSize: func() int { return n }},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		c.net.mu.Lock()
		c.net.nodes[name] = m
		c.net.mu.Unlock()
		c.regs[name] = reg
	}
	for _, name := range c.names {
		c.view(name, c.names[:inView]...)
	}
	c.waitHolders(c.names[:inView]...)
	return c
}

// view gives node the view of members (with quorum when they are a majority of the nodes).
func (c *detCluster) view(node string, members ...string) {
	c.net.mu.Lock()
	m := c.net.nodes[node]
	c.net.mu.Unlock()
	m.Update(candidates(c.vips, members...), 2*len(members) > len(c.names))
}

// viewHolder and successor are what the view says without the detector.
func (c *detCluster) viewHolder(v netip.Prefix, among ...string) string {
	return Holders([]netip.Prefix{v}, candidates(c.vips, among...), true)[v.Addr()]
}

func (c *detCluster) without(names []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}

// waitHolders waits until every VIP is held, by exactly one of among: its view holder.
func (c *detCluster) waitHolders(among ...string) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		for _, v := range c.vips {
			_, now := c.log.replay(v.Addr(), func(n string) bool { return slices.Contains(among, n) })
			if len(now) != 1 || now[0] != c.viewHolder(v, among...) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("holders did not settle on the view among %v", among)
		}
		time.Sleep(time.Millisecond)
	}
}

// counter sums a detector counter over the nodes.
func (c *detCluster) counter(name string, nodes ...string) float64 {
	sum := 0.0
	for _, n := range nodes {
		tm := &testManager{reg: c.regs[n]}
		sum += tm.metric(c.t, name, nil)
	}
	return sum
}

// heldBy waits until v is held by exactly want among alive (and by nobody else among them),
// and returns how long that took.
func (c *detCluster) heldBy(v netip.Prefix, want string, alive []string, within time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	for {
		_, now := c.log.replay(v.Addr(), func(n string) bool { return slices.Contains(alive, n) })
		if len(now) == 1 && now[0] == want {
			return time.Since(start)
		}
		if time.Since(start) > within {
			c.t.Fatalf("%s held by %v after %v, want %s", v, now, within, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDetector_successorTakesOverFromADeadHolderAlone(t *testing.T) {
	vips := manyVIPs(t, 4)
	c := newDetCluster(t, 3, vips)
	dead := c.viewHolder(vips[0], c.names...)
	alive := c.without(c.names, dead)
	killed := time.Now()
	c.net.set(c.net.dead, dead, true) // the view still lists it: only the detector can move its VIPs
	for _, v := range vips {
		was, want := c.viewHolder(v, c.names...), c.viewHolder(v, alive...)
		c.heldBy(v, want, alive, 2*time.Second)
		if was == dead {
			t.Logf("%s moved from %s to %s %v after the kill", v, dead, want, time.Since(killed).Round(time.Millisecond))
		} else if was != want {
			t.Errorf("%s moved from %s to %s, but only %s died", v, was, want, dead)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, v := range vips {
		if most, now := c.log.replay(v.Addr(), func(n string) bool { return n != dead }); most != 1 || len(now) != 1 {
			t.Errorf("%s: %d survivors held it at once; %v hold it now", v, most, now)
		}
	}
	if got := c.counter("shoal_vip_detector_takeovers_total", alive...); got < 1 {
		t.Errorf("takeovers counted: %v", got)
	}
	if got := c.counter("shoal_vip_detector_fences_total", alive...); got != 0 {
		t.Errorf("a survivor fenced itself %v times", got)
	}
}

func TestDetector_minorityNeverTakesOver(t *testing.T) {
	vips := manyVIPs(t, 1)
	c := newDetCluster(t, 5, vips)
	v := vips[0]
	holder := c.viewHolder(v, c.names...)
	next := c.viewHolder(v, c.without(c.names, holder)...)
	// The successor and one witness are cut off from the holder and the other two.
	witness := c.without(c.names, holder, next)[0]
	minority := []string{next, witness}
	majority := c.without(c.names, minority...)
	c.net.partition(minority, majority, true)
	time.Sleep(time.Second)
	if _, now := c.log.replay(v.Addr(), func(string) bool { return true }); !slices.Equal(now, []string{holder}) {
		t.Errorf("%s held by %v with %s in the minority; want %s (majority side) alone", v, now, next, holder)
	}
	if got := c.counter("shoal_vip_detector_suspicions_total", next); got < 1 {
		t.Errorf("%s never suspected %s: the test proves nothing", next, holder)
	}
	if got := c.counter("shoal_vip_detector_fences_total", holder); got != 0 {
		t.Errorf("%s reaches 3 of 5 but fenced itself", holder)
	}
}

func TestDetector_cutOffHolderReleasesBeforeTheSuccessorTakesOver(t *testing.T) {
	vips := manyVIPs(t, 2)
	c := newDetCluster(t, 3, vips)
	v := vips[0]
	holder := c.viewHolder(v, c.names...)
	rest := c.without(c.names, holder)
	next := c.viewHolder(v, rest...)
	c.net.partition([]string{holder}, rest, true)
	took := c.heldBy(v, next, c.names, 2*time.Second) // the cut-off holder released: no node but next holds it
	t.Logf("%s cut off; %s held by %s alone %v later", holder, v, next, took.Round(time.Millisecond))
	if got := c.counter("shoal_vip_detector_fences_total", holder); got != 1 {
		t.Errorf("%s fenced %v times, want 1", holder, got)
	}
	c.net.partition([]string{holder}, rest, false)
	c.heldBy(v, holder, c.names, 2*time.Second) // healed: the view's holder again
	all := func(string) bool { return true }
	for _, p := range vips {
		if most, _ := c.log.replay(p.Addr(), all); most > 1 {
			t.Errorf("%s had %d holders at once across the cut and the heal", p, most)
		}
	}
}

func TestDetector_starvedHolderKeepsItsVIPs(t *testing.T) {
	vips := manyVIPs(t, 2)
	c := newDetCluster(t, 3, vips)
	holder := c.viewHolder(vips[0], c.names...)
	// Frozen: it neither sends nor answers, but its host accepts connections to its port.
	// (Its own detector still runs here and fences it, as it would if it were cut off; a
	// process really frozen could not, which is why the others must not take over.)
	c.net.set(c.net.mute, holder, true)
	time.Sleep(DefaultSilentAfter + 300*time.Millisecond)
	c.net.set(c.net.mute, holder, false)
	c.heldBy(vips[0], holder, c.names, 2*time.Second)
	rest := c.without(c.names, holder)
	if got := c.counter("shoal_vip_detector_suspicions_total", rest...); got < 1 {
		t.Fatalf("nobody suspected the frozen %s: the test proves nothing", holder)
	}
	if got := c.counter("shoal_vip_detector_takeovers_total", rest...); got != 0 {
		t.Errorf("%v takeovers from a holder whose process was only frozen", got)
	}
	for _, v := range vips {
		if most, now := c.log.replay(v.Addr(), func(string) bool { return true }); most != 1 || len(now) != 1 {
			t.Errorf("%s: %d holders at once, %v now", v, most, now)
		}
	}
}

func TestDetector_deadHostIsTakenOverAfterSilentAfter(t *testing.T) {
	vips := manyVIPs(t, 1)
	c := newDetCluster(t, 3, vips)
	v := vips[0]
	holder := c.viewHolder(v, c.names...)
	rest := c.without(c.names, holder)
	gone := time.Now()
	c.net.set(c.net.gone, holder, true) // powered off: no refusal, no answer
	took := c.heldBy(v, c.viewHolder(v, rest...), rest, 3*time.Second)
	if took < DefaultSilentAfter-DefaultHeartbeat {
		t.Errorf("taken over %v after the host went silent, before SilentAfter (%v)", took, DefaultSilentAfter)
	}
	t.Logf("%s taken over %v after its host went silent", v, time.Since(gone).Round(time.Millisecond))
}

// TestDetector_noFalseTakeoverUnderLoss drops 20% of datagrams each way. A takeover needs
// the successor and a witness to miss ten pings in a row each, so in a healthy cluster it
// must never happen. SHOAL_VIP_LOSS_SECONDS makes the run longer than its default 2 s.
func TestDetector_noFalseTakeoverUnderLoss(t *testing.T) {
	seconds := 2
	if s, err := strconv.Atoi(os.Getenv("SHOAL_VIP_LOSS_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	vips := manyVIPs(t, 6)
	c := newDetCluster(t, 3, vips)
	c.net.setLoss(0.2)
	time.Sleep(time.Duration(seconds) * time.Second)
	c.net.setLoss(0)
	suspicions := c.counter("shoal_vip_detector_suspicions_total", c.names...)
	takeovers := c.counter("shoal_vip_detector_takeovers_total", c.names...)
	fences := c.counter("shoal_vip_detector_fences_total", c.names...)
	t.Logf("%d s at 20%% loss: %v suspicions, %v takeovers, %v fences", seconds, suspicions, takeovers, fences)
	if takeovers != 0 || fences != 0 {
		t.Errorf("false takeovers %v, false fences %v; want 0", takeovers, fences)
	}
	all := func(string) bool { return true }
	for _, v := range vips {
		if most, now := c.log.replay(v.Addr(), all); most != 1 || len(now) != 1 {
			t.Errorf("%s: at most %d holders at once, %v at the end", v, most, now)
		}
	}
}

// TestDetector_costIsHeartbeatsOnly measures the steady-state traffic of 10 nodes and 20
// VIPs: one ping and one pong per distinct (holder, next in line) pair every Heartbeat. A
// process starved of CPU (a loaded test machine) may start confirmations, which cost
// probes, verdicts and pings; they are logged, and must never end in a takeover.
func TestDetector_costIsHeartbeatsOnly(t *testing.T) {
	vips := manyVIPs(t, 20)
	c := newDetCluster(t, 10, vips)
	pairs := map[[2]string]bool{}
	for _, v := range vips {
		h := c.viewHolder(v, c.names...)
		pairs[[2]string{h, c.viewHolder(v, c.without(c.names, h)...)}] = true
	}
	time.Sleep(200 * time.Millisecond)
	count := func(kind string) int64 {
		if n, ok := c.net.kinds.Load(kind); ok {
			return n.(*atomic.Int64).Load()
		}
		return 0
	}
	sent, probes := c.net.sent.Load(), count("probe")
	start := time.Now()
	time.Sleep(time.Second)
	elapsed := time.Since(start).Seconds()
	pps := float64(c.net.sent.Load()-sent) / elapsed
	want := 2 * float64(len(pairs)) * float64(time.Second/DefaultHeartbeat)
	t.Logf("10 nodes, 20 VIPs: %d holder/next pairs, %.0f datagrams/s measured (%d confirmations' probes), %.0f computed",
		len(pairs), pps, count("probe")-probes, want)
	if count("probe") == probes && pps > 1.2*want {
		t.Errorf("%.0f datagrams/s without any confirmation, want about %.0f", pps, want)
	}
	if got := c.counter("shoal_vip_detector_takeovers_total", c.names...); got != 0 {
		t.Errorf("%v takeovers in a healthy cluster", got)
	}
}

func TestManager_receiveDropsGarbage(t *testing.T) {
	tm := newTestManager(t, "self", []string{vipA}, Options{Detector: DetectorOptions{
		Transport: TransportFunc(func(string, []byte) error { return nil })}})
	for _, b := range [][]byte{nil, {wireMagic}, []byte("hello"), {wireMagic, kindPing, 0, 0, 0}} {
		tm.Receive(b)
	}
	if got := tm.metric(t, "shoal_vip_detector_refused_total", nil); got != 4 {
		t.Errorf("refused %v datagrams, want 4", got)
	}
	var zero Manager // no detector: Receive does nothing
	zero.Receive([]byte("x"))
}
