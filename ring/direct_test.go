package ring

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestRing_sendDirectReachesOnlyTheNamedMemberOnDirect(t *testing.T) {
	direct := make([]chan []byte, 3)
	bcast := make([]chan []byte, 3)
	nodes := make([]node, 3)
	for i := range nodes {
		d, b := make(chan []byte, 4), make(chan []byte, 4)
		direct[i], bcast[i] = d, b
		nodes[i].opts.OnDirect = func(msg []byte) { d <- msg }
		nodes[i].opts.OnMessage = func(msg []byte) { b <- msg }
	}
	rings := startCluster(t, nodes...)
	if err := rings[0].SendDirect("edge-3", []byte("heartbeat 7")); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-direct[2]:
		if string(msg) != "heartbeat 7" {
			t.Errorf("edge-3 received %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("edge-3 did not receive the direct message")
	}
	rings[0].Broadcast([]byte("purge 1"))
	for _, i := range []int{1, 2} {
		select {
		case msg := <-bcast[i]:
			if string(msg) != "purge 1" {
				t.Errorf("%s: broadcast arrived as %q", rings[i].Self().Name, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not receive the broadcast", rings[i].Self().Name)
		}
	}
	// The broadcast reached both; by now a misrouted message would have arrived too. (A
	// broadcast may arrive twice: gossip retransmits it.)
	for i := range rings {
		select {
		case msg := <-direct[i]:
			t.Errorf("%s: unexpected direct message %q", rings[i].Self().Name, msg)
		default:
		}
	}
}

func TestRing_sendDirectRefusesWhatItCannotDeliver(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	if err := rings[0].SendDirect("edge-9", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("unknown member: %v, want ErrUnknownMember", err)
	}
	if err := rings[0].SendDirect("edge-2", make([]byte, MaxBroadcastSize+1)); err == nil {
		t.Error("an oversized message was accepted")
	}
	alone, err := New(rings[0].cluster, Member{Name: "solo"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := alone.SendDirect("edge-1", []byte("x")); err == nil {
		t.Error("a ring that was never started sent a message")
	}
}

func TestRing_knockTellsALiveProcessFromADeadOne(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	if err := rings[0].Knock("edge-2", time.Second); err != nil {
		t.Fatalf("knock on a live member: %v", err)
	}
	// edge-2's process dies: its gossip port closes, and memberlist has not noticed yet.
	if err := rings[1].Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := rings[0].Knock("edge-2", time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("knock on a closed port: %v, want connection refused", err)
	}
	if err := rings[0].Knock("edge-9", time.Second); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("knock on an unknown member: %v", err)
	}
}

func TestDelegate_dropsMessagesOfUnknownKind(t *testing.T) {
	var got [][]byte
	r := &Ring{opts: Options{
		OnMessage: func(m []byte) { got = append(got, m) },
		OnDirect:  func(m []byte) { got = append(got, m) },
	}}
	for _, buf := range [][]byte{nil, {kindDirect}, {0}, {99, 'x'}, []byte("{\"url\":\"x\"}")} {
		delegate{r}.NotifyMsg(buf)
	}
	if len(got) != 0 {
		t.Errorf("delivered %q", got)
	}
}

// A member memberlist declared dead may be a live process (loss, starvation): the VIP
// detector must still reach it, or a live holder fences and a live holder's claim goes
// unheard. The test gives a member out of the view the address of a live node and checks
// that a datagram and a knock get there, and that the address is forgotten after keepGone.
func TestRing_sendDirectReachesAMemberOutOfTheViewForAWhile(t *testing.T) {
	direct := make(chan []byte, 4)
	rings := startCluster(t, node{}, node{opts: Options{OnDirect: func(msg []byte) { direct <- msg }}})
	ap, err := netip.ParseAddrPort(rings[1].GossipAddr())
	if err != nil {
		t.Fatal(err)
	}
	r := rings[0]
	gone := &memberlist.Node{Name: "edge-9", Addr: ap.Addr().AsSlice(), Port: ap.Port()}
	if err := r.SendDirect("edge-9", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("never seen: %v, want ErrUnknownMember", err)
	}
	now := time.Now()
	r.mu.Lock()
	r.rememberAddrLocked(gone)
	r.forgetAddrLocked("edge-9", now, nil)
	r.mu.Unlock()
	if err := r.SendDirect("edge-9", []byte("still there?")); err != nil {
		t.Fatalf("a member out of the view for a moment: %v", err)
	}
	select {
	case msg := <-direct:
		if string(msg) != "still there?" {
			t.Errorf("received %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the datagram to a member out of the view did not arrive")
	}
	if err := r.Knock("edge-9", time.Second); err != nil {
		t.Errorf("knock on a member out of the view whose port is open: %v", err)
	}
	r.mu.Lock()
	r.forgetAddrLocked("edge-1-other", now.Add(keepGone+time.Second), nil) // any event prunes
	r.mu.Unlock()
	if err := r.SendDirect("edge-9", []byte("x")); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("out of the view for longer than keepGone: %v, want ErrUnknownMember", err)
	}
	if err := r.Knock("edge-9", time.Second); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("knock after keepGone: %v, want ErrUnknownMember", err)
	}
}

// SendDirect and Knock run on the VIP detector's goroutine while memberlist's packet handler
// rewrites a member's record (its address, on every alive message with a newer incarnation):
// the address they use must be the ring's own copy, not a pointer into memberlist's state.
// Under -race this failed while they read memberlist.Members()'s records.
func TestRing_sendDirectWhileAMemberUpdatesItselfIsRaceFree(t *testing.T) {
	got := make(chan []byte, 64)
	rings := startCluster(t, node{}, node{opts: Options{OnDirect: func(msg []byte) {
		select {
		case got <- msg:
		default:
		}
	}}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10 {
			s := StateAlive
			if i%2 == 0 {
				s = StateNotReady
			}
			if err := rings[1].SetState(s); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	deadline := time.After(10 * time.Second)
	for sent := 0; ; sent++ {
		select {
		case <-done:
			if sent == 0 {
				t.Fatal("no message sent while edge-2 updated itself")
			}
			select {
			case <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("edge-2 received none of the direct messages")
			}
			return
		case <-deadline:
			t.Fatal("edge-2's 10 updates took over 10 s")
		default:
		}
		if err := rings[0].SendDirect("edge-2", []byte("hb")); err != nil {
			t.Fatal(err)
		}
		if err := rings[0].Knock("edge-2", time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}
