package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// diskOrigin serves /obj/<n>: a body of size bytes that depends on n and on the current
// version of n's tag (t<n%4>), Cache-Control max-age=600 and Surrogate-Key t<n%4>. It
// counts the requests per path.
type diskOrigin struct {
	url      string
	size     int
	mu       sync.Mutex
	fetches  map[string]int
	versions [4]atomic.Int64
}

func startDiskOrigin(t *testing.T, size int) *diskOrigin {
	o := &diskOrigin{size: size, fetches: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/obj/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		o.mu.Lock()
		o.fetches[r.URL.Path]++
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Surrogate-Key", fmt.Sprintf("t%d", n%4))
		w.Write(o.body(n))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	o.url = "http://" + ln.Addr().String()
	return o
}

// body is object n's expected bytes at its tag's current version: every 8-byte word names
// the object, the version and its own offset, so a torn or misplaced read never matches.
// Every 16th object is 4x the size, above what a disk hit copies into memory (it is sent
// from the segment file).
func (o *diskOrigin) body(n int) []byte {
	v := o.versions[n%4].Load()
	size := o.size
	if n%16 == 0 {
		size *= 4
	}
	b := make([]byte, 0, size)
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, "%03x%01x%05x", n%4096, v%16, i%(1<<20))
	}
	return b[:size]
}

func (o *diskOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fetches[path]
}

func (o *diskOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	sum := 0
	for _, c := range o.fetches {
		sum += c
	}
	return sum
}

// diskNode is one `shoal run` process with a disk tier, restartable on the same files.
type diskNode struct {
	t      *testing.T
	proc   *proc
	config string
	done   chan struct{} // closed when the current process has exited
}

func diskConfig(p *proc, dir, originURL, cluster string) string {
	return fmt.Sprintf(`node: {name: %s}
listen: {http: %q, admin: %q, peer: "127.0.0.1:0"}
log: {access: "off", level: warn}
cache:
  memory: 2MiB
  max_object_size: 1MiB
  disk: {path: %q, size: 48MiB, segment_size: 2MiB, admit_frequency: -1}
%s
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
`, p.name, p.http, p.admin, dir, cluster, originURL)
}

func (d *diskNode) start() {
	t := d.t
	p := d.proc
	p.cmd = exec.Command(testenv.ShoalBinary(t), "run", "-c", d.config)
	p.log = &testLog{t: t, prefix: p.name}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	d.done, p.done = done, done
	cmd := p.cmd
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	waitProcReady(t, p)
}

func (d *diskNode) stop(sig syscall.Signal) {
	d.proc.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.t.Fatalf("%s did not exit after %v", d.proc.name, sig)
	}
}

// diskStatsOf reads cache.disk of /stats.json.
func diskStatsOf(t *testing.T, p *proc) (objects int64, memObjects int64, state string) {
	t.Helper()
	resp, err := http.Get("http://" + p.admin + "/stats.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Cache struct {
			Objects int64 `json:"objects"`
			Disk    *struct {
				State   string `json:"state"`
				Objects int64  `json:"objects"`
			} `json:"disk"`
		} `json:"cache"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Cache.Disk == nil {
		t.Fatal("/stats.json has no cache.disk")
	}
	return s.Cache.Disk.Objects, s.Cache.Objects, s.Cache.Disk.State
}

func waitDiskReady(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, state := diskStatsOf(t, p); state == "ready" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: disk tier not ready within 20 s", p.name)
}

// getObject fetches /obj/n through p and returns its body and Cache-Status.
func getObject(t *testing.T, p *proc, n int) ([]byte, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/obj/%d", p.http, n), nil)
	req.Host = "site.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /obj/%d: %v", n, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /obj/%d: %d %v", n, resp.StatusCode, err)
	}
	return body, resp.Header.Get("Cache-Status")
}

// readAll reads /obj/0..count-1 through p and fails on any byte that differs from the
// origin's current version. It returns how many answers came from the disk tier.
func readAll(t *testing.T, p *proc, o *diskOrigin, count int) int {
	t.Helper()
	fromDisk := 0
	for n := range count {
		body, status := getObject(t, p, n)
		if want := o.body(n); !bytes.Equal(body, want) {
			t.Fatalf("/obj/%d: %d bytes that differ from the origin's %d (Cache-Status %q)", n, len(body), len(want), status)
		}
		if strings.Contains(status, "/disk") {
			fromDisk++
		}
	}
	return fromDisk
}

// waitTiers waits until memory and disk together hold at least want objects: evictions
// reach the disk through its write queue, after the responses.
func waitTiers(t *testing.T, p *proc, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		disk, mem, _ := diskStatsOf(t, p)
		if disk+mem >= want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	disk, mem, _ := diskStatsOf(t, p)
	t.Fatalf("%s: memory %d + disk %d objects, want at least %d", p.name, mem, disk, want)
}

// One node, cache.memory 2 MiB and 8 MiB of objects: all of them are served again without
// an origin fetch, from memory or disk; the same after a restart by SIGTERM; and after a
// SIGKILL in the middle of a fill burst every object read back has the origin's bytes (no
// torn record is served) and the objects written before the burst still need no fetch.
func TestDisk_workingSetFourTimesMemorySurvivesRestarts(t *testing.T) {
	const objects, size = 80, 96 << 10 // 8.9 MiB, over 4x 2 MiB: every 16th object is 4x larger
	o := startDiskOrigin(t, size)
	dir := t.TempDir()
	p := &proc{name: "disk-1", http: testenv.FreePort(t), admin: testenv.FreePort(t)}
	cfgFile := filepath.Join(t.TempDir(), "disk-1.yaml")
	os.WriteFile(cfgFile, []byte(diskConfig(p, dir, o.url, "")), 0o644)
	node := &diskNode{t: t, proc: p, config: cfgFile}
	node.start()
	waitDiskReady(t, p)

	readAll(t, p, o, objects)
	if got := o.total(); got != objects {
		t.Fatalf("first pass: %d origin fetches, want %d", got, objects)
	}
	waitTiers(t, p, objects)
	if fromDisk := readAll(t, p, o, objects); fromDisk < objects/2 {
		t.Errorf("second pass: %d of %d answers from disk; memory holds at most a quarter", fromDisk, objects)
	}
	if got := o.total(); got != objects {
		t.Fatalf("second pass: %d origin fetches in all, want still %d", got, objects)
	}

	node.stop(syscall.SIGTERM)
	node.start()
	waitDiskReady(t, p)
	if fromDisk := readAll(t, p, o, objects); fromDisk < objects/2 {
		t.Errorf("after SIGTERM: %d of %d answers from disk", fromDisk, objects)
	}
	if got := o.total(); got != objects {
		t.Fatalf("after SIGTERM: %d origin fetches in all, want still %d", got, objects)
	}
	// A range of a large object, served from its segment file, and one past its end.
	for _, c := range []struct {
		rng    string
		status int
		want   []byte
	}{{"bytes=1000-300999", 206, o.body(16)[1000:301000]}, {"bytes=-10", 206, o.body(32)[len(o.body(32))-10:]}, {"bytes=9999999-", 416, nil}} {
		n := 16
		if c.rng == "bytes=-10" {
			n = 32
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/obj/%d", p.http, n), nil)
		req.Host = "site.example"
		req.Header.Set("Range", c.rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.want != nil && !bytes.Equal(body, c.want)) || !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
			t.Errorf("Range %s of /obj/%d: %d, %d bytes (Cache-Status %q)", c.rng, n, resp.StatusCode, len(body), resp.Header.Get("Cache-Status"))
		}
	}
	waitTiers(t, p, objects)

	// A fill burst of new objects, killed in its middle.
	const burst = 24
	var wg sync.WaitGroup
	var sent atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := objects + w; n < objects+burst; n += 4 {
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/obj/%d", p.http, n), nil)
				req.Host = "site.example"
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the node is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
			}
		}()
	}
	for sent.Load() < burst/3 {
		time.Sleep(time.Millisecond)
	}
	node.stop(syscall.SIGKILL)
	wg.Wait()
	before := make([]int, objects)
	for n := range objects {
		before[n] = o.count(fmt.Sprintf("/obj/%d", n))
	}
	node.start()
	waitDiskReady(t, p)
	readAll(t, p, o, objects+burst)
	for n := range objects {
		if got := o.count(fmt.Sprintf("/obj/%d", n)); got != before[n] {
			t.Errorf("after SIGKILL: /obj/%d fetched again from the origin", n)
		}
	}
}

// Three nodes with disk tiers; one is stopped, a purge by tag is made through another, the
// origin changes the tagged objects, and the stopped node comes back on its old disk: it
// never serves a purged copy (its persisted objects meet the purge through the catch-up
// from its peers before they are served), while it still serves the others from disk.
func TestDisk_purgeWhileDownIsAppliedBeforeServing(t *testing.T) {
	const objects, size = 120, 64 << 10 // 8 MiB over three 2 MiB memories
	o := startDiskOrigin(t, size)
	tokenDir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(tokenDir, "purge.token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	os.WriteFile(filepath.Join(tokenDir, "gossip.key"), []byte("process-cluster-secret-0123456789"), 0o600)
	var nodes []*diskNode
	for i := range 3 {
		p := &proc{name: fmt.Sprintf("node-%d", i+1), http: testenv.FreePort(t), admin: testenv.FreePort(t), gossip: testenv.FreePort(t)}
		join := "[]"
		if i > 0 {
			join = "[\"" + nodes[0].proc.gossip + "\"]"
		}
		cluster := fmt.Sprintf("cluster: {bind: %q, join: %s, secret_file: %s}\npurge: {token_file: %s, allow: [127.0.0.0/8]}",
			p.gossip, join, filepath.Join(tokenDir, "gossip.key"), tokenFile)
		cfgFile := filepath.Join(tokenDir, p.name+".yaml")
		os.WriteFile(cfgFile, []byte(diskConfig(p, t.TempDir(), o.url, cluster)), 0o644)
		d := &diskNode{t: t, proc: p, config: cfgFile}
		d.start()
		nodes = append(nodes, d)
	}
	for _, d := range nodes {
		waitMetric(t, d.proc, "shoal_edge_cluster_members", "3")
		waitDiskReady(t, d.proc)
	}
	down := nodes[1]
	readAll(t, nodes[0].proc, o, objects)
	readAll(t, nodes[2].proc, o, objects)
	waitTiers(t, down.proc, 1)
	diskBefore, _, _ := diskStatsOf(t, down.proc)
	if diskBefore == 0 {
		t.Fatalf("%s has nothing on disk before the stop", down.proc.name)
	}

	down.stop(syscall.SIGTERM)
	req, _ := http.NewRequest("POST", "http://"+nodes[0].proc.admin+"/purge", strings.NewReader(`{"key": "t1"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("purge: %d %s", resp.StatusCode, body)
	}
	o.versions[1].Add(1) // the origin changes what t1 tags
	// The purge also travels by gossip, retransmitted a few times over some 100 ms; once
	// that is over (no broadcast left queued on the running nodes), only the catch-up from
	// the peers' ban logs can tell the node about it.
	for _, d := range []*diskNode{nodes[0], nodes[2]} {
		waitMetric(t, d.proc, "shoal_ring_broadcasts_queued", "0")
	}

	down.start()
	waitMetric(t, down.proc, "shoal_edge_cluster_members", "3")
	waitDiskReady(t, down.proc)
	// Every node, the restarted one first, serves the new version of every t1 object.
	fetches := o.total()
	fromDisk := readAll(t, down.proc, o, objects)
	for _, d := range nodes {
		readAll(t, d.proc, o, objects)
	}
	if fromDisk == 0 {
		t.Errorf("%s served nothing from its disk after the restart", down.proc.name)
	}
	if extra := o.total() - fetches; extra > objects/4+objects/8 {
		t.Errorf("%d origin fetches after the restart; the purged quarter (%d) and little more expected", extra, objects/4)
	}
}

// `shoal check` tries the disk tier's directory: a missing one fails with the key, an
// existing writable one passes.
func TestRun_checkTriesTheDiskPath(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path string
		code int
	}{{filepath.Join(dir, "missing"), 1}, {dir, 0}} {
		file := filepath.Join(t.TempDir(), "shoal.yaml")
		os.WriteFile(file, []byte(fmt.Sprintf("listen: {http: \"127.0.0.1:0\"}\ncache:\n  disk: {path: %q, size: 64MiB}\n", c.path)), 0o644)
		var stdout, stderr bytes.Buffer
		code := run([]string{"check", "-c", file}, &stdout, &stderr)
		if code != c.code || (c.code != 0 && !strings.Contains(stderr.String(), "cache.disk.path")) {
			t.Errorf("check with cache.disk.path %s: exit %d, stderr %q; want exit %d naming cache.disk.path", c.path, code, stderr.String(), c.code)
		}
	}
}
