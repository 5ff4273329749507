package disk

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestDisk_restartServesEverythingWithRemainingFreshness(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 1 << 20}
	d, _ := open(t, cfg)
	const n = 300
	expires := map[string]time.Time{}
	for i := range n {
		r := rec(keyN(i), i*97)
		r.Expires = time.Now().Add(time.Duration(i+1) * time.Minute).Round(0)
		r.Tags = []string{"t" + strconv.Itoa(i%7)}
		expires[r.Key] = r.Expires
		d.Put(r)
		if i%32 == 0 {
			d.Wait()
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, _ = open(t, cfg)
	defer d.Close()
	for i := range n {
		k := keyN(i)
		h, err := d.Get(k)
		if err != nil {
			t.Fatalf("after restart Get(%s): %v", k, err)
		}
		checkHandle(t, h, k, i*97)
		if !h.Expires.Equal(expires[k]) || h.RequestTime.IsZero() || h.ResponseTime.IsZero() {
			t.Fatalf("%s: expires %v want %v; times %v %v", k, h.Expires, expires[k], h.RequestTime, h.ResponseTime)
		}
		if len(h.Tags) != 1 || h.Tags[0] != "t"+strconv.Itoa(i%7) || h.URL != "http://www.example.com/"+k {
			t.Fatalf("%s: tags %v url %s", k, h.Tags, h.URL)
		}
		h.Close()
	}
}

func TestDisk_getSaysNotYetWhileLoading(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 16 << 20})
	d.Put(rec("a", 1000))
	d.Close()

	fs := &faultFS{gate: make(chan struct{})}
	d, err := Open(Config{Path: dir, Size: 16 << 20, Logger: quietLogger(), fs: fs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Get("a"); !errors.Is(err, ErrLoading) {
		t.Fatalf("Get while loading: %v, want ErrLoading", err)
	}
	// Puts are taken while loading: they go to a new segment.
	if !d.Put(rec("b", 10)) {
		t.Fatal("Put while loading dropped")
	}
	close(fs.gate)
	<-d.Loaded()
	d.Wait()
	mustGet(t, d, "a", 1000)
	mustGet(t, d, "b", 10)
}

// TestDisk_tornTailNeverServed cuts the last record of the newest segment mid-body, as a
// crash during an append leaves it, and appends garbage after a whole record.
func TestDisk_tornTailNeverServed(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(t *testing.T, path string, size int64)
	}{
		{"cut mid-body", func(t *testing.T, path string, size int64) { os.Truncate(path, size-1000) }},
		{"cut mid-header", func(t *testing.T, path string, size int64) { os.Truncate(path, size-(5000+headerSize-10)) }},
		{"zeros after the end", func(t *testing.T, path string, size int64) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 300))
			f.Close()
		}},
		{"last body byte flipped", func(t *testing.T, path string, size int64) {
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			b := make([]byte, 1)
			f.ReadAt(b, size-1)
			b[0] ^= 0xff
			f.WriteAt(b, size-1)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Path: dir, Size: 16 << 20}
			d, _ := open(t, cfg)
			for i := range 10 {
				d.Put(rec(keyN(i), 5000))
			}
			d.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
			last := segs[len(segs)-1]
			fi, _ := os.Stat(last)
			tc.tear(t, last, fi.Size())

			d, _ = open(t, cfg)
			defer d.Close()
			for i := range 9 {
				mustGet(t, d, keyN(i), 5000)
			}
			if tc.name == "zeros after the end" {
				mustGet(t, d, keyN(9), 5000)
			} else if h, err := d.Get(keyN(9)); err == nil {
				h.Close()
				t.Fatal("the torn record was served")
			}
			// The tail was cut: a restart after more writes does not trip on it again.
			d.Put(rec("after", 10))
			d.Close()
			d, _ = open(t, cfg)
			mustGet(t, d, "after", 10)
			mustGet(t, d, keyN(8), 5000)
		})
	}
}

func TestDisk_corruptBodyDroppedOnFirstRead(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20}
	d, _ := open(t, cfg)
	for i := range 40 { // several segments, so the corrupted one is sealed, not the newest
		d.Put(rec(keyN(i), 100<<10))
		d.Wait()
	}
	h, _ := d.Get(keyN(0))
	off := h.BodyOffset() + 12345
	path := h.seg.path
	h.Close()
	d.Close()
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 1
	f.WriteAt(b, off)
	f.Close()

	d, reg := open(t, cfg)
	defer d.Close()
	if _, err := d.Get(keyN(0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("first read of a corrupted body: %v, want ErrCorrupt", err)
	}
	if _, err := d.Get(keyN(0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second read: %v, want ErrNotFound (dropped)", err)
	}
	if v := gauge(t, reg, "shoal_cachestore_disk_corrupt_total"); v != 1 {
		t.Fatalf("corrupt_total %v", v)
	}
	for i := 1; i < 40; i++ {
		mustGet(t, d, keyN(i), 100<<10)
	}
}

const crashEnv = "SHOAL_DISK_CRASH_DIR"

// crashSize is the body size of record i of the crash child: 1 KiB to 1 MiB, so a kill often
// lands inside a body.
func crashSize(i int) int { return 1<<10 + (i*7919)%(1<<20) }

// TestDisk_crashChild is the child of TestDisk_sigkillMidBurstServesNothingTorn: it writes
// until it is killed, printing how many Puts it queued.
func TestDisk_crashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("the child of TestDisk_sigkillMidBurstServesNothingTorn")
	}
	faults := os.Getenv(crashFaultsEnv) != ""
	// Writes go out in 16 KiB syscalls, as the kernel may split a large one, so a kill
	// lands inside a record's bytes often rather than only between records.
	fs := chunkFS{fail: &atomic.Bool{}}
	d, err := Open(Config{Path: dir, Size: 48 << 20, SegmentSize: 4 << 20, Logger: quietLogger(), fs: fs,
		RetryInterval: time.Millisecond, RetryMaxInterval: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.syncEvery = 1 << 20 // sync checkpoints inside segments: the next load verifies past the last one only
	<-d.Loaded()
	start := time.Now()
	for i := 0; time.Since(start) < time.Minute; i++ { // bounded, should the parent die first
		switch {
		case faults && i%40 == 39:
			// The device fails in the middle of a record (its first 16 KiB written), and is
			// well again at once: the tier turns off and comes back, reloading its index,
			// while the burst goes on.
			fs.fail.Store(true)
			d.Put(rec(keyN(i), crashSize(i)))
			d.Wait()
			fs.fail.Store(false)
		case faults && i%3 == 0:
			streamRec(d, keyN(i), crashSize(i))
		default:
			d.Put(rec(keyN(i), crashSize(i)))
		}
		if i%8 == 7 {
			fmt.Println(i + 1)
		}
	}
}

func TestDisk_sigkillMidBurstServesNothingTorn(t *testing.T) { sigkillMidBurst(t, false) }

// The same with streamed records in the burst and a device that fails mid-record every 40
// records and recovers at once: a kill lands before, during or after the tier's reload.
func TestDisk_sigkillMidBurstWithFaultsServesNothingTorn(t *testing.T) { sigkillMidBurst(t, true) }

const crashFaultsEnv = "SHOAL_DISK_CRASH_FAULTS"

func sigkillMidBurst(t *testing.T, faults bool) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 48 << 20, SegmentSize: 4 << 20}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDisk_crashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		if faults {
			cmd.Env = append(cmd.Env, crashFaultsEnv+"=1")
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		target := 40 + round*25 // a different moment each round, and past at least one reclaim
		queued := 0
		for sc.Scan() {
			if queued, _ = strconv.Atoi(sc.Text()); queued >= target {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if queued < target {
			t.Fatalf("round %d: the child stopped after %d Puts", round, queued)
		}

		d, _ := open(t, cfg)
		served := 0
		for i := range queued + 200 {
			h, err := d.Get(keyN(i))
			if err != nil {
				continue
			}
			checkHandle(t, h, keyN(i), crashSize(i)) // fails on any torn or foreign byte
			h.Close()
			served++
		}
		s := d.Stats()
		d.Close()
		t.Logf("round %d: killed after %d Puts queued; %d served byte-exact, %d objects, %d bytes, %d bytes of torn tail cut", round, queued, served, s.Objects, s.Bytes, s.CutBytes)
		if served == 0 || int64(served) != s.Objects {
			t.Fatalf("round %d: served %d of %d indexed", round, served, s.Objects)
		}
	}
}

// chunkFS writes in 16 KiB pieces; while fail is set, a write fails with EIO after its first
// piece, as a device failing mid-record.
type chunkFS struct{ fail *atomic.Bool }

func (fs chunkFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return chunkFile{f, fs.fail}, nil
}

type chunkFile struct {
	*os.File
	fail *atomic.Bool
}

func (f chunkFile) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 {
		if n > 0 && f.fail != nil && f.fail.Load() {
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.EIO}
		}
		m, err := f.File.WriteAt(p[:min(len(p), 16<<10)], off)
		n += m
		if err != nil {
			return n, err
		}
		p, off = p[m:], off+int64(m)
	}
	return n, nil
}
