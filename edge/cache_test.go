package edge

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

func TestNode_missThenHitFromRealNginx(t *testing.T) {
	ng := testenv.StartNginx(t, testenv.NginxOptions{Name: "static-a", Extra: "location / { expires 60s; }"})
	ng.WriteFile("site.css", strings.Repeat("body{color:red}\n", 64))
	n := startNode(t, oneRoute(true, ng.URL), Options{})
	url := "http://" + n.HTTPAddr() + "/site.css"

	status, h, body := get(t, url)
	if status != 200 || len(body) != 16*64 {
		t.Fatalf("miss: %d, %d bytes", status, len(body))
	}
	if cs := h.Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") || !strings.Contains(cs, "stored") || !strings.Contains(cs, "detail=test-edge") {
		t.Errorf("miss Cache-Status = %q", cs)
	}
	if h.Get("X-Served-By") != "static-a" || h.Get("Via") != "1.1 test-edge" || h.Get("Age") == "" {
		t.Errorf("miss headers: served-by %q via %q age %q", h.Get("X-Served-By"), h.Get("Via"), h.Get("Age"))
	}
	n.settleFills()
	status, h, body2 := get(t, url)
	if status != 200 || body2 != body {
		t.Fatalf("hit: %d, body differs", status)
	}
	if cs := h.Get("Cache-Status"); !strings.HasPrefix(cs, "shoal; hit; ttl=") {
		t.Errorf("hit Cache-Status = %q", cs)
	}
	if got := ng.Requests("/site.css"); got != 1 {
		t.Errorf("nginx saw %d requests, want 1", got)
	}
}

// N concurrent requests for one cold URL make one origin request, and followers get the
// first bytes while the origin is still sending.
func TestNode_coalescesAndStreamsToFollowers(t *testing.T) {
	release := make(chan struct{})
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("first-half;"))
		w.(http.Flusher).Flush()
		<-release
		w.Write([]byte("second-half"))
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	url := "http://" + n.HTTPAddr() + "/cold"

	const clients = 200
	firstBytes := make(chan struct{}, clients)
	bodies := make([]string, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				firstBytes <- struct{}{}
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, len("first-half;"))
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Error(err)
			}
			firstBytes <- struct{}{}
			rest, _ := io.ReadAll(resp.Body)
			bodies[i] = string(buf) + string(rest)
		}(i)
	}
	for i := 0; i < clients; i++ {
		<-firstBytes // every client has its first bytes while the origin still holds the rest
	}
	close(release)
	wg.Wait()
	for i, b := range bodies {
		if b != "first-half;second-half" {
			t.Fatalf("client %d got %q", i, b)
		}
	}
	if got := origin.requests.Load(); got != 1 {
		t.Errorf("origin saw %d requests for one cold URL, want 1", got)
	}
}

// A stuck origin holds nobody: the fill timeout ends the fill and every waiter gets 504.
func TestNode_fillTimeoutReleasesWaiters(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { <-stuck })
	cfg := strings.Replace(oneRoute(true, origin.URL), "fill_timeout: 5s", "fill_timeout: 300ms", 1)
	cfg = strings.Replace(cfg, "    servers:\n", "    first_byte_timeout: 30s\n    servers:\n", 1)
	n := startNode(t, cfg, Options{})
	statuses := make([]int, 20)
	parallel(20, func(i int) {
		statuses[i], _, _ = get(t, "http://"+n.HTTPAddr()+"/stuck")
	})
	for i, s := range statuses {
		if s != http.StatusGatewayTimeout {
			t.Errorf("waiter %d: status %d, want 504", i, s)
		}
	}
}

// An object above max_object_size streams through without being stored or held whole.
func TestNode_largeObjectStreamsThroughUncached(t *testing.T) {
	const size = 200 << 20
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/big.iso")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	got, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	close(stop)
	<-sampled
	if err != nil || got != size {
		t.Fatalf("read %d bytes (%v), want %d", got, err, size)
	}
	if n.Store().Stats().Objects != 0 {
		t.Error("an object above max_object_size was stored")
	}
	growth := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("heap growth while streaming 200 MiB: %d KiB", growth>>10)
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB while streaming: the body is being held", growth>>20)
	}
}

// Query order makes two objects unless the route sorts parameters (cache_key.sort_params),
// and then the origin is sent the sorted query it is keyed by.
func TestNode_queryOrderSharesOneObjectOnlyWhenSorted(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, r.URL.RawQuery)
	})
	for _, sorted := range []bool{false, true} {
		cfg := oneRoute(true, origin.URL)
		if sorted {
			cfg = strings.Replace(cfg, "cache: true}", "cache: true, cache_key: {sort_params: true}}", 1)
		}
		n := startNode(t, cfg, Options{})
		base := "http://" + n.HTTPAddr() + "/q"
		get(t, base+"?a=1&b=2")
		n.settleFills()
		_, h, body := get(t, base+"?b=2&a=1")
		if hit := strings.Contains(h.Get("Cache-Status"), "hit"); hit != sorted {
			t.Errorf("sort_params %v: reordered query: %s", sorted, h.Get("Cache-Status"))
		}
		if want := map[bool]string{false: "b=2&a=1", true: "a=1&b=2"}[sorted]; body != want {
			t.Errorf("sort_params %v: origin was asked for %q, want %q", sorted, body, want)
		}
		_, h, _ = get(t, base+"?a=2&b=2")
		if strings.Contains(h.Get("Cache-Status"), "hit") {
			t.Errorf("different query hit: %s", h.Get("Cache-Status"))
		}
	}
}

// Basic freshness: what is stored and for how long, with the node's clock under the test's control.
func TestNode_basicFreshness(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	headers := map[string][2]string{
		"/max-age":  {"Cache-Control", "max-age=10"},
		"/s-maxage": {"Cache-Control", "max-age=1000, s-maxage=10"},
		"/expires":  {"Expires", ""},
		"/no-store": {"Cache-Control", "no-store"},
		"/private":  {"Cache-Control", "private, max-age=100"},
		"/no-cache": {"Cache-Control", "no-cache"},
	}
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		h := headers[r.URL.Path]
		w.Header().Set("Date", now().UTC().Format(http.TimeFormat))
		if h[0] == "Expires" {
			w.Header().Set("Expires", now().Add(10*time.Second).UTC().Format(http.TimeFormat))
		} else {
			w.Header().Set(h[0], h[1])
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, r.URL.Path)
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{Now: now})
	cases := []struct {
		path            string
		hitNow, hitLate bool // right after the fill; 20 s later
	}{
		{"/max-age", true, false},
		{"/s-maxage", true, false},
		{"/expires", true, false},
		{"/no-store", false, false},
		{"/private", false, false},
		{"/no-cache", false, false},
	}
	for _, c := range cases {
		url := "http://" + n.HTTPAddr() + c.path
		get(t, url)
		n.settleFills()
		_, h, _ := get(t, url)
		if hit := strings.Contains(h.Get("Cache-Status"), "; hit"); hit != c.hitNow {
			t.Errorf("%s right after fill: Cache-Status %q, want hit=%v", c.path, h.Get("Cache-Status"), c.hitNow)
		}
	}
	clock.Add(int64(20 * time.Second))
	for _, c := range cases {
		_, h, _ := get(t, "http://"+n.HTTPAddr()+c.path)
		if hit := strings.Contains(h.Get("Cache-Status"), "; hit"); hit != c.hitLate {
			t.Errorf("%s 20 s later: Cache-Status %q, want hit=%v", c.path, h.Get("Cache-Status"), c.hitLate)
		}
	}
}

// cache.memory bounds what the store holds, however much passes through.
func TestNode_cacheMemoryBudgetHonoured(t *testing.T) {
	body := strings.Repeat("x", 1024)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, body)
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "cache: {memory: 64MiB, max_object_size: 8MiB", "cache: {memory: 2MiB, max_object_size: 256KiB", 1)
	n := startNode(t, cfg, Options{})
	const objects = 6000 // about 4x the budget
	var next atomic.Int64
	parallel(8, func(int) {
		c := &http.Client{}
		for i := next.Add(1); i <= objects; i = next.Add(1) {
			resp, err := c.Get(fmt.Sprintf("http://%s/obj/%d", n.HTTPAddr(), i))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	n.settleFills()
	st := n.Store().Stats()
	t.Logf("after %d objects: store holds %d objects, %d bytes, %d evictions", objects, st.Objects, st.Bytes, st.Evictions)
	if st.Bytes > 2<<20 {
		t.Errorf("store holds %d bytes, budget is %d", st.Bytes, 2<<20)
	}
	if st.Objects == 0 || st.Objects >= objects {
		t.Errorf("store holds %d of %d objects: the budget did nothing or nothing was kept", st.Objects, objects)
	}
}

// A cache passes the origin's Date on, on misses and hits alike (RFC 9110 section 6.6.1).
func TestNode_originDateKept(t *testing.T) {
	const date = "Mon, 02 Jan 2006 15:04:05 GMT"
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", date)
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, "dated")
	})
	n := startNode(t, oneRoute(true, origin.URL)+"\n", Options{Now: func() time.Time { return time.Date(2006, 1, 2, 15, 5, 0, 0, time.UTC) }})
	for _, phase := range []string{"miss", "hit"} {
		_, h, _ := get(t, "http://"+n.HTTPAddr()+"/d")
		if got := h.Get("Date"); got != date {
			t.Errorf("%s: Date %q, want the origin's %q", phase, got, date)
		}
		n.settleFills()
	}
	pass := startNode(t, oneRoute(false, origin.URL), Options{})
	if _, h, _ := get(t, "http://"+pass.HTTPAddr()+"/d"); h.Get("Date") != date {
		t.Errorf("pass: Date %q", h.Get("Date"))
	}
}
