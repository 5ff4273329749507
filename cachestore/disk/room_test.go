package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dirBytes is what the tier takes on its file system: the segment files in dir plus the
// unlinked spool files this process holds open (found through /proc/self/fd).
func dirBytes(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segmentExt) {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(target, filepath.Join(dir, "spool-")) {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// A burst of streamed records on a full tier: their spools count against Size with the
// segments, so the directory never holds more than Size, while every Writer is halfway
// through its body at once and while the writer copies spools into segments.
func TestWriter_spoolsCountAgainstSize(t *testing.T) {
	dir := t.TempDir()
	const size = 24 << 20
	d, _ := open(t, Config{Path: dir, Size: size, SegmentSize: 2 << 20, MaxObjectSize: 4 << 20, AdmitFrequency: -1})
	defer d.Close()
	for i := range 40 { // full: reclaim has begun
		d.Put(rec(keyN(i), 1<<20))
		d.Wait()
	}
	if got := dirBytes(dir); got < size-(2<<20) {
		t.Fatalf("tier not full before the burst: %d bytes", got)
	}

	// The directory is read with roomMu held: no claim can then give a segment's room to a
	// spool between the listing of the segments and that of the spools, which would count
	// the same bytes twice (growth within claims already made is what Size must bound).
	var peak atomic.Int64
	sample := func() {
		d.roomMu.Lock()
		b := dirBytes(dir)
		d.roomMu.Unlock()
		for {
			p := peak.Load()
			if b <= p || peak.CompareAndSwap(p, b) {
				return
			}
		}
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			sample()
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	const writers, bodyLen = 12, 3 << 20
	var committed, refused atomic.Int64
	var keys sync.Map
	// Which Writers find room depends on when the writer goroutine reclaims for the refused
	// ones: a burst may end with none committed, so bursts repeat (at most 5) until one has.
	for round := 0; round < 5 && committed.Load() == 0; round++ {
		var half, all sync.WaitGroup
		half.Add(writers)
		for g := range writers {
			all.Add(1)
			go func() {
				defer all.Done()
				key := fmt.Sprintf("s%d-%02d", round, g)
				r := rec(key, bodyLen)
				length := int64(bodyLen)
				if g%2 == 1 {
					length = -1
				}
				w, ok := d.NewWriter(r, length)
				if !ok {
					refused.Add(1)
					half.Done()
					return
				}
				defer w.Abort()
				w.Write(r.Body[:bodyLen/2])
				half.Done()
				half.Wait() // every spool is half written now
				sample()
				w.Write(r.Body[bodyLen/2:])
				if w.Commit() {
					committed.Add(1)
					keys.Store(key, true)
				}
			}()
		}
		all.Wait()
		d.Wait()
	}
	close(done)
	<-sampled
	if p := peak.Load(); p > size {
		t.Errorf("directory held %d bytes, size is %d (%d refused, %d committed)", p, size, refused.Load(), committed.Load())
	}
	if committed.Load() == 0 {
		t.Errorf("no streamed record committed in 5 bursts (%d refused): the test shows nothing", refused.Load())
	}
	keys.Range(func(k, _ any) bool {
		h, err := d.Get(k.(string))
		if err != nil {
			return true // reclaimed by a later one: allowed
		}
		h.Close()
		mustGet(t, d, k.(string), bodyLen)
		return true
	})
	// A refused Writer asks the writer for its room: the same Writer fits once it has run.
	w, ok := d.NewWriter(rec("after", 0), bodyLen)
	if !ok {
		d.Wait()
		w, ok = d.NewWriter(rec("after", 0), bodyLen)
	}
	if !ok {
		t.Error("a Writer refused for room was refused again after the writer made room for it")
	} else {
		w.Abort()
	}
	if r := d.reserved.Load(); r != 0 {
		t.Errorf("%d bytes still reserved after every Writer settled", r)
	}
}
