package edge

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
)

// Review of the kept disk heads (diskmeta.go): the neighbours of the cases
// TestDiskTier_keptHeadIsTheRecordsOwn covers. A kept head is keyed by record, so every way
// a key gets another record or none (a purge by tag, by prefix, of everything, a refill after
// expiry) must be seen on the next hit, and every hit after the first must say what a first
// hit says (Age, Cache-Status, the stored fields).

// review3DiskNode is a node whose memory keeps bodies up to 64 KiB only, so a body of
// review3Size is served from its segment file and its head kept after its first hit.
func review3DiskNode(t *testing.T, originURL string, opts Options) (*Node, string) {
	t.Helper()
	return review3DiskNodeIn(t, originURL, t.TempDir(), "", opts)
}

// review3DiskNodeIn is review3DiskNode with its disk tier in dir and extra YAML appended.
func review3DiskNodeIn(t *testing.T, originURL, diskDir, extra string, opts Options) (*Node, string) {
	t.Helper()
	dir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := dir + "/purge.token"
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(oneRoute(true, originURL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 128MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", diskDir), 1) +
		fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", tokenFile) + extra
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	n := startNode(t, yaml, opts)
	waitDiskReady(t, n)
	return n, token
}

const review3Size = 80 << 10

// review3Body is the body of path at version v: its first line names both.
func review3Body(path string, v int64) []byte {
	b := fmt.Appendf(nil, "%s v%d\n", path, v)
	return append(b, largeBody(review3Size-len(b))...)
}

// versionedOrigin answers every path with its current version (review3Body), tagged with
// the path's first segment, cacheable for maxAge seconds; bump sets a path's version.
type versionedOrigin struct {
	*countingOrigin
	mu       sync.Mutex
	versions map[string]int64
}

func startVersionedOrigin(t *testing.T, maxAge int, date func() time.Time) *versionedOrigin {
	o := &versionedOrigin{versions: map[string]int64{}}
	o.countingOrigin = startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		v := o.versions[r.URL.Path]
		if v == 0 {
			v = 1
		}
		o.mu.Unlock()
		body := review3Body(r.URL.Path, v)
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", maxAge))
		if date != nil {
			w.Header().Set("Date", date().Format(http.TimeFormat))
		}
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, v))
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Version", strconv.FormatInt(v, 10))
		w.Header().Set("Surrogate-Key", "tag-"+strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]+" all-objects")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	return o
}

func (o *versionedOrigin) bump(path string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	v := o.versions[path]
	if v == 0 {
		v = 1
	}
	v++
	o.versions[path] = v
	return v
}

// review3Get fetches url and checks that the answer is path's version v, whole.
func review3Get(t *testing.T, url, path string, v int64) *http.Response {
	t.Helper()
	resp, body := getRange(t, url+path, "")
	want := review3Body(path, v)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) ||
		resp.Header.Get("X-Version") != strconv.FormatInt(v, 10) || resp.Header.Get("X-Path") != path {
		first, _, _ := bytes.Cut(body, []byte("\n"))
		t.Fatalf("GET %s: %d, body starts %q (%d bytes), X-Path %q, X-Version %q, Cache-Status %q; want version %d",
			path, resp.StatusCode, first, len(body), resp.Header.Get("X-Path"), resp.Header.Get("X-Version"),
			resp.Header.Get("Cache-Status"), v)
	}
	return resp
}

// keptHits hits path three times (the first decodes, the others use the kept head) and
// checks each is a disk hit on version v.
func keptHits(t *testing.T, n *Node, url, path string, v int64) {
	t.Helper()
	n.settleDisk()
	for i := range 3 {
		resp := review3Get(t, url, path, v)
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") || !strings.HasSuffix(cs, "/disk") {
			t.Fatalf("GET %s, hit %d: Cache-Status %q, want a disk hit", path, i, cs)
		}
	}
}

// Every purge kind removes the record whose head is kept: the next request is a miss that
// fetches the new version, and its own head is kept from then on.
func TestReview3_keptHeadGoesWithEveryPurgeKind(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	n, token := review3DiskNode(t, o.URL, Options{})
	url := "http://" + n.HTTPAddr()
	const path = "/news/big.bin"
	review3Get(t, url, path, 1)
	keptHits(t, n, url, path, 1)
	for _, purge := range []string{
		`{"key": "tag-news"}`,
		fmt.Sprintf(`{"prefix": "http://%s/news/"}`, n.HTTPAddr()),
		`{"all": true}`,
		fmt.Sprintf(`{"url": "http://%s%s"}`, n.HTTPAddr(), path),
		`{"key": "all-objects"}`,
	} {
		v := o.bump(path)
		if status, out := postPurge(t, n.AdminAddr(), token, purge); status != http.StatusOK {
			t.Fatalf("purge %s: %d %v", purge, status, out)
		}
		before := o.requests.Load()
		resp := review3Get(t, url, path, v)
		if o.requests.Load() != before+1 {
			t.Fatalf("after purge %s: Cache-Status %q, origin asked %d times; want one miss", purge, resp.Header.Get("Cache-Status"), o.requests.Load()-before)
		}
		keptHits(t, n, url, path, v)
	}
}

// A soft purge by tag (not only by URL) makes the kept head's record stale at its next hit.
func TestReview3_keptHeadSoftPurgeByTag(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	n, token := review3DiskNode(t, o.URL, Options{})
	url := "http://" + n.HTTPAddr()
	const path = "/soft/big.bin"
	review3Get(t, url, path, 1)
	keptHits(t, n, url, path, 1)
	if status, _ := postPurge(t, n.AdminAddr(), token, `{"key": "tag-soft", "soft": true}`); status != http.StatusOK {
		t.Fatalf("soft purge: %d", status)
	}
	resp := review3Get(t, url, path, 1)
	if cs := resp.Header.Get("Cache-Status"); cacheStatusTTL(cs) >= 0 {
		t.Errorf("after a soft purge by tag: Cache-Status %q, want the copy served stale (ttl below 0)", cs)
	}
}

// Age and the ttl in Cache-Status move with the clock on every hit served from a kept head,
// and a kept head whose record expired is not served as fresh: the refill's new version is.
func TestReview3_keptHeadAgeAndExpiry(t *testing.T) {
	clock := newTestClock()
	o := startVersionedOrigin(t, 60, clock.Now)
	n, _ := review3DiskNode(t, o.URL, Options{Now: clock.Now})
	url := "http://" + n.HTTPAddr()
	const path = "/age/big.bin"
	review3Get(t, url, path, 1)
	keptHits(t, n, url, path, 1)
	for _, step := range []int{5, 10, 20} {
		clock.Add(time.Duration(step) * time.Second)
		for i := range 2 {
			resp := review3Get(t, url, path, 1)
			age, _ := strconv.Atoi(resp.Header.Get("Age"))
			var elapsed int
			switch step {
			case 5:
				elapsed = 5
			case 10:
				elapsed = 15
			case 20:
				elapsed = 35
			}
			if age != elapsed || cacheStatusTTL(resp.Header.Get("Cache-Status")) != 60-elapsed {
				t.Errorf("%d s after the fill, hit %d: Age %q, Cache-Status %q; want Age %d and ttl=%d",
					elapsed, i, resp.Header.Get("Age"), resp.Header.Get("Cache-Status"), elapsed, 60-elapsed)
			}
			if resp.Header.Get("Date") != clock.Now().Add(-time.Duration(elapsed)*time.Second).Format(http.TimeFormat) {
				t.Errorf("%d s after the fill, hit %d: Date %q, want the origin's", elapsed, i, resp.Header.Get("Date"))
			}
		}
	}
	v := o.bump(path)
	clock.Add(30 * time.Second) // 65 s: expired
	before := o.requests.Load()
	resp, body := getRange(t, url+path, "")
	if o.requests.Load() == before {
		t.Fatalf("65 s after a 60 s fill: Cache-Status %q, X-Version %q, no origin request; want it refetched",
			resp.Header.Get("Cache-Status"), resp.Header.Get("X-Version"))
	}
	if !bytes.Equal(body, review3Body(path, v)) {
		t.Fatalf("after the expiry: X-Version %q; want the refetched version %d", resp.Header.Get("X-Version"), v)
	}
	keptHits(t, n, url, path, v)
}

// HEAD, a conditional and a Range as the first hits on a record (the ones that decode and
// keep its head) leave a kept head that answers a plain GET whole, and the other way round.
func TestReview3_keptHeadFirstHitKinds(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	n, _ := review3DiskNode(t, o.URL, Options{})
	url := "http://" + n.HTTPAddr()
	for i, first := range []func(t *testing.T, path string){
		func(t *testing.T, path string) {
			req, _ := http.NewRequest("HEAD", url+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength != review3Size || resp.Header.Get("X-Path") != path {
				t.Errorf("HEAD %s: %d, Content-Length %d, X-Path %q", path, resp.StatusCode, resp.ContentLength, resp.Header.Get("X-Path"))
			}
		},
		func(t *testing.T, path string) {
			status, h, body := get(t, url+path, "If-None-Match", `"v1"`)
			if status != http.StatusNotModified || body != "" || h.Get("ETag") != `"v1"` {
				t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q; want 304", path, status, len(body), h.Get("ETag"))
			}
		},
		func(t *testing.T, path string) {
			resp, body := getRange(t, url+path, "bytes=0-9")
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, review3Body(path, 1)[:10]) ||
				resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", review3Size) {
				t.Errorf("Range %s: %d, %q, Content-Range %q", path, resp.StatusCode, body, resp.Header.Get("Content-Range"))
			}
		},
		func(t *testing.T, path string) {
			status, h, _ := get(t, url+path, "If-Match", `"other"`)
			if status != http.StatusPreconditionFailed {
				t.Errorf("If-Match of another ETag %s: %d (Cache-Status %q); want 412", path, status, h.Get("Cache-Status"))
			}
		},
	} {
		path := fmt.Sprintf("/first/%d.bin", i)
		review3Get(t, url, path, 1) // the fill
		n.settleDisk()
		first(t, path)
		first(t, path) // from the kept head
		keptHits(t, n, url, path, 1)
		first(t, path)
		resp, _ := getRange(t, url+path, "")
		if resp.Header.Get("Content-Range") != "" || resp.StatusCode != 200 {
			t.Errorf("%s: a plain GET after a range: %d, Content-Range %q", path, resp.StatusCode, resp.Header.Get("Content-Range"))
		}
	}
}

// Records whose ids share a slot of the direct-mapped table take it from one another while
// hits on both run at once (run with -race): each hit answers with its own record's head.
func TestReview3_keptHeadsOfRecordsSharingASlot(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	n, _ := review3DiskNode(t, o.URL, Options{})
	url := "http://" + n.HTTPAddr()
	var metas diskMetas
	bySlot := map[any][]string{}
	var pairs [][2]string
	for i := 0; i < 400 && len(pairs) == 0; i++ { // the first pair comes after about 80
		path := fmt.Sprintf("/slot/%d.bin", i)
		review3Get(t, url, path, 1)
		n.settleDisk()
		id, ok := review3Record(n, cacheKey("http", n.HTTPAddr(), path, ""))
		if !ok {
			continue
		}
		s := metas.slot(id)
		if others := bySlot[s]; len(others) > 0 {
			pairs = append(pairs, [2]string{others[0], path})
		}
		bySlot[s] = append(bySlot[s], path)
	}
	if len(pairs) == 0 {
		t.Skip("no two of 400 records share a slot") // about 1 run in 3e8
	}
	var wg sync.WaitGroup
	var bad atomic.Int64
	for _, p := range pairs {
		for _, path := range p {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{}
				for range 40 {
					resp, err := c.Get(url + path)
					if err != nil {
						bad.Add(1)
						return
					}
					var buf bytes.Buffer
					buf.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.Header.Get("X-Path") != path || !bytes.Equal(buf.Bytes(), review3Body(path, 1)) {
						bad.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d answers of records sharing a kept-head slot were not their own", bad.Load())
	}
}

// review3Record is the disk record id of the object stored under key.
func review3Record(n *Node, key string) (disk.RecordID, bool) {
	h, err := n.disk.d.GetNoHead(key)
	if err != nil {
		return disk.RecordID{}, false
	}
	defer h.Close()
	return h.Record(), true
}

// review3Do sends method to url with Host www.example.com and the header pairs, and returns
// the response with its body read.
func review3Do(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	return review3DoWith(t, &http.Client{Transport: tr}, method, url, header...)
}

// review3DoWith is review3Do through client c.
func review3DoWith(t *testing.T, c *http.Client, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Host = "www.example.com"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, buf.Bytes()
}

// Variants of one URL on disk (RFC 9111 section 4.1) are records of their own: hits that
// alternate between them, before and after a restart (when memory has forgotten the URL's
// Vary and diskVariant finds it again), each get their own variant's head and body.
func TestReview3_keptHeadsOfVariants(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		lang := r.Header.Get("Accept-Language")
		body := review3Body(r.URL.Path+"|"+lang, 1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Content-Language", lang)
		w.Header().Set("ETag", `"`+lang+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	dir := t.TempDir()
	check := func(n *Node, step string, wantDisk bool) {
		t.Helper()
		url := "http://" + n.HTTPAddr() + "/v.bin"
		for round := range 3 {
			for _, lang := range []string{"fr", "en", "de"} {
				resp, body := review3Do(t, "GET", url, "Accept-Language", lang)
				cs := resp.Header.Get("Cache-Status")
				if !bytes.Equal(body, review3Body("/v.bin|"+lang, 1)) || resp.Header.Get("Content-Language") != lang || resp.Header.Get("ETag") != `"`+lang+`"` {
					first, _, _ := bytes.Cut(body, []byte("\n"))
					t.Fatalf("%s, round %d, Accept-Language %s: body %q, Content-Language %q, ETag %q, Cache-Status %q",
						step, round, lang, first, resp.Header.Get("Content-Language"), resp.Header.Get("ETag"), cs)
				}
				if wantDisk && round > 0 && !strings.HasSuffix(cs, "/disk") {
					t.Errorf("%s, round %d, Accept-Language %s: Cache-Status %q, want a disk hit", step, round, lang, cs)
				}
				if status := resp.Header.Get("Vary"); !strings.Contains(status, "Accept-Language") {
					t.Errorf("%s, round %d, Accept-Language %s: Vary %q", step, round, lang, status)
				}
				// The same variant's validator answers 304; another variant's does not.
				if r, _ := review3Do(t, "GET", url, "Accept-Language", lang, "If-None-Match", `"`+lang+`"`); r.StatusCode != http.StatusNotModified {
					t.Errorf("%s, Accept-Language %s, its own ETag: %d, want 304", step, lang, r.StatusCode)
				}
				if r, _ := review3Do(t, "GET", url, "Accept-Language", lang, "If-None-Match", `"zz"`); r.StatusCode != http.StatusOK {
					t.Errorf("%s, Accept-Language %s, another ETag: %d, want 200", step, lang, r.StatusCode)
				}
			}
			if round == 0 {
				n.settleDisk() // the first round's fills reach the disk before hits are required
			}
		}
	}
	n1, _ := review3DiskNodeIn(t, origin.URL, dir, "", Options{})
	check(n1, "first run", true)
	n1.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	before := origin.requests.Load()
	n2, _ := review3DiskNodeIn(t, origin.URL, dir, "", Options{})
	check(n2, "after a restart", true)
	if got := origin.requests.Load() - before; got != 0 {
		t.Errorf("after a restart the origin was asked %d times; want every variant from disk", got)
	}
}

// A reload that changes the route's response field rules reaches hits served from kept
// disk heads at once, and so does one that turns caching off for the route.
func TestReview3_keptHeadAfterReloadOfResponseRules(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	dir := t.TempDir()
	rules := func(v string) string {
		return "    headers: {response: {set: {X-Rule: " + v + "}, remove: [X-Path]}}\n"
	}
	yaml := func(v string, cache bool) string {
		return strings.Replace(oneRoute(cache, o.URL), "fill_timeout: 5s}",
			fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 128MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", dir), 1) +
			rules(v)
	}
	// oneRoute's route is a flow mapping: restate it as a block to give it headers.
	block := func(v string, cache bool) string {
		y := yaml(v, cache)
		return strings.Replace(y, fmt.Sprintf("  - {match: {path_prefix: /}, origin: o, cache: %v}\n", cache),
			fmt.Sprintf("  - match: {path_prefix: /}\n    origin: o\n    cache: %v\n", cache), 1)
	}
	n := startNode(t, block("one", true), Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	url := "http://" + n.HTTPAddr() + "/r/big.bin"
	getRange(t, url, "")
	n.settleDisk()
	for i := range 3 {
		resp, _ := getRange(t, url, "")
		if resp.Header.Get("X-Rule") != "one" || resp.Header.Get("X-Path") != "" || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Fatalf("hit %d before the reload: X-Rule %q, X-Path %q, Cache-Status %q", i, resp.Header.Get("X-Rule"), resp.Header.Get("X-Path"), resp.Header.Get("Cache-Status"))
		}
	}
	if err := reloadConfig(t, n, block("two", true)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		resp, _ := getRange(t, url, "")
		if got := strings.Join(resp.Header.Values("X-Rule"), ","); got != "two" || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Fatalf("hit %d after the reload: X-Rule %q, Cache-Status %q; want two, a disk hit", i, got, resp.Header.Get("Cache-Status"))
		}
	}
	if err := reloadConfig(t, n, block("three", false)); err != nil {
		t.Fatal(err)
	}
	before := o.requests.Load()
	resp, _ := getRange(t, url, "")
	if o.requests.Load() != before+1 || strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Errorf("after a reload that passes the route: Cache-Status %q, origin asked %d times; want a pass", resp.Header.Get("Cache-Status"), o.requests.Load()-before)
	}
}

// Hits on kept heads while the disk tier reclaims segments under them (a tier of 4 MiB in
// 256 KiB segments, refilled by a writer): every answer is its own path's current body, whole,
// whether it came from a kept head, a fresh decoding or the origin. Run with -race.
func TestReview3_keptHeadsWhileSegmentsAreReclaimed(t *testing.T) {
	o := startVersionedOrigin(t, 600, nil)
	yaml := strings.Replace(oneRoute(true, o.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 4MiB, segment_size: 256KiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", t.TempDir()), 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	url := "http://" + n.HTTPAddr()
	var wg sync.WaitGroup
	var bad atomic.Int64
	var served atomic.Int64
	stop := make(chan struct{})
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/churn/%d.bin", (i*7+r)%12)
				resp, err := c.Get(url + path)
				if err != nil {
					bad.Add(1)
					return
				}
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				resp.Body.Close()
				served.Add(1)
				if resp.Header.Get("X-Path") != path || !bytes.Equal(buf.Bytes(), review3Body(path, 1)) {
					bad.Add(1)
				}
			}
		}()
	}
	c := &http.Client{}
	for i := range 70 { // about 5.5 MiB written through a 4 MiB tier
		resp, err := c.Get(fmt.Sprintf("%s/fill/%d.bin", url, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	close(stop)
	wg.Wait()
	st := n.disk.d.Stats()
	t.Logf("%d hits read while %d objects were evicted from the tier", served.Load(), st.Evictions)
	if bad.Load() > 0 {
		t.Fatalf("%d answers were not their path's body", bad.Load())
	}
	if st.Evictions == 0 {
		t.Fatal("the tier evicted nothing: the test did not reclaim segments")
	}
}

// A stale disk object the origin revalidates with 304 and new fields (RFC 9111 section
// 4.3.4) is written again as a new record: later hits, from its kept head, carry the new
// fields and count Age from the revalidation, and never the old record's head.
func TestReview3_keptHeadAfterA304Freshening(t *testing.T) {
	clock := newTestClock()
	var round atomic.Int64
	round.Store(1)
	body := review3Body("/fresh.bin", 1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
		w.Header().Set("ETag", `"same"`)
		w.Header().Set("X-Round", strconv.FormatInt(round.Load(), 10))
		if r.Header.Get("If-None-Match") == `"same"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	n, _ := review3DiskNode(t, origin.URL, Options{Now: clock.Now})
	url := "http://" + n.HTTPAddr() + "/fresh.bin"
	getRange(t, url, "")
	n.settleDisk()
	for range 3 {
		resp, _ := getRange(t, url, "")
		if resp.Header.Get("X-Round") != "1" || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Fatalf("before expiry: X-Round %q, Cache-Status %q", resp.Header.Get("X-Round"), resp.Header.Get("Cache-Status"))
		}
	}
	clock.Add(70 * time.Second)
	round.Store(2)
	resp, b := getRange(t, url, "") // stale: validated with the origin, 304
	if !bytes.Equal(b, body) || resp.Header.Get("X-Round") != "2" {
		t.Fatalf("the revalidated answer: %d bytes, X-Round %q, Cache-Status %q", len(b), resp.Header.Get("X-Round"), resp.Header.Get("Cache-Status"))
	}
	n.settleDisk()
	before := origin.requests.Load()
	clock.Add(5 * time.Second)
	for i := range 3 {
		resp, b := getRange(t, url, "")
		if !bytes.Equal(b, body) || resp.Header.Get("X-Round") != "2" || resp.Header.Get("Age") != "5" ||
			!strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Errorf("hit %d after the 304: %d bytes, X-Round %q, Age %q, Cache-Status %q; want round 2, Age 5, a disk hit",
				i, len(b), resp.Header.Get("X-Round"), resp.Header.Get("Age"), resp.Header.Get("Cache-Status"))
		}
	}
	if got := origin.requests.Load() - before; got != 0 {
		t.Errorf("the origin was asked %d times after the 304", got)
	}
}

// A disk hit written from its kept head's template sends what a field-by-field head sends
// (TestHitHead_sameBytesAsFieldByField for memory hits), for the same stored shapes, route
// rules and requests: here every object is too large for memory (80 KiB, ram_cache_cutoff
// 64KiB), so each hit after the fill is a disk hit from its segment file.
func TestReview3_keptDiskHeadSameBytesAsFieldByField(t *testing.T) {
	clock := newTestClock()
	body := strings.Repeat("d", 80<<10)
	o := hitHeadOrigin(t, clock, body)
	routes := map[string]string{
		"no rules": "",
		"constant rules": `    headers:
      response:
        set: {X-Frame-Options: SAMEORIGIN}
        add: {X-Extra: one}
        remove: [X-Powered-By]
`,
		"rules with a variable": `    headers:
      response:
        set: {X-Served-By: "${node} ${path}"}
`,
	}
	paths := []string{"/plain", "/nocache-field", "/via", "/multi", "/age", "/vary"}
	requests := []struct{ name, head string }{
		{"GET", "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"GET gzip", "GET %s HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"},
		{"HEAD", "HEAD %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"Range", "GET %s HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n"},
		{"HTTP/1.0", "GET %s HTTP/1.0\r\nHost: h\r\n\r\n"},
		{"If-None-Match", "GET %s HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\nConnection: close\r\n\r\n"},
	}
	for name, policy := range routes {
		t.Run(name, func(t *testing.T) {
			cfg := func() string {
				return fmt.Sprintf("node: {name: test-edge}\ncache: {memory: 64MiB, disk: {path: %q, size: 64MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}\n", t.TempDir()) +
					"origins:\n  o: {servers: [{url: " + o.URL + "}]}\n" +
					"routes:\n  - match: {path_prefix: /}\n    origin: o\n    cache: true\n" + policy
			}
			withTemplates := startNode(t, cfg(), Options{Now: clock.Now})
			noHitHeads = true
			fieldByField := startNode(t, cfg(), Options{Now: clock.Now})
			noHitHeads = false
			for _, n := range []*Node{withTemplates, fieldByField} {
				waitDiskReady(t, n)
				for _, p := range paths { // both variants of /vary
					rawResponse(t, n.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
					rawResponse(t, n.HTTPAddr(), "GET "+p+" HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
				}
				n.settleDisk()
			}
			clock.Add(7 * time.Second)
			for _, p := range paths {
				for _, r := range requests {
					raw := strings.Replace(r.head, "%s", p, 1)
					var want, got string
					for range 2 { // the first hit may decode and render, the second copies
						got = rawResponse(t, withTemplates.HTTPAddr(), raw)
						want = rawResponse(t, fieldByField.HTTPAddr(), raw)
					}
					if sameMessage(got) != sameMessage(want) {
						gh, _, _ := strings.Cut(got, "\r\n\r\n")
						wh, _, _ := strings.Cut(want, "\r\n\r\n")
						t.Errorf("%s %s:\ntemplate:\n%s\nfield by field:\n%s", p, r.name, gh, wh)
					}
					if !strings.Contains(got, "; hit; ttl=") || !strings.Contains(got, "/disk") {
						gh, _, _ := strings.Cut(got, "\r\n\r\n")
						t.Errorf("%s %s: not a disk hit:\n%s", p, r.name, gh)
					}
				}
			}
		})
	}
}
