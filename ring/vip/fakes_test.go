package vip

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/shoal-cdn/shoal/conf"
)

// fakeNetlink is an interface's address list in memory, with an operation log and
// injectable failures.
type fakeNetlink struct {
	mu       sync.Mutex
	present  map[netip.Prefix]bool
	ops      []string
	failAdds int // the next failAdds additions fail
	added    chan netip.Prefix
}

func newFakeNetlink(present ...netip.Prefix) *fakeNetlink {
	f := &fakeNetlink{present: map[netip.Prefix]bool{}, added: make(chan netip.Prefix, 100)}
	for _, p := range present {
		f.present[p] = true
	}
	return f
}

func (f *fakeNetlink) AddrAdd(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAdds > 0 {
		f.failAdds--
		f.ops = append(f.ops, "add-failed "+p.String())
		return fmt.Errorf("injected failure adding %s", p)
	}
	f.present[p] = true
	f.ops = append(f.ops, "add "+p.String())
	select {
	case f.added <- p:
	default:
	}
	return nil
}

func (f *fakeNetlink) AddrDel(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.present, p)
	f.ops = append(f.ops, "del "+p.String())
	return nil
}

func (f *fakeNetlink) addresses() []netip.Prefix {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []netip.Prefix
	for p := range f.present {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}

func (f *fakeNetlink) opLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops)
}

// fakeAnnouncer records every announcement on a channel.
type fakeAnnouncer chan netip.Addr

func (f fakeAnnouncer) Announce(a netip.Addr) error {
	select {
	case f <- a:
	default:
		panic("fakeAnnouncer: channel full; the test sends too many announcements")
	}
	return nil
}

// waitAnnouncements receives n announcements or fails after a generous timeout.
func (f fakeAnnouncer) wait(t *testing.T, n int) []netip.Addr {
	t.Helper()
	var got []netip.Addr
	deadline := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case a := <-f:
			got = append(got, a)
		case <-deadline:
			t.Fatalf("got %d announcements %v, want %d", len(got), got, n)
		}
	}
	return got
}

type testManager struct {
	*Manager
	nl  *fakeNetlink
	ann fakeAnnouncer
	reg *prometheus.Registry
}

// newTestManager runs a Manager for addrs on node self with fakes. Bursts are 3 packets 1 ms
// apart and periodic announcements are off unless opts says otherwise.
func newTestManager(t *testing.T, self string, addrs []string, opts Options, present ...netip.Prefix) *testManager {
	t.Helper()
	tm := &testManager{nl: newFakeNetlink(present...), ann: make(fakeAnnouncer, 1000), reg: prometheus.NewRegistry()}
	opts.Netlink, opts.Announcer, opts.Registerer = tm.nl, tm.ann, tm.reg
	if opts.BurstInterval == 0 {
		opts.BurstInterval = time.Millisecond
	}
	if opts.AnnounceEvery == 0 {
		opts.AnnounceEvery = -1
	}
	m, err := New(conf.VIP{Interface: "eth-test", Addresses: addrs}, self, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	tm.Manager = m
	return tm
}

// sync waits until the Manager has applied the latest Update.
func (tm *testManager) sync(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tm.do(ctx, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// metric returns the value of the sample of name whose labels include labels.
func (tm *testManager) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := tm.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			if hasLabels(m, labels) {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func confVIP(addrs ...string) conf.VIP { return conf.VIP{Interface: "eth-test", Addresses: addrs} }
