package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// gcNode is a shoal process in front of nginx serving files gc-0.bin ... of 1 MiB each.
type gcNode struct {
	t           *testing.T
	http, admin string
	logs        <-chan string
}

// startGCNode starts a shoal process with cache.memory memory (objects up to 2 MiB) before
// an nginx holding files 1 MiB files, and waits until it has started.
func startGCNode(t *testing.T, memory string, files int) *gcNode {
	bin := testenv.ShoalBinary(t)
	// The process inherits the environment: a GOGC or GOMEMLIMIT of the one running the
	// tests would turn the switch off (an empty value is unset to the switch and the runtime).
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: "location / { expires 600s; }"})
	for i := range files {
		ng.WriteFile(fmt.Sprintf("gc-%d.bin", i), strings.Repeat("g", 1<<20))
	}
	n := &gcNode{t: t, http: testenv.FreePort(t), admin: testenv.FreePort(t)}
	cfg := fmt.Sprintf(`listen: {http: %q, admin: %q}
node: {name: gc-edge}
cache: {memory: %s, max_object_size: 2MiB}
origins:
  o: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /}, origin: o, cache: true}
`, n.http, n.admin, memory, ng.URL)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	os.WriteFile(file, []byte(cfg), 0o644)
	_, n.logs = runLogged(t, bin, file)
	waitForLog(t, n.logs, "edge started")
	return n
}

// gogc is the process's go_gc_gogc_percent as /metrics says it.
func (n *gcNode) gogc() string {
	t := n.t
	resp, err := http.Get("http://" + n.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_gc_gogc_percent "); ok {
			return v
		}
	}
	t.Fatal("no go_gc_gogc_percent in /metrics")
	return ""
}

// fetch asks for files gc-0.bin ... gc-(files-1).bin once each.
func (n *gcNode) fetch(files int) {
	for i := range files {
		resp, err := http.Get(fmt.Sprintf("http://%s/gc-%d.bin", n.http, i))
		if err != nil {
			n.t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// waitGOGC waits until ok holds for go_gc_gogc_percent, for at most 5 s.
func (n *gcNode) waitGOGC(ok func(string) bool, want string) {
	n.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(n.gogc()); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			n.t.Fatalf("go_gc_gogc_percent %s, want %s", n.gogc(), want)
		}
	}
}

// TestGCSwitch_aFullStoreTurnsGOGCOffInTheProcess: a shoal process whose store fills logs
// that the collector now runs only at the memory limit, and its /metrics says GOGC is off
// (go_gc_gogc_percent, off). Before that, it says 100.
func TestGCSwitch_aFullStoreTurnsGOGCOffInTheProcess(t *testing.T) {
	// cache.memory 64MiB with objects up to 2 MiB: a store of 32 MiB under a 96 MiB limit
	// (memoryPolicyFor).
	n := startGCNode(t, "64MiB", 48)
	if v := n.gogc(); v != "100" {
		t.Fatalf("an empty store: go_gc_gogc_percent %s, want 100", v)
	}
	n.fetch(48) // 48 MiB through a 32 MiB store
	waitForLog(t, n.logs, "store full: the collector now runs only at the memory limit")
	// runtime/metrics reports GOGC as an unsigned integer: off (-1) reads 2^64-1.
	n.waitGOGC(func(v string) bool { f, err := strconv.ParseFloat(v, 64); return err == nil && (f < 0 || f > 1e18) },
		"off (-1, read as 2^64-1)")
}

// TestGCSwitch_aLargeStoreLowersGOGCInTheProcess: a store that holds more than 16 MiB and is
// not full runs at a lower GOGC (the collector's headroom is not a second copy of the cache),
// 50 for this one (32 MiB of headroom is more than half of its 40 MiB heap), and says so in
// its log and /metrics.
func TestGCSwitch_aLargeStoreLowersGOGCInTheProcess(t *testing.T) {
	// cache.memory 256MiB: a store of 208 MiB (memoryPolicyFor, the executable counted), full
	// (GOGC off) from 195 MiB.
	n := startGCNode(t, "256MiB", 24)
	if v := n.gogc(); v != "100" {
		t.Fatalf("an empty store: go_gc_gogc_percent %s, want 100", v)
	}
	n.fetch(24) // 24 MiB stored
	waitForLog(t, n.logs, "store holds most of the heap: GOGC lowered")
	n.waitGOGC(func(v string) bool { return v == "50" }, "50")
}
