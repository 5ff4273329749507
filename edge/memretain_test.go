package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// heapInuse is the heap still reachable after the collector ran.
func heapInuse() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// settledHeapGrowth waits (at most a second) for the heap to come back within bound of base, as
// handlers finish closing their streams after the client has its last byte, and returns the
// growth it last saw.
func settledHeapGrowth(base, bound int64) int64 {
	var grew int64
	for deadline := time.Now().Add(time.Second); ; {
		if grew = heapInuse() - base; grew <= bound || time.Now().After(deadline) {
			return grew
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// largeUnstoredOrigin is nginx with 8 MiB objects that are not stored for each reason a fill
// has (no-store, a cookie, larger than cache.max_object_size of oneRoute's 8 MiB) and 8 MiB
// objects that are, and 16 MiB ones stored under a larger limit (/stored16/).
func largeUnstoredOrigin(t *testing.T) *testenv.Nginx {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
location /nostore/ { add_header Cache-Control no-store; }
location /cookie/ { expires 60s; add_header Set-Cookie session=1; }
location /big/ { expires 60s; }
location /stored/ { expires 60s; }
location /stored16/ { expires 60s; }
`})
	body := string(largeBody(8 << 20))
	for i := range 4 {
		for _, d := range []string{"nostore", "cookie", "stored"} {
			ngx.WriteFile(fmt.Sprintf("%s/%d", d, i), body)
		}
		ngx.WriteFile(fmt.Sprintf("big/%d", i), body+body[:1<<20])
	}
	for i := range 2 {
		ngx.WriteFile(fmt.Sprintf("stored16/%d", i), body+body)
	}
	return ngx
}

// Issue 15 (RSS at most 1.15x cache.memory): four concurrent 8 MiB misses that are not stored
// leave nothing behind once their clients are gone. A stopped fill timer (the runtime drops it
// from its heap lazily) kept the fill's Call, and the Call the whole body, so up to 8 MiB per
// recent miss stayed in use after GC.
func TestFill_largeUnstoredMissesLeaveNoHeap(t *testing.T) {
	ngx := largeUnstoredOrigin(t)
	n := startNode(t, oneRoute(true, ngx.URL), Options{Logger: testLogger(t)})
	base := "http://" + n.HTTPAddr()
	get(t, base+"/health.html")
	before := heapInuse()
	for _, d := range []string{"nostore", "cookie", "big"} {
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				resp, err := c.Get(fmt.Sprintf("%s/%s/%d", base, d, i))
				if err != nil {
					t.Error(err)
					return
				}
				k, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if k < 8<<20 || strings.Contains(resp.Header.Get("Cache-Status"), "stored") {
					t.Errorf("/%s/%d: %d bytes, Cache-Status %q: want the whole body, not stored", d, i, k, resp.Header.Get("Cache-Status"))
				}
			}()
		}
		wg.Wait()
		n.bg.Wait()
		if grew := settledHeapGrowth(before, 2<<20); grew > 2<<20 {
			t.Errorf("after 4 concurrent 8 MiB /%s/ misses and GC, %.1f MiB more heap in use than before", d, float64(grew)/(1<<20))
		}
	}
}

// A stored object costs its body and no more: the body the store keeps is one allocation of
// its length, which is what the store charges for. Before, the fill's appends left a 16 MiB
// body in a 19 MiB buffer (two such misses grew the heap by 39.4 MiB); a chunked body, whose
// length nobody knew, now gets at most an eighth spare.
func TestFill_storedBodyHasNoSpareCapacity(t *testing.T) {
	ngx := largeUnstoredOrigin(t)
	chunk := largeBody(64 << 10)
	chunked := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		for range 150 { // 9.4 MiB, past a size class boundary of append's growth
			w.Write(chunk)
			w.(http.Flusher).Flush()
		}
	})
	yaml := strings.Replace(oneRoute(true, ngx.URL), "memory: 64MiB, max_object_size: 8MiB", "memory: 128MiB, max_object_size: 16MiB", 1)
	yaml = strings.Replace(yaml, "routes:\n", "  chunked:\n    servers: [{url: "+chunked.URL+"}]\nroutes:\n  - {match: {path_prefix: /chunked}, origin: chunked, cache: true}\n", 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	base := "http://" + n.HTTPAddr()
	for _, path := range []string{"/stored16/0", "/stored/0", "/chunked"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !strings.Contains(resp.Header.Get("Cache-Status"), "stored") {
			t.Fatalf("%s: Cache-Status %q, want stored", path, resp.Header.Get("Cache-Status"))
		}
		n.bg.Wait()
		obj, ok := n.store.Get(base + path)
		if !ok {
			t.Fatalf("%s: not in the store", path)
		}
		spare := cap(obj.Body) - len(obj.Body)
		switch {
		case int64(len(obj.Body)) != k:
			t.Errorf("%s: stored %d bytes, served %d", path, len(obj.Body), k)
		case path != "/chunked" && spare != 0:
			t.Errorf("%s: a %d-byte body with Content-Length stored with %d bytes spare", path, len(obj.Body), spare)
		case spare > len(obj.Body)/8:
			t.Errorf("%s: a %d-byte chunked body stored with %d bytes spare", path, len(obj.Body), spare)
		}
	}
}

// Slow clients of a miss that will not be stored hold a window each, not the body: with four
// clients stalled after the head, the fill stops reading the origin a window ahead of them
// instead of pulling all 4 x 8 MiB into memory.
func TestFill_stalledClientsOfAnUnstoredMissHoldAWindow(t *testing.T) {
	ngx := largeUnstoredOrigin(t)
	n := startNode(t, oneRoute(true, ngx.URL), Options{Logger: testLogger(t)})
	get(t, "http://"+n.HTTPAddr()+"/health.html")
	before := heapInuse()
	var conns []net.Conn
	for i := range 4 {
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /nostore/%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.Contains(line, " 200 ") {
			t.Fatalf("status line %q, %v", line, err)
		}
	}
	// The clients read nothing more: wait until the fills stop reading the origin.
	last := -1.0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		var m dto.Metric
		n.metrics.bytesIn.Write(&m)
		if v := m.GetCounter().GetValue(); v != last {
			last = v
			continue
		}
		break
	}
	grew := heapInuse() - before
	t.Logf("4 stalled clients: %.1f MiB of heap, %.0f origin bytes read", float64(grew)/(1<<20), last)
	if grew > 12<<20 {
		t.Errorf("4 stalled clients of unstored 8 MiB misses hold %.1f MiB of heap (origin bytes read: %.0f), want a few windows", float64(grew)/(1<<20), last)
	}
	for _, c := range conns {
		c.Close()
	}
}
