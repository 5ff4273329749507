package purge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// A purge reaches a peer by gossip and by the originator's fan-out, in either order; the
// fan-out's ack says how many objects the node purged, whichever delivery applied it, so
// the originator's "purged" counts every node. Failed before: when gossip came first (under
// load it often does) the fan-out acked 0, and TestCluster_purgeMethodOnDataPort saw
// {"purged":0} for a URL the owner had stored and removed.
func TestService_secondDeliveryAcksWhatTheFirstPurged(t *testing.T) {
	clock := newFakeClock()
	store := newTestMemory(t)
	mustSet(t, store, object(cssURL, ""))
	svc := newTestService(t, conf.Purge{Token: testToken}, store, StaticCluster{Name: "edge-2"},
		Options{Secret: testSecret, Now: clock.Now})
	r := Request{ID: "p-1", Time: clock.Now(), Kind: KindURL, Value: cssURL}
	svc.HandleGossip(svc.EncodeForGossip(r)) // the gossip copy first: it applies the purge
	if present(store, cssURL) {
		t.Fatal("the gossip copy did not purge the object")
	}
	req := httptest.NewRequest(http.MethodPost, PeerPath, strings.NewReader(string(svc.EncodeForGossip(r))))
	req.Header.Set(SecretHeader, testSecret)
	rec := httptest.NewRecorder()
	svc.PeerHandler().ServeHTTP(rec, req)
	var ack peerAck
	if err := json.Unmarshal(rec.Body.Bytes(), &ack); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("peer purge: %d %s (%v)", rec.Code, rec.Body, err)
	}
	if ack.Purged != 1 {
		t.Errorf("the fan-out after the gossip copy acked %d purged, want the 1 object the node purged", ack.Purged)
	}
}
