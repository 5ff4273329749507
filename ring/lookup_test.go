package ring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/conf"
)

func confCluster() conf.Cluster { return conf.Cluster{} }

// newLocal builds an unstarted ring and feeds it peers as memberlist's event delegate would,
// so ownership rules are tested without a network.
func newLocal(t *testing.T, cluster conf.Cluster, self Member, peers ...Member) *Ring {
	t.Helper()
	r, err := New(cluster, self, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if p.State == "" {
			p.State = StateAlive
		}
		meta, err := encodeMeta(p)
		if err != nil {
			t.Fatal(err)
		}
		delegate{r}.NotifyJoin(&memberlist.Node{Name: p.Name, Meta: meta})
	}
	return r
}

func TestRing_ownerSkipsMembersThatAreNotAlive(t *testing.T) {
	tests := []struct {
		name     string
		self     State
		peers    map[string]State
		owners   []string // members that may own keys
		selfOnly bool     // every key falls back to self
	}{
		{"all alive", StateAlive, map[string]State{"b": StateAlive, "c": StateAlive}, []string{"a", "b", "c"}, false},
		{"peer draining", StateAlive, map[string]State{"b": StateDraining, "c": StateAlive}, []string{"a", "c"}, false},
		{"peer not ready", StateAlive, map[string]State{"b": StateNotReady, "c": StateAlive}, []string{"a", "c"}, false},
		{"self draining", StateDraining, map[string]State{"b": StateAlive, "c": StateAlive}, []string{"b", "c"}, false},
		{"nobody alive falls back to self", StateDraining, map[string]State{"b": StateNotReady}, []string{"a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peers []Member
			for name, s := range tt.peers {
				peers = append(peers, Member{Name: name, State: s})
			}
			r := newLocal(t, confCluster(), Member{Name: "a", State: tt.self}, peers...)
			seen := map[string]bool{}
			for i := range 500 {
				m, self := r.Owner(testKey(i))
				seen[m.Name] = true
				if self != (m.Name == "a") {
					t.Fatalf("Owner says self=%v for %s", self, m.Name)
				}
				if os := r.Owners(testKey(i), 5); os[0].Name != m.Name || (tt.selfOnly && len(os) != 1) {
					t.Fatalf("Owners = %v, Owner = %s", names(os), m.Name)
				}
			}
			for _, want := range tt.owners {
				if !seen[want] {
					t.Errorf("%s owns no key; owners seen %v", want, seen)
				}
				delete(seen, want)
			}
			if len(seen) > 0 {
				t.Errorf("keys owned by members that must own none: %v", seen)
			}
			if got := len(r.Members()); got != 1+len(tt.peers) {
				t.Errorf("Members has %d entries, want every live member", got)
			}
		})
	}
}

func TestRing_peerLeavingAndUnreadableMetadata(t *testing.T) {
	r := newLocal(t, confCluster(), Member{Name: "a"}, Member{Name: "b"})
	delegate{r}.NotifyJoin(&memberlist.Node{Name: "z", Meta: []byte{42}})
	if got := strings.Join(names(r.Members()), ","); got != "a,b,z" {
		t.Fatalf("members %s", got)
	}
	if z := r.Members()[2]; z.State != StateNotReady {
		t.Errorf("unreadable member has state %q, want notready", z.State)
	}
	delegate{r}.NotifyLeave(&memberlist.Node{Name: "b"})
	delegate{r}.NotifyLeave(&memberlist.Node{Name: "a"}) // our own leave echo is ignored
	for i := range 200 {
		if m, self := r.Owner(testKey(i)); m.Name != "a" || !self {
			t.Fatalf("with b gone and z unreadable, key owned by %s", m.Name)
		}
	}
}

func TestRing_ownerBoundedSpillsFromHotOwner(t *testing.T) {
	peers := []Member{{Name: "b"}, {Name: "c"}, {Name: "d"}}
	r := newLocal(t, conf.Cluster{BoundedLoad: 1.25}, Member{Name: "a"}, peers...)
	k := testKey(3)
	order := r.Owners(k, 4)
	cold := func(string) float64 { return 10 }
	if m, _ := r.OwnerBounded(k, cold); m.Name != order[0].Name {
		t.Errorf("balanced load: %s, want owner %s", m.Name, order[0].Name)
	}
	hot := func(n string) float64 {
		if n == order[0].Name {
			return 40 // mean 17.5, bound 21.9
		}
		return 10
	}
	if m, _ := r.OwnerBounded(k, hot); m.Name != order[1].Name {
		t.Errorf("hot owner: %s, want next owner %s", m.Name, order[1].Name)
	}
	off := newLocal(t, confCluster(), Member{Name: "a"}, peers...)
	if m, _ := off.OwnerBounded(k, hot); m.Name != order[0].Name {
		t.Errorf("bounded_load 0 must disable spilling: %s", m.Name)
	}
}

func TestNew_validatesSelf(t *testing.T) {
	tests := []struct {
		name    string
		self    Member
		wantErr string
	}{
		{"negative weight", Member{Name: "a", Weight: -1}, "weight"},
		{"unknown state", Member{Name: "a", State: "sleeping"}, "unknown state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(confCluster(), tt.self, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
	r, err := New(confCluster(), Member{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Self(); s.Name == "" || s.Weight != 1 || s.State != StateAlive {
		t.Errorf("defaults not applied: %+v", s)
	}
	if err := r.SetState("bogus"); err == nil {
		t.Error("SetState accepted an unknown state")
	}
}

func TestRing_singleNodeWithoutBind(t *testing.T) {
	changed := make(chan struct{}, 8)
	r, err := New(confCluster(), Member{Name: "solo"}, Options{OnChange: func() { changed <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown()
	if r.GossipAddr() != "" {
		t.Errorf("GossipAddr = %q without a bind address", r.GossipAddr())
	}
	r.Broadcast([]byte("nobody listens")) // must not block or panic
	if err := r.SetState(StateDraining); err != nil {
		t.Fatal(err)
	}
	<-changed
	if m, self := r.Owner("k"); m.Name != "solo" || !self || m.State != StateDraining {
		t.Errorf("Owner = %+v, %v", m, self)
	}
	if err := r.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	if err := r.Leave(time.Second); err != nil {
		t.Errorf("Leave alone: %v", err)
	}
}

func TestRing_startFailsOnBadBind(t *testing.T) {
	for _, bind := range []string{"127.0.0.1:notaport", "127.0.0.1:99999"} {
		r, err := New(conf.Cluster{Bind: bind}, Member{Name: "a"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(); err == nil {
			_ = r.Shutdown()
			t.Errorf("Start with bind %q succeeded", bind)
		}
	}
}

func TestRing_metrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := New(confCluster(), Member{Name: "a"}, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Member{{Name: "b", State: StateAlive}, {Name: "c", State: StateDraining}} {
		meta, _ := encodeMeta(p)
		delegate{r}.NotifyJoin(&memberlist.Node{Name: p.Name, Meta: meta})
	}
	r.Broadcast(make([]byte, MaxBroadcastSize+1))
	got := gather(t, reg)
	want := map[string]float64{
		`shoal_ring_members{state="alive"}`:    2,
		`shoal_ring_members{state="draining"}`: 1,
		`shoal_ring_members{state="notready"}`: 0,
		`shoal_ring_changes_total`:             2,
		`shoal_ring_broadcasts_total`:          0,
		`shoal_ring_broadcasts_dropped_total`:  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := New(confCluster(), Member{Name: "a"}, Options{Registerer: reg}); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf(`{%s=%q}`, l.GetName(), l.GetValue())
			}
			switch {
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}
