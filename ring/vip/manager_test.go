package vip

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

const vipA, vipB = "192.0.2.100/24", "2001:db8::100/64"

func TestManager_acquireAddsThenAnnouncesBurst(t *testing.T) {
	tests := []struct {
		name string
		vip  string
	}{
		{"IPv4", vipA},
		{"IPv6", vipB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestManager(t, "self", []string{tt.vip}, Options{})
			p := netip.MustParsePrefix(tt.vip)
			tm.Update([]Candidate{{Name: "self", Offers: []netip.Prefix{p}}}, true)
			tm.sync(t)

			if got := tm.nl.addresses(); !slices.Equal(got, []netip.Prefix{p}) {
				t.Fatalf("interface has %v, want %s", got, p)
			}
			if got := tm.Held(); !slices.Equal(got, []netip.Prefix{p}) {
				t.Errorf("Held() = %v", got)
			}
			for _, a := range tm.ann.wait(t, DefaultAnnounceBurst) {
				if a != p.Addr() {
					t.Errorf("announced %s, want %s", a, p.Addr())
				}
			}
			// With periodic announcements off, the burst is the end of it.
			var next time.Time
			tm.sync(t)
			_ = tm.do(context.Background(), func() error { next = tm.loop.held[p.Addr()].next; return nil })
			if !next.IsZero() {
				t.Errorf("another announcement scheduled at %v after the burst", next)
			}
			if got := tm.metric(t, "shoal_vip_held", map[string]string{"vip": p.Addr().String()}); got != 1 {
				t.Errorf("shoal_vip_held = %v, want 1", got)
			}
			if got := tm.metric(t, "shoal_vip_announcements_total", nil); got != DefaultAnnounceBurst {
				t.Errorf("shoal_vip_announcements_total = %v, want %d", got, DefaultAnnounceBurst)
			}
		})
	}
}

func TestManager_releasesAtOnceWhenNoLongerHolder(t *testing.T) {
	vips := prefixes(t, vipA)
	tests := []struct {
		name     string
		eligible []Candidate
		quorum   bool
	}{
		{"another node takes over (self draining)", candidates(vips, "other"), true},
		{"quorum lost", candidates(vips, "self", "other"), false},
		{"nobody eligible", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestManager(t, "self", []string{vipA}, Options{})
			tm.Update(candidates(vips, "self"), true)
			tm.sync(t)
			if len(tm.Held()) != 1 {
				t.Fatal("did not acquire")
			}
			tm.Update(tt.eligible, tt.quorum)
			tm.sync(t) // the view is applied: the address must already be gone
			if got := tm.nl.addresses(); len(got) != 0 {
				t.Errorf("interface still has %v", got)
			}
			if got := tm.Held(); len(got) != 0 {
				t.Errorf("Held() = %v", got)
			}
			ops := tm.nl.opLog()
			if last := ops[len(ops)-1]; last != "del "+vipA {
				t.Errorf("last operation %q, want del", last)
			}
			if got := tm.metric(t, "shoal_vip_transitions_total", map[string]string{"action": "release"}); got != 1 {
				t.Errorf("release transitions = %v, want 1", got)
			}
		})
	}
}

func TestManager_removesStaleAddressesAtStart(t *testing.T) {
	stale := netip.MustParsePrefix(vipA)
	tm := newTestManager(t, "self", []string{vipA}, Options{}, stale)
	if got := tm.nl.addresses(); len(got) != 0 {
		t.Errorf("stale %v left on the interface before any view", got)
	}
}

func TestManager_releaseAllIsFinal(t *testing.T) {
	vips := prefixes(t, vipA, vipB)
	tm := newTestManager(t, "self", []string{vipA, vipB}, Options{})
	tm.Update(candidates(vips, "self"), true)
	tm.sync(t)
	if len(tm.Held()) != 2 {
		t.Fatalf("held %v, want both", tm.Held())
	}
	if err := tm.ReleaseAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := tm.nl.addresses(); len(got) != 0 {
		t.Errorf("after ReleaseAll the interface has %v", got)
	}
	tm.Update(candidates(vips, "self"), true) // a late view must not bring them back
	tm.sync(t)
	if got := tm.nl.addresses(); len(got) != 0 {
		t.Errorf("a view after ReleaseAll re-added %v", got)
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tm.ReleaseAll(context.Background()); err != ErrClosed {
		t.Errorf("ReleaseAll after Close: %v, want ErrClosed", err)
	}
}

func TestManager_closeReleases(t *testing.T) {
	tm := newTestManager(t, "self", []string{vipA}, Options{})
	tm.Update(candidates(prefixes(t, vipA), "self"), true)
	tm.sync(t)
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	if got := tm.nl.addresses(); len(got) != 0 {
		t.Errorf("after Close the interface has %v", got)
	}
	tm.Update(candidates(prefixes(t, vipA), "self"), true) // must not block or panic
}

// TestManager_latestViewWins floods Update from several goroutines; whatever the
// interleaving, once the last view is applied the interface matches it exactly.
func TestManager_latestViewWins(t *testing.T) {
	vips := manyVIPs(t, 6)
	addrs := make([]string, len(vips))
	for i, v := range vips {
		addrs[i] = v.String()
	}
	tm := newTestManager(t, "n1", addrs, Options{})
	views := [][]Candidate{
		candidates(vips, "n1"),
		candidates(vips, "n1", "n2"),
		candidates(vips, "n2", "n3"),
		candidates(vips, "n1", "n2", "n3"),
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				tm.Update(views[(g+i)%len(views)], i%7 != 0)
			}
		})
	}
	wg.Wait()
	final := views[3]
	tm.Update(final, true)
	tm.sync(t)

	var want []netip.Prefix
	holders := Holders(vips, final, true)
	for _, v := range vips {
		if holders[v.Addr()] == "n1" {
			want = append(want, v)
		}
	}
	if len(want) == 0 || len(want) == len(vips) {
		t.Fatalf("final view gives n1 %d of %d VIPs; pick a view that splits them", len(want), len(vips))
	}
	if got := tm.Held(); !slices.Equal(got, want) {
		t.Errorf("Held() = %v, want %v", got, want)
	}
	if got := tm.nl.addresses(); !slices.Equal(got, want) {
		t.Errorf("interface has %v, want %v", got, want)
	}
}

func TestManager_periodicReannouncement(t *testing.T) {
	tm := newTestManager(t, "self", []string{vipA}, Options{AnnounceEvery: 2 * time.Millisecond})
	tm.Update(candidates(prefixes(t, vipA), "self"), true)
	// The burst, then at least two periodic ones.
	tm.ann.wait(t, DefaultAnnounceBurst+2)
}

// TestManager_reannouncesWhenAMemberReturns: after a partition heals, the returning members
// may have announced their own MAC for our VIP, so the holder sends a fresh burst.
func TestManager_reannouncesWhenAMemberReturns(t *testing.T) {
	vips := prefixes(t, vipA)
	// Pick names so that self wins the VIP against back as well as alone.
	self, back := "", ""
	for i := range 100 {
		a, b := fmt.Sprintf("n%d", i), fmt.Sprintf("n%d", i+1)
		if Holders(vips, candidates(vips, a, b), true)[vips[0].Addr()] == a {
			self, back = a, b
			break
		}
	}
	tm := newTestManager(t, self, []string{vipA}, Options{})
	tm.Update(candidates(vips, self, back), true)
	tm.ann.wait(t, DefaultAnnounceBurst)
	tm.Update(candidates(vips, self), true) // back is cut off; no change for us
	tm.sync(t)
	if n := len(tm.ann); n != 0 {
		t.Fatalf("%d announcements when a member left", n)
	}
	tm.Update(candidates(vips, self, back), true) // heal
	tm.ann.wait(t, DefaultAnnounceBurst)
	if ops := tm.nl.opLog(); ops[len(ops)-1] != "add "+vipA {
		t.Errorf("the address was changed on heal: %v", ops)
	}
}

func TestManager_retriesAFailedAdd(t *testing.T) {
	tm := newTestManager(t, "self", []string{vipA}, Options{RetryEvery: time.Millisecond})
	tm.nl.mu.Lock()
	tm.nl.failAdds = 2
	tm.nl.mu.Unlock()
	tm.Update(candidates(prefixes(t, vipA), "self"), true)
	select {
	case <-tm.nl.added:
	case <-time.After(5 * time.Second):
		t.Fatalf("never added; operations %v", tm.nl.opLog())
	}
	tm.sync(t)
	if got := tm.metric(t, "shoal_vip_errors_total", map[string]string{"op": "add"}); got != 2 {
		t.Errorf("shoal_vip_errors_total{op=add} = %v, want 2", got)
	}
	if len(tm.Held()) != 1 {
		t.Errorf("Held() = %v after the retry succeeded", tm.Held())
	}
}

func TestManager_noAddressesDoesNothing(t *testing.T) {
	m, err := New(confVIP(), "self", Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Update([]Candidate{{Name: "self"}}, true)
	if err := m.ReleaseAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNew_rejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		self  string
	}{
		{"bad address", []string{"nope"}, "self"},
		{"duplicate", []string{vipA, vipA}, "self"},
		{"no name", []string{vipA}, ""},
	}
	for _, tt := range tests {
		if _, err := New(confVIP(tt.addrs...), tt.self, Options{Netlink: newFakeNetlink(), Announcer: make(fakeAnnouncer)}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
