package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
)

// Two records of one key can carry the same response time: it is the wall clock when the
// response arrived, which NTP can step back and which a coarse clock repeats, and the copy
// of a record (reclaim's reinsertion, a peer's adopted object) keeps it. So the revalidation
// of a stale disk copy whose body stayed on disk must find that very record again, not any
// record of the key with the same response time: here the record is replaced, while the
// origin is asked, by one of the same key and response time and another body, and the
// origin's 304 (which validates the body the node held, RFC 9111 section 4.3.4) must not
// be sent with that other body. Before staleDiskBody matched by Record(), the client got
// the other body under the validated head.
func TestDiskTier_revalidationServesTheRecordItValidatedNotOneOfTheSameResponseTime(t *testing.T) {
	validated := bytes.Repeat([]byte("validated body "), 300<<10/15) // above the promote size: disk-bodied
	other := bytes.Repeat([]byte("another record "), 300<<10/15)
	asked, answer := make(chan struct{}), make(chan struct{})
	var conditionals atomic.Int64
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"a"`)
		w.Header().Set("Cache-Control", "max-age=5")
		if r.Header.Get("If-None-Match") == `"a"` {
			if conditionals.Add(1) == 1 {
				close(asked)
				<-answer
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(validated))) // above ram_cache_cutoff: disk only
		w.Write(validated)
	})
	yaml := strings.Replace(oneRoute(true, o.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 64MiB, admit_frequency: -1, ram_cache_cutoff: 128KiB}}", t.TempDir()), 1)
	var behind atomic.Int64 // the node's clock runs this far behind, so its fill is stale at once
	behind.Store(int64(10 * time.Second))
	n := startNode(t, yaml, Options{Logger: testLogger(t), Now: func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) }})
	waitDiskReady(t, n)
	url := "http://" + n.HTTPAddr() + "/a.bin"
	if status, _, body := get(t, url, "Host", "www.example.test"); status != 200 || body != string(validated) {
		t.Fatalf("fill: %d, %d bytes", status, len(body))
	}
	d := n.disk.d
	n.settleDisk()
	keys := d.KeysWithPrefix("", 2)
	if len(keys) != 1 {
		t.Fatalf("disk keys %q, want the one object", keys)
	}
	behind.Store(0)

	type result struct {
		status int
		h      http.Header
		body   string
	}
	got := make(chan result, 1)
	go func() {
		status, h, body := get(t, url, "Host", "www.example.test")
		got <- result{status, h, body}
	}()
	select {
	case <-asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the stale disk copy was not revalidated")
	}
	h, err := d.Get(keys[0])
	if err != nil {
		close(answer)
		t.Fatal(err)
	}
	d.Put(disk.Record{Key: h.Key, URL: h.URL, Tags: h.Tags, Head: h.Head, Body: other,
		RequestTime: h.RequestTime, ResponseTime: h.ResponseTime, Expires: h.Expires})
	h.Close()
	d.Wait()
	if h, err := d.Get(keys[0]); err != nil {
		t.Fatal(err)
	} else {
		b := make([]byte, 16)
		h.ReadAt(b, 0)
		h.Close()
		if !bytes.Equal(b, other[:16]) {
			t.Fatalf("the replacing record was not indexed: %q", b)
		}
	}
	close(answer)
	r := <-got
	if r.status != 200 || r.body != string(validated) {
		which := "neither"
		if r.body == string(other) {
			which = "the replacing record's"
		}
		t.Errorf("after the 304: %d, %d bytes (%s body), Cache-Status %q; want the validated body (%d bytes)",
			r.status, len(r.body), which, r.h.Get("Cache-Status"), len(validated))
	}
}
