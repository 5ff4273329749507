package edge

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/purge"
	"github.com/shoal-cdn/shoal/ring"
)

// A member that drops out of view (a partition) and comes back hands over the purges this
// node missed meanwhile: the node pulls them and no longer holds the purged object.
func TestNode_catchUpWithReturningMember(t *testing.T) {
	secretFile := writeSecret(t)
	origin := startOrigin(t, nil)
	n := startNode(t, "cluster: {secret_file: "+secretFile+"}\n"+oneRoute(true, origin.URL), Options{})

	// The member that stayed on the other side of the partition, with its own store.
	peerStore, err := cachestore.NewMemory(cachestore.Config{MaxBytes: 8 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer peerStore.Close()
	peer, err := purge.New(conf.Purge{Timeout: conf.Duration(time.Second)}, peerStore, purge.StaticCluster{Name: "far"},
		purge.Options{Secret: n.peerSecret})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(peer.PeerHandler())
	defer srv.Close()
	far := ring.Member{Name: "far", PeerAddr: srv.Listener.Addr().String(), State: ring.StateAlive}
	self := n.Ring().Self()

	const key = "http://shop.example/item.css"
	n.Store().Set(&cachestore.Object{Key: key, URL: key, Status: 200, Body: []byte("old"),
		Header:      httpcache.Pack(httpcache.Header{{Name: "Cache-Control", Value: "max-age=600"}}),
		RequestTime: cachestore.StampOf(time.Now()), ResponseTime: cachestore.StampOf(time.Now()), Generation: n.Store().Begin(),
		Meta: cachestore.NewMeta(httpcache.StoreDecision{Store: true, Lifetime: 10 * time.Minute}, nil)})
	n.settleFills()

	n.catchUpReturning([]ring.Member{self, far}) // both in view
	n.catchUpReturning([]ring.Member{self})      // the partition: far is out of view
	if _, err := peer.Purge(context.Background(), purge.Request{Kind: purge.KindURL, Value: key}); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Store().Get(key); !ok {
		t.Fatal("the object went before the partition healed: the test proves nothing")
	}
	n.catchUpReturning([]ring.Member{self, far}) // healed: far is back
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := n.Store().Get(key); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge made during the partition never reached this node")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
