package purge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

const cssURL = "http://www.example.com/a.css"

func TestService_fanOutNamesLiveAndDeadPeers(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2", "edge-3", "edge-4", "edge-5")
	for _, n := range nodes {
		mustSet(t, n.store, object(cssURL, ""), object(cssURL, "|gzip"))
	}
	dead := nodes[3]
	dead.srv.Close() // connection refused from now on

	resp := purgeOrFail(t, nodes[0].svc, Request{Kind: KindURL, Value: cssURL})

	if want := []string{"edge-1", "edge-2", "edge-3", "edge-5"}; !slices.Equal(resp.Acked, want) {
		t.Errorf("acked %v, want %v", resp.Acked, want)
	}
	if want := []string{"edge-4"}; !slices.Equal(resp.Missing, want) {
		t.Errorf("missing %v, want %v", resp.Missing, want)
	}
	if resp.Purged != 8 { // two variants on each of four nodes that acked
		t.Errorf("purged %d, want 8", resp.Purged)
	}
	for _, n := range nodes {
		if got, want := present(n.store, cssURL), n == dead; got != want {
			t.Errorf("%s still holds %s: %v, want %v", n.name, cssURL, got, want)
		}
	}
	if got := counterValue(t, nodes[0].svc.metrics.stragglers); got != 1 {
		t.Errorf("stragglers_total = %v, want 1", got)
	}
	if got := counterValue(t, nodes[1].svc.metrics.requests.WithLabelValues("url", sourcePeer)); got != 1 {
		t.Errorf("edge-2 requests{url,peer} = %v, want 1", got)
	}
}

func TestService_fanOutGivesUpOnAHungPeerAtTheTimeout(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2", "edge-3")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the servers close, freeing the handler
	nodes[2].setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	})
	if err := nodes[0].svc.Reload(conf.Purge{Token: testToken, Timeout: conf.Duration(200 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}

	// Purge returning at all shows the timeout bounds it: edge-3 answers only after the test.
	resp := purgeOrFail(t, nodes[0].svc, Request{Kind: KindAll})

	if !slices.Equal(resp.Acked, []string{"edge-1", "edge-2"}) || !slices.Equal(resp.Missing, []string{"edge-3"}) {
		t.Errorf("acked %v missing %v; want [edge-1 edge-2] and [edge-3]", resp.Acked, resp.Missing)
	}
}

func TestService_fanOutRetriesAPeerThatFailsOnce(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2")
	mustSet(t, nodes[1].store, object(cssURL, ""))
	var failures atomic.Int64
	failures.Store(1)
	nodes[1].setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if failures.Add(-1) >= 0 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return true
		}
		return false
	})

	resp := purgeOrFail(t, nodes[0].svc, Request{Kind: KindURL, Value: cssURL})

	if !slices.Equal(resp.Acked, []string{"edge-1", "edge-2"}) || len(resp.Missing) != 0 || resp.Purged != 1 {
		t.Errorf("answer %+v; want edge-2 acked after a retry, purged 1", resp)
	}
	if got := nodes[1].peerHits.Load(); got != 2 {
		t.Errorf("edge-2 saw %d requests, want 2 (one failure, one retry)", got)
	}
	if present(nodes[1].store, cssURL) {
		t.Error("edge-2 still holds the object")
	}
}

func TestService_fanOutDoesNotRetryARefusal(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2")
	mustSet(t, nodes[1].store, object(cssURL, ""))
	nodes[1].handler.Store(newTestService(t, conf.Purge{}, nodes[1].store, StaticCluster{Name: "edge-2"},
		Options{Secret: "another-cluster-secret"}))

	resp := purgeOrFail(t, nodes[0].svc, Request{Kind: KindURL, Value: cssURL})

	if !slices.Equal(resp.Missing, []string{"edge-2"}) {
		t.Errorf("missing %v, want [edge-2]", resp.Missing)
	}
	if got := nodes[1].peerHits.Load(); got != 1 {
		t.Errorf("edge-2 saw %d requests, want 1: a 403 is not retried", got)
	}
	if !present(nodes[1].store, cssURL) {
		t.Error("edge-2 applied a purge sent with the wrong secret")
	}
}

func TestService_withoutSecretPurgesStayLocal(t *testing.T) {
	nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2")
	s := newTestService(t, conf.Purge{}, nodes[0].store, StaticCluster{Name: "edge-1", Members: []Peer{nodes[1].peer()}}, Options{})

	resp := purgeOrFail(t, s, Request{Kind: KindAll})

	if !slices.Equal(resp.Acked, []string{"edge-1"}) || !slices.Equal(resp.Missing, []string{"edge-2"}) {
		t.Errorf("answer %+v; want edge-2 missing", resp)
	}
	if got := nodes[1].peerHits.Load(); got != 0 {
		t.Errorf("edge-2 saw %d requests from a node without the secret, want 0", got)
	}
}

func TestPeerHandler_secret(t *testing.T) {
	body := `{"id":"p1","time":"2025-03-01T12:00:00Z","kind":"url","value":"http://www.example.com/a.css"}`
	tests := []struct {
		name, configured, sent string
		wantStatus             int
	}{
		{"right secret", testSecret, testSecret, 200},
		{"wrong secret", testSecret, testSecret + "x", 403},
		{"no secret sent", testSecret, "", 403},
		{"none configured, none sent", "", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestMemory(t)
			mustSet(t, store, object(cssURL, ""))
			clock := newFakeClock()
			s := newTestService(t, conf.Purge{}, store, StaticCluster{Name: "edge-2"}, Options{Secret: tt.configured, Now: clock.Now})
			compares := 0
			s.equal = func(a, b string) bool { compares++; return SecretEqual(a, b) }
			srv := httptest.NewServer(s.PeerHandler())
			defer srv.Close()

			req, _ := http.NewRequest(http.MethodPost, srv.URL+PeerPath, strings.NewReader(body))
			if tt.sent != "" {
				req.Header.Set(SecretHeader, tt.sent)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got, want := present(store, cssURL), tt.wantStatus != 200; got != want {
				t.Errorf("object present %v, want %v", got, want)
			}
			if tt.configured != "" && compares != 1 {
				t.Errorf("secret compared %d times through SecretEqual, want 1", compares)
			}
		})
	}
}

func TestPeerHandler_refusesInvalidPurges(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not JSON", `url=x`},
		{"no id", `{"time":"2025-03-01T12:00:00Z","kind":"all"}`},
		{"not in key form", `{"id":"p","time":"2025-03-01T12:00:00Z","kind":"url","value":"http://WWW.example.com/a.css"}`},
		{"unknown kind", `{"id":"p","time":"2025-03-01T12:00:00Z","kind":"ban","value":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestMemory(t)
			mustSet(t, store, object(cssURL, ""))
			s := newTestService(t, conf.Purge{}, store, StaticCluster{Name: "edge-2"}, Options{Secret: testSecret, Now: newFakeClock().Now})
			rec := httptest.NewRecorder()
			req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, PeerPath, strings.NewReader(tt.body))
			req.Header.Set(SecretHeader, testSecret)
			s.PeerHandler().ServeHTTP(rec, req)
			if rec.Code != 400 || !present(store, cssURL) {
				t.Errorf("status %d, object present %v; want 400 and untouched", rec.Code, present(store, cssURL))
			}
		})
	}
}
