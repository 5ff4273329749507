package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/shoal-cdn/shoal/loadtest"
)

// proc is one `shoal run` process of a test cluster.
type proc struct {
	name, http, admin, gossip string
	file                      string // its YAML
	cmd                       *exec.Cmd
	exited                    chan error
	done                      chan struct{} // closed when the process has exited
	log                       *testLog
}

// startProcCluster runs size real shoal processes on loopback, all joined to the first.
func startProcCluster(t *testing.T, size int, originURL string) []*proc {
	t.Helper()
	return launchProcs(t, size, func(i int, p *proc, join string) string {
		return procYAML(p, join, originURL, "memory: 64MiB", "")
	})
}

// procYAML is a member's YAML for launchProcs: one cached route to originURL, cache keys
// (inside cache: {...}) and extra top-level lines. The failure detector is set as
// conf.Cluster advises for heavily loaded hosts (probe_timeout 500ms): under -race on
// two shared cores the LAN default's 100 ms probes fail between live members, which then
// flap in and out of the ring during tests that are about something else.
func procYAML(p *proc, join, originURL, cache, extra string) string {
	return fmt.Sprintf(`node: {name: %s}
listen: {http: %q, admin: %q, peer: "127.0.0.1:0"}
log: {access: "off", level: warn}
cache: {%s}
cluster: {bind: %q, join: %s, secret_file: gossip.key, %s}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
%s`, p.name, p.http, p.admin, cache, p.gossip, join, loadedHostProbes, originURL, extra)
}

// loadedHostProbes are the failure detector's keys in procYAML's cluster map.
const loadedHostProbes = "probe_interval: 1s, probe_timeout: 500ms"

// launchProcs starts size `shoal run` processes named node-1..N with free loopback ports,
// node i's YAML from config (join is the YAML list of the first node's gossip address; a
// gossip.key sits beside the files), and waits until each is ready and sees all the others.
func launchProcs(t *testing.T, size int, config func(i int, p *proc, join string) string) []*proc {
	t.Helper()
	bin := testenv.ShoalBinary(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gossip.key"), []byte("process-cluster-secret-0123456789"), 0o600)
	var procs []*proc
	for i := 0; i < size; i++ {
		p := &proc{name: fmt.Sprintf("node-%d", i+1), http: testenv.FreePort(t), admin: testenv.FreePort(t), gossip: testenv.FreePort(t)}
		join := "[]"
		if i > 0 {
			join = "[\"" + procs[0].gossip + "\"]"
		}
		p.file = filepath.Join(dir, p.name+".yaml")
		os.WriteFile(p.file, []byte(config(i, p, join)), 0o644)
		p.start(t, bin)
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited }) // the process running then
		waitProcReady(t, p)
		procs = append(procs, p)
	}
	for _, p := range procs {
		waitMetric(t, p, "shoal_edge_cluster_members", fmt.Sprint(size))
	}
	return procs
}

// start runs `shoal run -c p.file` from bin, its stderr in the test log.
func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	p.cmd = exec.Command(bin, "run", "-c", p.file)
	p.log = &testLog{t: t, prefix: p.name}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, done := make(chan error, 1), make(chan struct{})
	p.exited, p.done = exited, done
	cmd := p.cmd
	go func() { err := cmd.Wait(); close(done); exited <- err }()
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	waitReady(t, url, nil, nil)
}

// waitProcReady waits up to 30 s for p's /readyz to answer 200, and fails at once, with the
// process's last lines of stderr, if it exits first (a start-up error is printed, not logged).
func waitProcReady(t *testing.T, p *proc) {
	t.Helper()
	waitReady(t, "http://"+p.admin+"/readyz", p.done, p.log)
}

// waitReady polls url until it answers 200, for up to 30 s or until exited is closed (a nil
// channel never is); a failure quotes log's last lines when there is a log.
func waitReady(t *testing.T, url string, exited <-chan struct{}, log *testLog) {
	t.Helper()
	last := func() string {
		if log == nil {
			return "(not kept)"
		}
		return log.lastLines()
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("the process behind %s exited before it was ready; its last lines:\n%s", url, last())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready within 30 s; the process's last lines:\n%s", url, last())
}

func waitMetric(t *testing.T, p *proc, name, value string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + p.admin + "/metrics"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "\n"+name+" "+value+"\n") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %s never reached %s", p.name, name, value)
}

// testLog forwards a process's stderr to the test log while the test runs.
type testLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	tail   []string // the last testLogTail lines, whatever their level, for a failure message
}

const testLogTail = 20

func (l *testLog) lastLines() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.tail, "\n")
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		l.tail = append(l.tail, line)
		if len(l.tail) > testLogTail {
			l.tail = l.tail[1:]
		}
	}
	if !l.t.Failed() {
		for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				l.t.Logf("%s: %s", l.prefix, line)
			}
		}
	}
	return len(p), nil
}

// loadUntil sends GETs for the 300 keys /obj/<n> through the given nodes in turn, 200 a second
// with loadtest (vegeta's attacker) and at most 32 in flight, until stop is closed, and counts
// requests and failures (any error, non-200 or wrong body). The cap is there because these
// race-built processes share two cores with the other packages' tests in CI: an open loop
// with no cap piles requests up on a starved machine until they time out in the client's
// queue, which says nothing about the leave or kill under test.
func loadUntil(t *testing.T, nodes []*proc, stop <-chan struct{}, done, failed *atomic.Int64) *sync.WaitGroup {
	ks := loadtest.KeySpace{Header: http.Header{"Host": {"site.example"}}}
	for _, n := range nodes {
		ks.Bases = append(ks.Bases, "http://"+n.http)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		go func() {
			<-stop
			cancel()
		}()
		err := loadtest.Attack(ctx, loadtest.Config{Name: "cluster", Pacer: loadtest.PerSecond(200), MaxWorkers: 32,
			Options: []func(*vegeta.Attacker){vegeta.Timeout(10 * time.Second)}}, loadtest.HitTargeter(ks, 300),
			func(r *vegeta.Result) error {
				u, _ := url.Parse(r.URL)
				if r.Code != 200 || u == nil || string(r.Body) != "body of "+u.Path {
					failed.Add(1)
					t.Logf("bad answer for %s: %d %q %s", r.URL, r.Code, r.Body, r.Error)
				}
				done.Add(1)
				return nil
			})
		if err != nil {
			t.Error(err)
		}
	}()
	return &wg
}

func objectOrigin(t *testing.T) string {
	url, _ := countedObjectOrigin(t)
	return url
}

// countedObjectOrigin is objectOrigin that also counts the requests for each path.
func countedObjectOrigin(t *testing.T) (url string, asked func() map[string]int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

func waitCount(counter *atomic.Int64, n int64) {
	for start := counter.Load(); counter.Load() < start+n; {
		time.Sleep(5 * time.Millisecond)
	}
}

// A node killed with SIGKILL under load: its keys move to the next owners and no request
// through the survivors fails.
func TestCluster_nodeKilledUnderLoadFailsNoRequest(t *testing.T) {
	procs := startProcCluster(t, 3, objectOrigin(t))
	var done, failed atomic.Int64
	stop := make(chan struct{})
	wg := loadUntil(t, procs[:2], stop, &done, &failed)
	waitCount(&done, 500)
	killed := time.Now()
	procs[2].cmd.Process.Signal(syscall.SIGKILL)
	for _, p := range procs[:2] {
		waitMetric(t, p, "shoal_edge_cluster_members", "2")
	}
	t.Logf("the ring dropped the killed node %v after the kill", time.Since(killed).Round(time.Millisecond))
	waitCount(&done, 500)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed", done.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed around the kill", failed.Load(), done.Load())
	}
}

// SIGTERM: the node announces draining, finishes what it has, leaves, and exits 0; nothing
// sent through the other nodes fails.
func TestCluster_gracefulLeaveFailsNoRequest(t *testing.T) {
	procs := startProcCluster(t, 3, objectOrigin(t))
	var done, failed atomic.Int64
	stop := make(chan struct{})
	wg := loadUntil(t, procs[:2], stop, &done, &failed)
	waitCount(&done, 500)
	procs[2].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-procs[2].exited:
		procs[2].exited <- err
		if err != nil {
			t.Errorf("the leaving node exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the leaving node did not exit within 30 s")
	}
	for _, p := range procs[:2] {
		waitMetric(t, p, "shoal_edge_cluster_members", "2")
	}
	waitCount(&done, 500)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed", done.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed around the graceful leave", failed.Load(), done.Load())
	}
}
