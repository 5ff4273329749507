package edge

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// shoal_edge_coalesced_followers_total counts requests answered by another request's fill,
// once each. A burst for a cold object that varies on Accept-Language: one "en" request
// leads, 5 "en" and 5 "fr" requests join it; the "fr" ones are sent on to the fill of their
// own variant, which one of them leads and 4 follow. 9 followers. Failed before: 14, one
// per join (the 5 "fr" requests counted on joining the "en" fill and again on the "fr" one,
// the "fr" leader among them).
func TestNode_coalescedFollowersCountedOncePerRequest(t *testing.T) {
	release := map[string]chan struct{}{"en": make(chan struct{}), "fr": make(chan struct{})}
	var mu sync.Mutex
	first := map[string]bool{}
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		lang := r.Header.Get("Accept-Language")
		mu.Lock()
		wait := !first[lang]
		first[lang] = true
		mu.Unlock()
		if wait {
			<-release[lang] // the first fill of each variant stays open while the burst joins it
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprint(w, "for "+lang)
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	url := "http://" + n.HTTPAddr() + "/v.html"
	key := cacheKey("http", n.HTTPAddr(), "/v.html", "")
	fr, _ := httpcache.SecondaryKey([]string{"accept-language"}, httpcache.Header{{Name: "Accept-Language", Value: "fr"}})
	frKey := key + "\x00" + fr
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s within 10 s", what)
			}
		}
	}
	var wg sync.WaitGroup
	bodies := make(chan string, 11)
	ask := func(lang string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, body := get(t, url, "Accept-Language", lang)
			bodies <- lang + ":" + body
		}()
	}
	ask("en")
	waitFor("the en fill starts", func() bool { return n.fills.InFlight(key) })
	for range 5 {
		ask("en")
		ask("fr")
	}
	waitFor("10 requests join the en fill", func() bool { return n.fills.Joined(key) >= 11 })
	close(release["en"])
	waitFor("the 5 fr requests join the fr fill", func() bool { return n.fills.Joined(frKey) >= 5 })
	close(release["fr"])
	wg.Wait()
	close(bodies)
	for b := range bodies {
		if b != "en:for en" && b != "fr:for fr" {
			t.Errorf("answer %q: a variant for another language", b)
		}
	}
	_, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics")
	if got := metricValue(metrics, "shoal_edge_coalesced_followers_total"); got != 9 {
		t.Errorf("shoal_edge_coalesced_followers_total = %v, want 9 (5 en and 4 fr requests answered by another's fill)", got)
	}
	if got := origin.requests.Load(); got != 2 {
		t.Errorf("origin asked %d times, want 2 (one per variant)", got)
	}
}
