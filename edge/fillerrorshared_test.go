package edge

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNode_originErrorIsSharedWithTheFillsFollowers: requests that joined a fill take the
// origin's 500, 502, 503 or 504 as their answer when only its status keeps it from the store.
// Sent on to fetch alone, as for any response not stored, each follower asked the failing
// origin again at once: 20 concurrent requests for a hot object became 20 origin requests
// (failed before: 20 for the 503 and 500 rows). An error that must not be shared still is
// not: with a Set-Cookie, private, no-store, or a 403 (not an error stale-if-error covers),
// each follower fetches alone as before.
func TestNode_originErrorIsSharedWithTheFillsFollowers(t *testing.T) {
	const clients = 20
	type answer struct {
		status int
		field  []string
	}
	answers := map[string]answer{
		"/503":            {503, nil},
		"/500":            {500, nil},
		"/503-set-cookie": {503, []string{"Set-Cookie", "s=1"}},
		"/503-private":    {503, []string{"Cache-Control", "private"}},
		"/503-no-store":   {503, []string{"Cache-Control", "no-store"}},
		"/403":            {403, nil},
	}
	var mu sync.Mutex
	held := map[string]chan struct{}{} // the first request of each path waits here
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		wait, first := held[r.URL.Path]
		if first {
			delete(held, r.URL.Path)
		}
		mu.Unlock()
		if first {
			<-wait
		}
		a := answers[r.URL.Path]
		for i := 0; i+1 < len(a.field); i += 2 {
			w.Header().Set(a.field[i], a.field[i+1])
		}
		w.WriteHeader(a.status)
		w.Write([]byte("error page"))
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	for _, c := range []struct {
		path   string
		shared bool
	}{
		{"/503", true}, {"/500", true},
		{"/503-set-cookie", false}, {"/503-private", false}, {"/503-no-store", false}, {"/403", false},
	} {
		release := make(chan struct{})
		mu.Lock()
		held[c.path] = release
		mu.Unlock()
		before, key := origin.requests.Load(), cacheKey("http", n.HTTPAddr(), c.path, "")
		var wrong atomic.Int64
		done := make(chan struct{})
		go func() {
			parallel(clients, func(int) {
				if status, _, _ := get(t, "http://"+n.HTTPAddr()+c.path); status != answers[c.path].status {
					wrong.Add(1)
				}
			})
			close(done)
		}()
		deadline := time.Now().Add(20 * time.Second)
		for n.fills.Joined(key) < clients && time.Now().Before(deadline) { // the leader and its followers
			time.Sleep(time.Millisecond)
		}
		close(release)
		<-done
		asked := origin.requests.Load() - before
		switch {
		case c.shared && asked != 1:
			t.Errorf("%s: the origin saw %d requests for %d clients joined in one fill; want 1", c.path, asked, clients)
		case !c.shared && asked != clients:
			t.Errorf("%s: the origin saw %d requests for %d clients; want %d (not shared)", c.path, asked, clients, clients)
		}
		if wrong.Load() != 0 {
			t.Errorf("%s: %d clients did not get the origin's %d", c.path, wrong.Load(), answers[c.path].status)
		}
	}
}
