package edge

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
)

// A disk hit's body goes to the socket with sendfile at an explicit offset: exactly the
// object's bytes (whole, or from an offset), never the record that follows it in the
// segment, and the shared segment descriptor's file offset never moves.
func TestDiskFile_sendfileSendsTheObjectOnlyAndLeavesTheSegmentOffset(t *testing.T) {
	d, err := disk.Open(disk.Config{Path: t.TempDir(), Size: 64 << 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	<-d.Loaded()
	want := largeBody(3<<20 + 17)
	now := time.Now()
	for _, k := range []string{"a", "b"} {
		d.Put(disk.Record{Key: k, Head: []byte("head " + k), Body: want, ResponseTime: now, Expires: now.Add(time.Hour)})
	}
	d.Wait()
	for _, start := range []int64{0, 1, 1 << 20} {
		h, err := d.Get("a")
		if err != nil {
			t.Fatal(err)
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
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
		n, err := f.WriteTo(io.Discard) // sent to sock, never to the writer
		c.Close()
		body := <-got
		if err != nil || n != int64(len(want))-start || !bytes.Equal(body, want[start:]) {
			t.Errorf("from %d: sent %d (err %v), received %d bytes, want the object's %d", start, n, err, len(body), int64(len(want))-start)
		}
		if pos, _ := h.File().Seek(0, io.SeekCurrent); pos != 0 {
			t.Errorf("from %d: the shared segment's offset moved to %d", start, pos)
		}
		f.Close()
	}
}
