package disk

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openSpools counts this process's descriptors on (unlinked) spool files of dir.
func openSpools(dir string) int {
	n := 0
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dir, "spool-")) {
			n++
		}
	}
	return n
}

// A Writer's room follows the body it was told of: a body longer than its announced
// Content-Length is cut off at the first byte too many (the record abandoned, never part
// of a segment), one shorter is dropped at Commit or Abort, and either way the room claimed
// for the announced length comes back whole, once, with the spool's descriptor. Each case
// starts and ends with nothing reserved; the records that were whole are stored, the others
// are not found before or after a restart, and no segment holds a byte of them.
func TestWriter_announcedLengthBoundsTheReservation(t *testing.T) {
	const n = 300 << 10
	type step func(w *Writer, b []byte) bool // writes b its way and commits (or not)
	all := func(chunk int) step {
		return func(w *Writer, b []byte) bool {
			for len(b) > 0 {
				k := min(chunk, len(b))
				if _, err := w.Write(b[:k]); err != nil {
					return false
				}
				b = b[k:]
			}
			return w.Commit()
		}
	}
	for _, tc := range []struct {
		name   string
		length int64 // announced
		body   int   // sent
		send   step
		stored bool
	}{
		{"exact", n, n, all(64 << 10), true},
		{"exact, one chunk", n, n, all(n), true},
		{"empty, announced 0", 0, 0, all(1), true},
		{"longer in the last chunk", n, n + 1, all(64 << 10), false},
		{"longer in one chunk", n, 2 * n, all(2 * n), false},
		{"longer, then more writes", n, n + 10, func(w *Writer, b []byte) bool {
			w.Write(b[:n])
			if _, err := w.Write(b[n : n+5]); err == nil {
				return true // the test fails below: the overrun was taken
			}
			if _, err := w.Write(b[n+5:]); err == nil {
				return true
			}
			return w.Commit()
		}, false},
		{"announced 0, body sent", 0, 10, all(10), false},
		{"shorter, committed", n, n - 1, all(64 << 10), false},
		{"shorter, aborted", n, n / 2, func(w *Writer, b []byte) bool { w.Write(b); w.Abort(); return w.Commit() }, false},
		{"nothing written, committed", n, 0, all(1), false},
		{"unknown length past max_object_size", -1, 5 << 20, all(256 << 10), false},
		{"unknown length, whole", -1, n, all(100000), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Path: dir, Size: 64 << 20, MaxObjectSize: 4 << 20}
			d, _ := open(t, cfg)
			key := "k"
			r := rec(key, tc.body)
			w, ok := d.NewWriter(r, tc.length)
			if !ok {
				t.Fatal("NewWriter refused")
			}
			if d.reserved.Load() <= 0 {
				t.Fatal("NewWriter reserved nothing")
			}
			committed := tc.send(w, r.Body)
			w.Abort()
			if committed != tc.stored {
				t.Fatalf("committed %v, want %v", committed, tc.stored)
			}
			d.Wait()
			if got := d.reserved.Load(); got != 0 {
				t.Errorf("reserved %d bytes after the Writer settled", got)
			}
			if got := openSpools(dir); got != 0 {
				t.Errorf("%d spool files still open", got)
			}
			check := func(when string) {
				h, err := d.Get(key)
				if tc.stored {
					if err != nil {
						t.Fatalf("%s: Get: %v", when, err)
					}
					checkHandle(t, h, key, tc.body)
					h.Close()
					return
				}
				if !errors.Is(err, ErrNotFound) {
					if err == nil {
						h.Close()
					}
					t.Fatalf("%s: Get = %v, want ErrNotFound", when, err)
				}
				if st := d.Stats(); st.Bytes != 0 || st.Objects != 0 {
					t.Fatalf("%s: %d bytes in %d objects on disk", when, st.Bytes, st.Objects)
				}
			}
			check("before restart")
			d.Close()
			d, _ = open(t, cfg)
			defer d.Close()
			check("after restart")
			if st := d.Stats(); st.CutBytes != 0 || st.Corrupt != 0 {
				t.Errorf("after restart: cut %d bytes, %d corrupt", st.CutBytes, st.Corrupt)
			}
		})
	}
}

// A Writer dropped without Commit or Abort (a caller's bug: a panic between the two) gives
// its room and its spool back once it is collected.
func TestWriter_droppedWriterGivesItsRoomBack(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 64 << 20})
	defer d.Close()
	func() {
		w, ok := d.NewWriter(rec("dropped", 0), 1<<20)
		if !ok {
			t.Fatal("NewWriter refused")
		}
		w.Write(make([]byte, 1000))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for d.reserved.Load() != 0 || openSpools(dir) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("reserved %d, %d spools open, 5 s after the Writer was dropped", d.reserved.Load(), openSpools(dir))
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
