package edge

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
	"golang.org/x/sys/unix"
)

// A disk hit's body in the page cache is sent by sendfileResident (no hand-off of the P);
// one whose pages the device must read again takes the ordinary system call. Either way the
// client gets exactly the object's bytes. On tmpfs every page is resident.
func TestDiskFile_sendfileHoldsThePOnlyForResidentPages(t *testing.T) {
	for _, base := range []string{"", "/dev/shm"} {
		name := "tmpdir"
		if base != "" {
			name = "tmpfs"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if base != "" {
				var err error
				if dir, err = os.MkdirTemp(base, "shoal-resident-"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
			}
			d, err := disk.Open(disk.Config{Path: dir, Size: 64 << 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			<-d.Loaded()
			want := largeBody(1<<20 + 17)
			now := time.Now()
			d.Put(disk.Record{Key: "a", Head: []byte("head"), Body: want, ResponseTime: now, Expires: now.Add(time.Hour)})
			d.Wait()

			var calls []bool
			testHookSendfile = func(_ int64, resident bool) { calls = append(calls, resident) }
			defer func() { testHookSendfile = nil }()
			for _, drop := range []bool{false, true} {
				h, err := d.Get("a")
				if err != nil {
					t.Fatal(err)
				}
				if drop {
					dropPages(t, h, base == "")
				}
				wantResident := h.Resident(0, h.BodyLength())
				if !drop && !wantResident {
					t.Fatal("a record just written is not resident")
				}
				calls = calls[:0]
				body, n, err := sendfileOver(t, h)
				if err != nil || n != int64(len(want)) || !bytes.Equal(body, want) {
					t.Fatalf("pages dropped %v: sent %d (err %v), received %d bytes, want %d", drop, n, err, len(body), len(want))
				}
				if len(calls) == 0 || calls[0] != wantResident {
					t.Errorf("pages dropped %v (resident %v): sendfile calls made resident %v", drop, wantResident, calls)
				}
				if drop && base == "" && wantResident {
					t.Errorf("the record's pages are resident after being dropped on %s", dir)
				}
			}
		})
	}
}

// dropPages writes h's segment back and asks the kernel to drop its pages from the page
// cache, as memory pressure would; tmpfs keeps them (its pages are the file). Pages still
// in another CPU's LRU batch are not dropped at the first asking, so it asks again when retry
// is set (not on tmpfs, whose pages stay).
func dropPages(t *testing.T, h *disk.Handle, retry bool) {
	t.Helper()
	f := h.File()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
		if !retry || !h.Resident(0, h.BodyLength()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sendfileOver sends h's body to a loopback connection with diskFile.WriteTo and returns
// what the other end read; it closes h.
func sendfileOver(t *testing.T, h *disk.Handle) ([]byte, int64, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := ln.Accept()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := &diskFile{h: h, f: h.File(), off: h.BodyOffset(), n: h.BodyLength(), sock: c.(*net.TCPConn)}
	n, err := f.WriteTo(io.Discard)
	c.Close()
	f.Close()
	return <-got, n, err
}
