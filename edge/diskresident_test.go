package edge

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A disk hit's body in the page cache is sent by sendfileResident (no hand-off of the P);
// one whose pages the device must read again takes the ordinary system call. Either way the
// client gets exactly the object's bytes. On tmpfs every page is resident.
func TestDiskFile_sendfileHoldsThePOnlyForResidentPages(t *testing.T) {
	testenv.OnEachFileSystem(t, func(t *testing.T, dir string, tmpfs bool) {
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
				var gone func() bool
				if !tmpfs {
					gone = func() bool { return !h.Resident(0, h.BodyLength()) }
				}
				testenv.DropPageCache(t, h.File(), gone)
			}
			wantResident := h.Resident(0, h.BodyLength())
			if !drop && !wantResident {
				t.Fatal("a record just written is not resident")
			}
			calls = calls[:0]
			body, n, err := sendfileOver(t, h, 0)
			h.Close()
			if err != nil || n != int64(len(want)) || !bytes.Equal(body, want) {
				t.Fatalf("pages dropped %v: sent %d (err %v), received %d bytes, want %d", drop, n, err, len(body), len(want))
			}
			if len(calls) == 0 || calls[0] != wantResident {
				t.Errorf("pages dropped %v (resident %v): sendfile calls made resident %v", drop, wantResident, calls)
			}
			if drop && !tmpfs && wantResident {
				t.Errorf("the record's pages are resident after being dropped on %s", dir)
			}
		}
	})
}

// sendfileOver sends h's body from start to a loopback connection with diskFile.WriteTo
// (sendfile: never to the writer it is given) and returns what the other end read. The
// caller closes h.
func sendfileOver(t *testing.T, h *disk.Handle, start int64) ([]byte, int64, error) {
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
	f := &diskFile{h: h, f: h.File(), off: h.BodyOffset() + start, n: h.BodyLength() - start, sock: c.(*net.TCPConn)}
	n, err := f.WriteTo(io.Discard)
	c.Close()
	return <-got, n, err
}
