package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The memory policy never gives the store less than the largest object the configuration
// stores (cache.max_object_size, at most cache.memory): the store refuses an object over its
// budget after the fill has said "stored", so such an object was fetched from the origin on
// every request. The limit then leaves storeReserve above the store, as everywhere else.
func TestMemoryPolicyFor_storeHoldsTheLargestObject(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		memory, maxObject conf.Size
		limit, store      int64
	}{
		{1 * mib, 1 * mib, 65 * mib, 1 * mib},
		{64 * mib, 64 * mib, 128 * mib, 64 * mib}, // cache.memory 64MiB with the default max_object_size
		{65 * mib, 64 * mib, 128 * mib, 64 * mib},
		{100 * mib, 8 * mib, 114 * mib, 50 * mib},                               // below about 102 MiB: half; a small max_object_size changes nothing
		{110 * mib, 8 * mib, 110*mib + 110*mib/8, 110*mib + 110*mib/8 - 64*mib}, // above it: 1.125x less the reserve
		{256 * mib, 64 * mib, 288 * mib, 224 * mib},                             // nor does one the store holds anyway
	} {
		got := memoryPolicyFor(conf.Cache{Memory: tc.memory, MaxObjectSize: tc.maxObject}, 0)
		if got.limit != tc.limit || got.store != tc.store {
			t.Errorf("cache.memory %s, max_object_size %s: limit %d MiB, store %d MiB; want %d, %d",
				tc.memory, tc.maxObject, got.limit/mib, got.store/mib, tc.limit/mib, tc.store/mib)
		}
	}
}

// The same through a real process: with a small cache.memory and the default
// max_object_size (or one equal to cache.memory), an object no larger than max_object_size
// is still in the cache a moment after it was filled. Before, the policy gave the store half
// of cache.memory and such objects went to the origin on every request while each fill
// said "stored".
func TestMemoryPolicy_objectsUpToMaxObjectSizeStayCached(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: "location / { expires 600s; }"})
	for _, tc := range []struct {
		memory, maxObject string
		size              int
	}{
		{"1MiB", "1MiB", 768 << 10},
		{"64MiB", "", 40 << 20}, // the default max_object_size, 64MiB
		{"65MiB", "", 48 << 20},
	} {
		t.Run(tc.memory, func(t *testing.T) {
			name := fmt.Sprintf("obj-%s.bin", tc.memory)
			ng.WriteFile(name, strings.Repeat("m", tc.size))
			httpAddr, admin := testenv.FreePort(t), testenv.FreePort(t)
			maxObject := ""
			if tc.maxObject != "" {
				maxObject = ", max_object_size: " + tc.maxObject
			}
			cfg := fmt.Sprintf(`listen: {http: %q, admin: %q}
node: {name: mem-edge}
cache: {memory: %s%s}
origins:
  o: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /}, origin: o, cache: true}
`, httpAddr, admin, tc.memory, maxObject, ng.URL)
			file := filepath.Join(t.TempDir(), "shoal.yaml")
			os.WriteFile(file, []byte(cfg), 0o644)
			_, logs := runLogged(t, bin, file)
			waitForLog(t, logs, "edge started")
			get := func() string {
				resp, err := http.Get("http://" + httpAddr + "/" + name)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if n != int64(tc.size) {
					t.Fatalf("%d bytes of %d", n, tc.size)
				}
				return resp.Header.Get("Cache-Status")
			}
			get() // the fill
			// The client has the fill's last byte before the fill stores the object: ask again
			// until a hit, bounded. A store that refused the object never gives one.
			cs := get()
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(cs, "; hit") && time.Now().Before(deadline); cs = get() {
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(cs, "; hit") {
				t.Errorf("cache.memory %s, a %d KiB object: Cache-Status %q for 10 s after its fill; want a hit",
					tc.memory, tc.size>>10, cs)
			}
		})
	}
}

// GOMEMLIMIT wins over the derived limit and the store keeps all of cache.memory; when that
// limit leaves the store no room (below cache.memory plus the reserve), the collector runs
// nearly all the time once the cache fills. The operator who set it is told at start, in one
// log line naming GOMEMLIMIT, instead of finding it in the CPU graph.
func TestMemoryPolicy_gomemlimitBelowTheCacheIsLogged(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	for _, tc := range []struct {
		limit string
		warn  bool
	}{{"64MiB", true}, {"4GiB", false}} {
		t.Run(tc.limit, func(t *testing.T) {
			httpAddr, admin := testenv.FreePort(t), testenv.FreePort(t)
			cfg := fmt.Sprintf("listen: {http: %q, admin: %q}\nnode: {name: mem-edge}\ncache: {memory: 256MiB}\n"+
				"origins:\n  o: {servers: [{url: \"http://127.0.0.1:9\"}]}\nroutes:\n  - {match: {path_prefix: /}, origin: o, cache: true}\n",
				httpAddr, admin)
			file := filepath.Join(t.TempDir(), "shoal.yaml")
			os.WriteFile(file, []byte(cfg), 0o644)
			t.Setenv("GOMEMLIMIT", tc.limit)
			_, logs := runLogged(t, bin, file)
			warned := false
			for line := range logs {
				if strings.Contains(line, "GOMEMLIMIT") && strings.Contains(line, "WARN") {
					warned = true
				}
				if strings.Contains(line, "edge started") {
					break
				}
			}
			if warned != tc.warn {
				t.Errorf("GOMEMLIMIT=%s with cache.memory 256MiB: warned %v, want %v", tc.limit, warned, tc.warn)
			}
		})
	}
}
