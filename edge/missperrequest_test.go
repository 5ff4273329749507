package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// shoal_edge_cache_misses_total (and /stats.json's misses and hit_ratio) said they count
// requests, but were counted per fill attempt: a follower that joined a fill it may not use
// (here a private answer) and then fetched alone was two misses, so under load hits + misses
// outgrew the requests (5,635 for 5,600 in a zipf run with 43 followers). A request is now one
// miss however many attempts its fill takes.
func TestNode_aMissIsCountedOncePerRequest(t *testing.T) {
	held, arrived := make(chan struct{}), make(chan struct{}, 4)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		if r.Header.Get("X-Leader") != "" {
			<-held
		}
		w.Header().Set("Cache-Control", "private, max-age=60")
		fmt.Fprint(w, "mine")
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	released := false
	release := func() {
		if !released {
			released = true
			close(held)
		}
	}
	t.Cleanup(release) // before the node's shutdown: no origin request holds it
	answers := make(chan int, 2)
	ask := func(header ...string) {
		go func() {
			status, _, _ := get(t, "http://"+n.HTTPAddr()+"/p", header...)
			answers <- status
		}()
	}
	ask("X-Leader", "1")
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader's request never reached the origin")
	}
	ask()
	pollUntil(t, 10*time.Second, "the second request to join the first's fill", func() bool { return n.fills.Joined(cacheKey("http", n.HTTPAddr(), "/p", "")) == 2 })
	release()
	for i := 0; i < 2; i++ {
		if status := <-answers; status != http.StatusOK {
			t.Fatalf("answer %d: %d", i, status)
		}
	}
	if got := origin.requests.Load(); got != 2 {
		t.Fatalf("origin asked %d times, want 2 (the follower fetches alone after a private answer)", got)
	}
	_, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics")
	if hits, misses := metricValue(metrics, "shoal_edge_cache_hits_total"), metricValue(metrics, "shoal_edge_cache_misses_total"); hits != 0 || misses != 2 {
		t.Errorf("/metrics: %v hits, %v misses for two requests that both missed; want 0 and 2", hits, misses)
	}
	_, _, body := get(t, "http://"+n.AdminAddr()+"/stats.json")
	var s struct{ Cache cacheStats }
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Cache.Misses != 2 {
		t.Errorf("/stats.json: cache %+v (%v), want 2 misses", s.Cache, err)
	}
}
