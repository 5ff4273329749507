package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A frozen owner (SIGSTOP: its kernel still accepts connections, the process answers
// nothing) held every request forwarded to it for cache.fill_timeout and then answered 504,
// though memberlist declared it dead within two seconds. A forward in flight to an owner
// the ring drops now ends at once and the request is served by the next owner (here the
// node asked, or the third); every client gets its object, each object from the origin once.
// Once the ring dropped it, its keys go to their next owner without trying it.
func TestCluster_frozenOwnerIsPassedOverOnceTheRingDropsIt(t *testing.T) {
	originURL, asked := countedObjectOrigin(t)
	procs := launchFrozenThird(t, originURL, "")

	// 30 cold objects through node-1 at once, while node-3 is frozen and still in the ring:
	// about a third are node-3's.
	askThirty(t, procs[0], "/frozen")
	// Once node-1's ring dropped node-3, node-3's keys go to their next owner at once: no
	// forward to node-3 is tried (none fails).
	waitMetric(t, procs[0], "shoal_edge_cluster_members", "2")
	failures := metricLine(t, procs[0], "shoal_edge_forward_failures_total")
	askThirty(t, procs[0], "/dead")
	if got := metricLine(t, procs[0], "shoal_edge_forward_failures_total"); got != failures {
		t.Errorf("forwards failed with node-3 out of the ring: %s, then %s", failures, got)
	}
	fetchedOnceEach(t, asked(), 60)
}

// fetchedOnceEach checks that the origin saw n objects, each asked for once.
func fetchedOnceEach(t *testing.T, counts map[string]int, n int) {
	t.Helper()
	for path, c := range counts {
		if c != 1 {
			t.Errorf("the origin was asked %d times for %s, want 1", c, path)
		}
	}
	if len(counts) != n {
		t.Errorf("the origin saw %d of the %d objects", len(counts), n)
	}
}

// launchFrozenThird starts three processes before originURL (cache.fill_timeout 20s, and the
// failure detector's keys probes in place of loadedHostProbes when not empty, e.g.
// "probe_interval: 10s, probe_timeout: 5s") and freezes the third (SIGSTOP, SIGCONT at
// cleanup).
func launchFrozenThird(t *testing.T, originURL, probes string) []*proc {
	t.Helper()
	procs := launchProcs(t, 3, func(i int, p *proc, join string) string {
		yaml := procYAML(p, join, originURL, "memory: 64MiB, fill_timeout: 20s", "")
		if probes == "" {
			return yaml
		}
		return strings.Replace(yaml, loadedHostProbes, probes, 1)
	})
	frozen := procs[2]
	if err := frozen.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { frozen.cmd.Process.Signal(syscall.SIGCONT) })
	return procs
}

// askThirty asks p for 30 cold objects prefix-N.css at once, each of which must come whole.
func askThirty(t *testing.T, p *proc, prefix string) {
	t.Helper()
	client := &http.Client{Timeout: 40 * time.Second}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("%s-%d.css", prefix, i)
			req, _ := http.NewRequest("GET", "http://"+p.http+path, nil)
			req.Host = "site.example"
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "body of "+path {
				t.Errorf("%s: %d %q (Cache-Status %q), want 200 with its body", path, resp.StatusCode, strings.TrimSpace(string(body)), resp.Header.Get("Cache-Status"))
			}
		}()
	}
	wg.Wait()
}

// metricLine is the value of an unlabelled metric on p's admin port, as text.
func metricLine(t *testing.T, p *proc, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("%s: no %s", p.name, name)
	return ""
}
