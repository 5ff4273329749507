package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// body returns n bytes that depend on key and n only, so any byte served can be checked
// against what was written without keeping a copy.
func body(key string, n int) []byte {
	b := make([]byte, n+8)
	s := xxhash.Sum64String(key)
	for i := 0; i < n; i += 8 {
		s = s*6364136223846793005 + 1442695040888963407
		binary.LittleEndian.PutUint64(b[i:], s)
	}
	return b[:n]
}

func head(key string) []byte { return []byte("HTTP/1.1 200 OK\r\nX-Key: " + key + "\r\n\r\n") }

func rec(key string, n int) Record {
	now := time.Now()
	return Record{Key: key, URL: "http://www.example.com/" + key, Head: head(key), Body: body(key, n),
		RequestTime: now.Add(-time.Millisecond), ResponseTime: now, Expires: now.Add(time.Hour)}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open opens a tier on a fresh registry and waits for its index.
func open(t testing.TB, cfg Config) (*Disk, *prometheus.Registry) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	reg := prometheus.NewRegistry()
	d, err := Open(cfg, reg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	<-d.Loaded()
	return d, reg
}

// mustGet reads key back and compares head and body with what rec(key, n) wrote, through
// both the File/offset pair that sendfile uses and the ReadAt path.
func mustGet(t testing.TB, d *Disk, key string, n int) {
	t.Helper()
	h, err := d.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer h.Close()
	checkHandle(t, h, key, n)
}

func checkHandle(t testing.TB, h *Handle, key string, n int) {
	t.Helper()
	if !bytes.Equal(h.Head, head(key)) {
		t.Fatalf("%s: head %q", key, h.Head)
	}
	if h.BodyLength() != int64(n) {
		t.Fatalf("%s: body length %d, want %d", key, h.BodyLength(), n)
	}
	got, err := io.ReadAll(h.Body())
	if err != nil || !bytes.Equal(got, body(key, n)) {
		t.Fatalf("%s: body differs (err %v, %d bytes)", key, err, len(got))
	}
	if f := h.File(); f != nil {
		raw := make([]byte, n)
		if _, err := f.ReadAt(raw, h.BodyOffset()); err != nil && n > 0 || !bytes.Equal(raw, body(key, n)) {
			t.Fatalf("%s: body at File offset %d differs (err %v)", key, h.BodyOffset(), err)
		}
	}
}

func gauge(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.Gauge != nil {
				return m.Gauge.GetValue()
			}
			return m.Counter.GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// faultFS wraps the OS's files: reads can be held at a gate, and writes or reads can fail
// with EIO, as a dying disk does.
type faultFS struct {
	gate       chan struct{} // nil: reads pass; else each ReadAt waits for it to close
	failWrites atomic.Bool
	failReads  atomic.Bool
}

func (fs *faultFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: fs}, nil
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if f.fs.gate != nil {
		<-f.fs.gate
	}
	if f.fs.failReads.Load() {
		return 0, &os.PathError{Op: "read", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.ReadAt(p, off)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.failWrites.Load() {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.WriteAt(p, off)
}

func keyN(i int) string { return fmt.Sprintf("k%06d", i) }

// streamRec stores rec(key, n) through a Writer, its body in 64 KiB writes, and reports
// whether it was committed.
func streamRec(d *Disk, key string, n int) bool {
	r := rec(key, n)
	w, ok := d.NewWriter(Record{Key: r.Key, URL: r.URL, Head: r.Head, RequestTime: r.RequestTime,
		ResponseTime: r.ResponseTime, Expires: r.Expires}, int64(n))
	if !ok {
		return false
	}
	for b := r.Body; len(b) > 0; b = b[min(len(b), 64<<10):] {
		if _, err := w.Write(b[:min(len(b), 64<<10)]); err != nil {
			return false
		}
	}
	return w.Commit()
}

// checkDisabled checks the tier is off the way the request path needs it: Get misses with
// ErrDisabled, Put drops, the gauge says so, Close works.
func checkDisabled(t *testing.T, d *Disk, disabledGauge float64) {
	t.Helper()
	if !d.Disabled() || disabledGauge != 1 {
		t.Fatalf("tier not disabled (Disabled %v, gauge %v)", d.Disabled(), disabledGauge)
	}
	if _, err := d.Get("anything"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Get on a disabled tier: %v", err)
	}
	if d.Put(rec("x", 10)) {
		t.Fatal("Put on a disabled tier was queued")
	}
	d.AddBan(Ban{Kind: BanAll}) // must not fail or block
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
