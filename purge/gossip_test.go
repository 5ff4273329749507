package purge

import (
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func TestService_gossipAppliedOnceWhenDeliveredTwice(t *testing.T) {
	clock := newFakeClock()
	var sent [][]byte
	origin := newTestService(t, conf.Purge{}, newTestMemory(t), StaticCluster{Name: "edge-1"},
		Options{Now: clock.Now, Broadcast: func(msg []byte) { sent = append(sent, msg) }})
	store := newTestMemory(t)
	receiver := newTestService(t, conf.Purge{}, store, StaticCluster{Name: "edge-2"}, Options{Now: clock.Now})
	mustSet(t, store, object("http://www.example.com/img/1.png", "", "product-42"))

	purgeOrFail(t, origin, Request{Kind: KindKey, Value: "product-42"})
	if len(sent) != 1 {
		t.Fatalf("Broadcast called %d times, want 1", len(sent))
	}

	receiver.HandleGossip(sent[0])
	if present(store, "http://www.example.com/img/1.png") {
		t.Fatal("the first delivery did not purge")
	}
	// A fill after the purge stores a new copy; a second delivery of the same purge must not
	// remove it.
	refill := object("http://www.example.com/img/1.png", "", "product-42")
	mustSet(t, store, refill)
	receiver.HandleGossip(sent[0])

	if !present(store, refill.Key) {
		t.Error("the second delivery purged again")
	}
	if got := counterValue(t, receiver.metrics.requests.WithLabelValues("key", sourceGossip)); got != 1 {
		t.Errorf("requests{key,gossip} = %v, want 1", got)
	}
}

func TestService_gossipRefusesBadMessages(t *testing.T) {
	clock := newFakeClock()
	store := newTestMemory(t)
	s := newTestService(t, conf.Purge{}, store, StaticCluster{Name: "edge-2"}, Options{Now: clock.Now})
	mustSet(t, store, object(cssURL, ""))
	old := clock.Now().Add(-2 * time.Hour)
	for _, msg := range []string{
		``, `{`, `{"kind":"all"}`, // no id: nothing tells a replay apart
		`{"id":"x","time":"2025-03-01T12:00:00Z","kind":"url","value":"www.example.com/a.css"}`,
		`{"id":"old","time":"` + old.Format(time.RFC3339) + `","kind":"all"}`, // beyond the ban log's reach
	} {
		s.HandleGossip([]byte(msg))
	}
	if !present(store, cssURL) {
		t.Error("a bad gossip message purged")
	}
	if got := counterValue(t, s.metrics.refused.WithLabelValues(reasonInvalid)); got != 4 {
		t.Errorf("refused{invalid} = %v, want 4", got)
	}
}
