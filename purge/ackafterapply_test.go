package purge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
)

// heldStore is a real store whose PurgeURL waits for release once it was entered: a purge
// being applied slowly, as the edge's is when the disk tier fsyncs its ban log first.
type heldStore struct {
	*cachestore.Memory
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *heldStore) PurgeURL(url string, soft bool) int {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.Memory.PurgeURL(url, soft)
}

// A purge reaches a node twice (memberlist gossip and the originator's fan-out, or a
// catch-up). The delivery that finds the purge already claimed must not report it done
// while the first one is still applying it: the peer's ack tells the operator (and the
// tests) that the node no longer serves the object, and a catch-up is followed by opening
// the disk tier. Before, the second delivery returned at once: with a disk tier (an fsync
// per ban) the fan-out was acked while the node still served the purged object from memory,
// and the owner's answer fed the other node's hot copy for hot_ttl.
func TestService_secondDeliveryWaitsForTheApply(t *testing.T) {
	deliver := map[string]func(t *testing.T, s *Service, r Request){
		"peer fan-out": func(t *testing.T, s *Service, r Request) {
			req := httptest.NewRequest(http.MethodPost, PeerPath, strings.NewReader(string(s.EncodeForGossip(r))))
			req.Header.Set(SecretHeader, testSecret)
			rec := httptest.NewRecorder()
			s.PeerHandler().ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("peer purge: %d %s", rec.Code, rec.Body)
			}
		},
		"catch-up": func(t *testing.T, s *Service, r Request) { s.Apply([]Request{r}) },
	}
	for name, second := range deliver {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			store := &heldStore{Memory: newTestMemory(t), entered: make(chan struct{}), release: make(chan struct{})}
			mustSet(t, store.Memory, object(cssURL, ""))
			svc := newTestService(t, conf.Purge{Token: testToken}, store, StaticCluster{Name: "edge-2"},
				Options{Secret: testSecret, Now: clock.Now})
			r := Request{ID: "p-1", Time: clock.Now(), Kind: KindURL, Value: cssURL}

			go svc.HandleGossip(svc.EncodeForGossip(r)) // the first delivery, held in the store
			<-store.entered
			acked := make(chan struct{})
			go func() {
				defer close(acked)
				second(t, svc, r)
			}()
			select {
			case <-acked:
				close(store.release)
				t.Fatalf("%s reported the purge done while its first delivery was still applying it", name)
			case <-time.After(300 * time.Millisecond):
			}
			close(store.release)
			<-acked
			if present(store.Memory, cssURL) {
				t.Fatal("the purged object is still stored after the acknowledged purge")
			}
		})
	}
}

// Gossip arrives on memberlist's NotifyMsg, which must not block: a gossip copy of a purge
// that a peer fan-out is applying returns at once.
func TestService_gossipDoesNotWaitForAnotherDelivery(t *testing.T) {
	clock := newFakeClock()
	store := &heldStore{Memory: newTestMemory(t), entered: make(chan struct{}), release: make(chan struct{})}
	defer close(store.release)
	svc := newTestService(t, conf.Purge{Token: testToken}, store, StaticCluster{Name: "edge-2"},
		Options{Secret: testSecret, Now: clock.Now})
	r := Request{ID: "p-2", Time: clock.Now(), Kind: KindURL, Value: cssURL}
	go svc.Apply([]Request{r})
	<-store.entered
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.HandleGossip(svc.EncodeForGossip(r))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("HandleGossip blocked on a purge another delivery is applying")
	}
}
