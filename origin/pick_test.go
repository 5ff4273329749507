package origin

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func TestPool_balancersThroughPool(t *testing.T) {
	tests := []struct {
		balance string
		weights []int
		picks   int
		want    []int
	}{
		{"roundrobin", []int{3, 1}, 400, []int{300, 100}},
		{"leastconn", []int{1, 1, 1}, 300, []int{100, 100, 100}}, // idle: ties rotate
		{"first", []int{1, 5}, 50, []int{50, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.balance, func(t *testing.T) {
			cfg := poolConf(tt.balance, fakeURLs(len(tt.weights))...)
			for i, w := range tt.weights {
				cfg.Servers[i].Weight = weight(w)
			}
			p, _ := newTestPool(t, cfg, nil)
			got := make([]int, len(tt.weights))
			for range tt.picks {
				i, _ := pickIndex(t, p, Target{})
				got[i]++
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("distribution %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestPool_hashBalancersAreStable(t *testing.T) {
	tests := []struct {
		balance string
		target  func(i int) Target
	}{
		{"source", func(i int) Target { return Target{ClientIP: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})} }},
		{"uri", func(i int) Target {
			return Target{HashKey: "/obj/" + string(rune('a'+i%26)) + strings.Repeat("x", i%7)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.balance, func(t *testing.T) {
			p, _ := newTestPool(t, poolConf(tt.balance, fakeURLs(4)...), nil)
			before := map[int]int{}
			spread := map[int]bool{}
			for i := range 500 {
				before[i], _ = pickIndex(t, p, tt.target(i))
				spread[before[i]] = true
			}
			if len(spread) != 4 {
				t.Fatalf("keys reached %d of 4 servers", len(spread))
			}
			setProbe(p, 2, false)
			for i := range 500 {
				after, _ := pickIndex(t, p, tt.target(i))
				if after == 2 {
					t.Fatalf("key %d went to the down server", i)
				}
				if before[i] != 2 && after != before[i] {
					t.Fatalf("key %d moved from %d to %d though its server stayed up", i, before[i], after)
				}
			}
		})
	}
}

func TestPool_backupOnlyWhenPrimariesDown(t *testing.T) {
	cfg := poolConf("roundrobin", fakeURLs(3)...)
	cfg.Servers[2].Backup = true
	p, _ := newTestPool(t, cfg, nil)
	steps := []struct {
		name    string
		up      [3]bool
		allowed map[int]bool
		noneErr bool
	}{
		{"all up", [3]bool{true, true, true}, map[int]bool{0: true, 1: true}, false},
		{"one primary up", [3]bool{false, true, true}, map[int]bool{1: true}, false},
		{"primaries down", [3]bool{false, false, true}, map[int]bool{2: true}, false},
		{"everything down", [3]bool{false, false, false}, nil, true},
	}
	for _, st := range steps {
		for i, up := range st.up {
			setProbe(p, i, up)
		}
		if p.Healthy() == st.noneErr {
			t.Errorf("%s: Healthy() = %v", st.name, p.Healthy())
		}
		for range 10 {
			target := Target{}
			s, _, err := p.acquire(&target, nil)
			if st.noneErr {
				if !errors.Is(err, ErrNoServer) {
					t.Fatalf("%s: err = %v, want ErrNoServer", st.name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			p.release(s)
			if !st.allowed[s.index] {
				t.Fatalf("%s: picked server %d, allowed %v", st.name, s.index, st.allowed)
			}
		}
	}
}

func TestPool_drainedServerGetsOnlyStickyClients(t *testing.T) {
	cfg := poolConf("roundrobin", fakeURLs(2)...)
	cfg.Servers[1].Weight = weight(0)
	cfg.Sticky.Cookie = "SRV"
	p, _ := newTestPool(t, cfg, nil)
	for range 20 {
		if i, _ := pickIndex(t, p, Target{}); i != 0 {
			t.Fatalf("new client sent to drained server %d", i)
		}
	}
	drainedID := p.servers[1].cfg.id
	if i, assigned := pickIndex(t, p, Target{StickyID: drainedID}); i != 1 || assigned {
		t.Fatalf("client stuck to the drained server went to %d (assigned %v), want 1 kept", i, assigned)
	}
	if got := p.Snapshot().Servers[1].State; got != StateDrain {
		t.Fatalf("state %q, want drain", got)
	}
}

func TestPool_slowStartRampsEffectiveWeight(t *testing.T) {
	clock := newFakeClock()
	cfg := poolConf("roundrobin", fakeURLs(2)...)
	cfg.SlowStart = conf.Duration(100 * time.Second)
	cfg.Health = conf.Health{Path: "/h", Rise: 1, Fall: 1}
	p, _ := newTestPool(t, cfg, clock)

	p.mu.Lock()
	p.setProbeVerdict(p.servers[1], false, clock.Now())
	p.setProbeVerdict(p.servers[1], true, clock.Now()) // back up now: the ramp starts
	p.mu.Unlock()

	steps := []struct {
		after      time.Duration
		wantWeight float64
	}{
		{0, 0.01}, // never zero: a returning server gets a trickle at once
		{25 * time.Second, 0.25},
		{50 * time.Second, 0.5},
		{100 * time.Second, 1},
		{time.Hour, 1},
	}
	start := clock.Now()
	for _, st := range steps {
		clock.Advance(start.Add(st.after).Sub(clock.Now()))
		if got := p.Snapshot().Servers[1].EffectiveWeight; got != st.wantWeight {
			t.Errorf("after %s: effective weight %v, want %v", st.after, got, st.wantWeight)
		}
		if got := p.Snapshot().Servers[0].EffectiveWeight; got != 1 {
			t.Errorf("steady server's weight %v, want 1", got)
		}
	}

	// Half way up the ramp the returning server gets a third of the requests (0.5 : 1).
	clock = newFakeClock()
	p2, _ := newTestPool(t, cfg, clock)
	p2.mu.Lock()
	p2.setProbeVerdict(p2.servers[1], false, clock.Now())
	p2.setProbeVerdict(p2.servers[1], true, clock.Now())
	p2.mu.Unlock()
	clock.Advance(50 * time.Second)
	got := [2]int{}
	for range 300 {
		i, _ := pickIndex(t, p2, Target{})
		got[i]++
	}
	if got != [2]int{200, 100} {
		t.Fatalf("half-ramped distribution %v, want [200 100]", got)
	}
}

func TestPool_passiveEjectionBacksOff(t *testing.T) {
	clock := newFakeClock()
	cfg := poolConf("roundrobin", fakeURLs(2)...)
	cfg.Passive = conf.Passive{Errors: 3, Backoff: conf.Duration(10 * time.Second)}
	p, _ := newTestPool(t, cfg, clock)
	s := p.servers[0]
	fail := func(n int) {
		p.mu.Lock()
		for range n {
			p.recordOutcome(s, true, clock.Now())
		}
		p.mu.Unlock()
	}
	usable := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.usable(s, clock.Now())
	}

	fail(2)
	if !usable() {
		t.Fatal("ejected after 2 errors, want 3")
	}
	fail(1)
	if usable() {
		t.Fatal("not ejected after 3 consecutive errors")
	}
	// Every ejection in a row doubles the backoff, up to 16x; on probation one error re-ejects.
	for _, backoff := range []time.Duration{10, 20, 40, 80, 160, 160} {
		backoff *= time.Second
		clock.Advance(backoff - time.Millisecond)
		if usable() {
			t.Fatalf("back before its %s backoff ended", backoff)
		}
		clock.Advance(time.Millisecond)
		if !usable() {
			t.Fatalf("still out after its %s backoff", backoff)
		}
		fail(1)
		if usable() {
			t.Fatalf("on probation after %s, one error did not re-eject", backoff)
		}
	}
	// A success after coming back forgives: the next ejection needs 3 errors and lasts 10s.
	clock.Advance(160 * time.Second)
	usable()
	p.mu.Lock()
	p.recordOutcome(s, false, clock.Now())
	p.mu.Unlock()
	fail(2)
	if !usable() {
		t.Fatal("ejected by 2 errors after a success")
	}
	fail(1)
	clock.Advance(10 * time.Second)
	if !usable() {
		t.Fatal("backoff not reset to 10s after a success")
	}
}

func TestPool_passiveOff(t *testing.T) {
	cfg := poolConf("roundrobin", fakeURLs(1)...)
	cfg.Passive.Errors = -1
	p, _ := newTestPool(t, cfg, nil)
	p.mu.Lock()
	for range 100 {
		p.recordOutcome(p.servers[0], true, p.now())
	}
	p.mu.Unlock()
	if !p.Healthy() {
		t.Fatal("passive.errors -1 still ejected the server")
	}
}

func TestPool_stickyCookieHonouredAndRepicked(t *testing.T) {
	cfg := poolConf("roundrobin", fakeURLs(3)...)
	cfg.Sticky = conf.Sticky{Cookie: "SRV", MaxAge: conf.Duration(time.Hour)}
	p, _ := newTestPool(t, cfg, nil)
	id1 := p.servers[1].cfg.id
	const anyServer, notServer1 = -2, -1
	tests := []struct {
		name         string
		stickyID     string
		down1        bool
		wantServer   int
		wantAssigned bool
	}{
		{"no cookie: assigned", "", false, anyServer, true},
		{"valid cookie honoured", id1, false, 1, false},
		{"unknown id re-picked", "nonsense", false, anyServer, true},
		{"server down: re-picked", id1, true, notServer1, true},
	}
	for _, tt := range tests {
		setProbe(p, 1, !tt.down1)
		for range 6 {
			i, assigned := pickIndex(t, p, Target{StickyID: tt.stickyID})
			if assigned != tt.wantAssigned {
				t.Fatalf("%s: assigned %v, want %v", tt.name, assigned, tt.wantAssigned)
			}
			if tt.wantServer >= 0 && i != tt.wantServer || tt.wantServer == notServer1 && i == 1 {
				t.Fatalf("%s: picked %d, want %d", tt.name, i, tt.wantServer)
			}
		}
	}
	cookie := p.stickyCookie(p.servers[2])
	want := "SRV=" + p.servers[2].cfg.id + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
	if cookie != want {
		t.Fatalf("cookie %q, want %q", cookie, want)
	}
	if strings.Contains(cookie, "192.0.2") {
		t.Fatalf("cookie %q reveals the server address", cookie)
	}
}

func TestPool_stickySourceKeepsClientOnServer(t *testing.T) {
	cfg := poolConf("roundrobin", fakeURLs(4)...)
	cfg.Sticky.Source = true
	p, _ := newTestPool(t, cfg, nil)
	seen := map[int]bool{}
	for c := range 64 {
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(c)})
		first, assigned := pickIndex(t, p, Target{ClientIP: ip})
		if assigned {
			t.Fatal("source stickiness asked for a cookie")
		}
		seen[first] = true
		for range 5 {
			if i, _ := pickIndex(t, p, Target{ClientIP: ip}); i != first {
				t.Fatalf("client %s moved from %d to %d", ip, first, i)
			}
		}
	}
	if len(seen) < 4 {
		t.Fatalf("64 clients used %d of 4 servers", len(seen))
	}
}

func FuzzPool_choose(f *testing.F) {
	f.Add("", "/a", []byte{10, 0, 0, 1}, uint8(0))
	f.Add("deadbeef", "", []byte{}, uint8(5))
	cfg := poolConf("uri", fakeURLs(3)...)
	cfg.Servers[2].Backup = true
	cfg.Sticky.Cookie = "SRV"
	p, err := NewPool(cfg, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stickyID, hashKey string, ip []byte, down uint8) {
		for i := range p.servers {
			setProbe(p, i, down&(1<<i) == 0)
		}
		addr, _ := netip.AddrFromSlice(ip)
		target := Target{StickyID: stickyID, HashKey: hashKey, ClientIP: addr}
		s, _, err := p.acquire(&target, nil)
		if err != nil {
			if !errors.Is(err, ErrNoServer) || p.Healthy() {
				t.Fatalf("acquire = %v with a usable server", err)
			}
			return
		}
		p.release(s)
		if !s.probeUp {
			t.Fatalf("picked down server %d", s.index)
		}
	})
}
