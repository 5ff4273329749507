package coalesce

import (
	"io"
	"testing"
)

// JoinInFlight never starts a fetch: without a Call in flight it reports false and the next
// Join still leads; with one, it reads the leader's body from the first byte; once the Call
// stopped keeping its body it is refused, as Join refuses it.
func TestGroup_joinInFlightNeverLeads(t *testing.T) {
	var g Group[string]
	if _, _, ok := g.JoinInFlight("k"); ok {
		t.Fatal("JoinInFlight joined a Call nobody started")
	}
	if g.InFlight("k") {
		t.Fatal("JoinInFlight left a Call behind")
	}
	c, lr, leader := g.Join("k", Options{KeepLimit: 8})
	if !leader {
		t.Fatal("the first Join must lead")
	}
	_, r, ok := g.JoinInFlight("k")
	if !ok || g.Joined("k") != 2 {
		t.Fatalf("JoinInFlight: ok %v, %d joined; want the leader's Call, 2 joined", ok, g.Joined("k"))
	}
	c.SetHead("h")
	c.Write([]byte("body"))
	c.Finish(nil)
	if b, err := io.ReadAll(r); err != nil || string(b) != "body" {
		t.Fatalf("read %q, %v", b, err)
	}
	r.Close()
	lr.Close()

	big, br, _ := g.Join("big", Options{KeepLimit: 2})
	defer br.Close()
	big.SetHead("h")
	big.Write([]byte("past the keep limit"))
	if _, _, ok := g.JoinInFlight("big"); ok {
		t.Fatal("JoinInFlight joined a Call that no longer has its first byte")
	}
	big.Finish(nil)
}
