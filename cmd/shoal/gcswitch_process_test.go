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

// TestGCSwitch_aFullStoreTurnsGOGCOffInTheProcess: a shoal process whose store fills logs
// that the collector now runs only at the memory limit, and its /metrics says GOGC is off
// (go_gc_gogc_percent, off). Before that, it says 100.
func TestGCSwitch_aFullStoreTurnsGOGCOffInTheProcess(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	// The process inherits the environment: a GOGC or GOMEMLIMIT of the one running the
	// tests would turn the switch off (an empty value is unset to the switch and the runtime).
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: "location / { expires 600s; }"})
	for i := range 48 {
		ng.WriteFile(fmt.Sprintf("gc-%d.bin", i), strings.Repeat("g", 1<<20))
	}
	httpAddr, admin := testenv.FreePort(t), testenv.FreePort(t)
	// cache.memory 64MiB with objects up to 2 MiB: a store of 32 MiB under a 96 MiB limit
	// (memoryPolicyFor).
	cfg := fmt.Sprintf(`listen: {http: %q, admin: %q}
node: {name: gc-edge}
cache: {memory: 64MiB, max_object_size: 2MiB}
origins:
  o: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /}, origin: o, cache: true}
`, httpAddr, admin, ng.URL)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	os.WriteFile(file, []byte(cfg), 0o644)
	_, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")
	gogc := func() string {
		resp, err := http.Get("http://" + admin + "/metrics")
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
	if v := gogc(); v != "100" {
		t.Fatalf("an empty store: go_gc_gogc_percent %s, want 100", v)
	}
	for i := range 48 { // 48 MiB through a 32 MiB store
		resp, err := http.Get(fmt.Sprintf("http://%s/gc-%d.bin", httpAddr, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitForLog(t, logs, "store full: the collector now runs only at the memory limit")
	// runtime/metrics reports GOGC as an unsigned integer: off (-1) reads 2^64-1.
	off := func() bool { v, err := strconv.ParseFloat(gogc(), 64); return err == nil && (v < 0 || v > 1e18) }
	for deadline := time.Now().Add(5 * time.Second); !off(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a full store: go_gc_gogc_percent %s, want off (-1, read as 2^64-1)", gogc())
		}
	}
}
