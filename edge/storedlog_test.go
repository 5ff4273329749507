package edge

import (
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9211 section 2.5: "stored" says the cache stored the response. A chunked miss that
// turns out larger than cache.max_object_size (no disk tier) reaches its clients whole, but
// is not stored: its head had already gone with "stored" (the size was unknown then, and an
// HTTP/1.1 head cannot be taken back), so the access log, written when the body ends, says
// what happened. It logged "stored" before, for the leader and every collapsed follower.
func TestNode_oversizedChunkedMissIsNotLoggedStored(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	var buf syncBuffer
	buf.Write(nil)
	cfg := strings.Replace(oneRoute(true, o.URL), "max_object_size: 8MiB", "max_object_size: 256KiB", 1)
	n := startNode(t, "log: {access: json}\n"+cfg, Options{AccessLog: &buf})
	big := []byte(strings.Repeat("b", 1<<20))
	o.Script("/big.bin", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: big, Framing: testenv.Chunked, Chunk: 16 << 10})
	small := []byte(strings.Repeat("s", 100<<10))
	o.Script("/small.bin", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: small, Framing: testenv.Chunked, Chunk: 16 << 10})
	var wg sync.WaitGroup
	for i := range 4 { // a leader and its collapsed followers
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := strictGet(t, n.HTTPAddr(), "/big.bin")
			if r.err != nil || len(r.body) != len(big) {
				t.Errorf("request %d: %d bytes, err %v", i, len(r.body), r.err)
			}
		}()
	}
	wg.Wait()
	n.bg.Wait()
	logged := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.Contains(line, "/big.bin") {
			continue
		}
		logged++
		if strings.Contains(line, "stored") || !strings.Contains(line, `"result":"miss"`) {
			t.Errorf("logged %s; want a miss, not stored", line)
		}
	}
	if logged != 4 {
		t.Errorf("%d records for 4 requests", logged)
	}
	if r := strictGet(t, n.HTTPAddr(), "/small.bin"); r.err != nil || len(r.body) != len(small) {
		t.Fatalf("small: %d bytes, err %v", len(r.body), r.err)
	}
	if e := loggedEntry(t, &buf, "/small.bin"); !strings.Contains(e.CacheStatus, "stored") {
		t.Errorf("a chunked miss that fits is logged %q; want stored", e.CacheStatus)
	}

	// The same over HTTP/2 (h2c): the record waits for the stream's end there too.
	var buf2 syncBuffer
	buf2.Write(nil)
	n2 := startNode(t, "log: {access: json}\nlisten: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\"}\n"+cfg, Options{AccessLog: &buf2})
	c := h2cClient()
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + n2.H2CAddr() + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != len(big) || !strings.Contains(resp.Header.Get("Cache-Status"), "stored") {
		t.Fatalf("h2c: %d bytes, err %v, Cache-Status %q", len(body), err, resp.Header.Get("Cache-Status"))
	}
	if e := loggedEntry(t, &buf2, "/big.bin"); strings.Contains(e.CacheStatus, "stored") || e.Result != "miss" {
		t.Errorf("h2c: logged %q %q; want a miss, not stored", e.Result, e.CacheStatus)
	}
}
