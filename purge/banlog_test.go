package purge

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func TestBanLog_boundedByCountAndAge(t *testing.T) {
	clock := newFakeClock()
	l := newBanLog(3, time.Hour)
	req := func(id string) Request { return Request{ID: id, Time: clock.Now(), Kind: KindAll} }

	for _, id := range []string{"a", "b", "c", "d"} {
		if !l.claim(req(id), clock.Now()) {
			t.Fatalf("claim(%s) refused a new id", id)
		}
		clock.Advance(10 * time.Minute)
	}
	if l.claim(req("d"), clock.Now()) {
		t.Error("claim of a known id succeeded")
	}
	if got := ids(l.since(time.Time{}, clock.Now())); got != "bcd" {
		t.Errorf("log holds %q, want bcd: the count bound drops the oldest", got)
	}
	if !l.claim(req("a"), clock.Now()) {
		t.Error("an id dropped by the count bound was still remembered")
	}
	clock.Advance(45 * time.Minute) // b and c are now over an hour old
	if got := ids(l.since(time.Time{}, clock.Now())); got != "da" {
		t.Errorf("log holds %q, want da after the age bound", got)
	}
}

func TestBanLog_sinceFiltersByOriginTime(t *testing.T) {
	clock := newFakeClock()
	l := newBanLog(10, time.Hour)
	t0 := clock.Now()
	l.claim(Request{ID: "late", Time: t0.Add(2 * time.Minute), Kind: KindAll}, t0)
	l.claim(Request{ID: "early", Time: t0.Add(-time.Minute), Kind: KindAll}, t0)
	l.claim(Request{ID: "exact", Time: t0, Kind: KindAll}, t0)
	if got := ids(l.since(t0, t0)); got != "lateexact" {
		t.Errorf("since(t0) = %q, want late and exact, in arrival order", got)
	}
}

func ids(rs []Request) string {
	s := ""
	for _, r := range rs {
		s += r.ID
	}
	return s
}

func TestService_catchUpAfterPartition(t *testing.T) {
	clock := newFakeClock()
	nodes := newCluster(t, clock, "edge-1", "edge-2")
	a, b := nodes[0], nodes[1]
	mustSet(t, b.store, object(cssURL, ""), object("http://www.example.com/img/1.png", "", "product-42"))
	partitionStart := clock.Now()
	clock.Advance(time.Minute)

	// The partition: edge-2's peer port drops everything, so the fan-out misses it.
	b.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		panic(http.ErrAbortHandler)
	})
	resp := purgeOrFail(t, a.svc, Request{Kind: KindKey, Value: "product-42"})
	if len(resp.Missing) != 1 {
		t.Fatalf("answer %+v; want edge-2 missing during the partition", resp)
	}
	purgeOrFail(t, a.svc, Request{Kind: KindURL, Value: cssURL, Soft: true})
	b.intercept.Store(nil)

	if err := b.svc.CatchUp(context.Background(), a.peer(), partitionStart); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if present(b.store, "http://www.example.com/img/1.png") {
		t.Error("edge-2 still holds product-42 after catching up")
	}
	if o, ok := b.store.Get(cssURL); !ok || !o.SoftPurged() {
		t.Error("edge-2 did not apply the soft purge it missed")
	}
	if got := counterValue(t, b.svc.metrics.requests.WithLabelValues("key", sourceCatchUp)); got != 1 {
		t.Errorf("edge-2 requests{key,catchup} = %v, want 1", got)
	}
	// Catching up twice, or from a log that includes what edge-2 has, applies nothing twice.
	if n := b.svc.Apply(a.svc.LogSince(partitionStart)); n != 0 {
		t.Errorf("Apply of purges already applied = %d, want 0", n)
	}
	// Nothing happened after now: a catch-up from now brings nothing.
	if got := a.svc.LogSince(clock.Now().Add(time.Second)); len(got) != 0 {
		t.Errorf("LogSince(future) = %v, want none", got)
	}
}

func TestService_catchUpErrors(t *testing.T) {
	clock := newFakeClock()
	nodes := newCluster(t, clock, "edge-1", "edge-2")
	wrong := newTestService(t, conf.Purge{}, newTestMemory(t), StaticCluster{Name: "x"}, Options{Secret: "not-the-cluster-secret"})
	if err := wrong.CatchUp(context.Background(), nodes[0].peer(), time.Time{}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("CatchUp with the wrong secret: %v; want a 403 error", err)
	}
	dead := nodes[1].peer()
	nodes[1].srv.Close()
	if err := nodes[0].svc.CatchUp(context.Background(), dead, time.Time{}); err == nil {
		t.Error("CatchUp from a dead peer succeeded")
	}
}

func TestPeerHandler_logRefusesBadSince(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1")
	req, _ := http.NewRequest(http.MethodGet, nodes[0].srv.URL+PeerLogPath+"?since=yesterday", nil)
	req.Header.Set(SecretHeader, testSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("status %d, want 400", res.StatusCode)
	}
}
