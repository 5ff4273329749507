package edge

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
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
		body, n, err := sendfileOver(t, h, start)
		if err != nil || n != int64(len(want))-start || !bytes.Equal(body, want[start:]) {
			t.Errorf("from %d: sent %d (err %v), received %d bytes, want the object's %d", start, n, err, len(body), int64(len(want))-start)
		}
		if pos, _ := h.File().Seek(0, io.SeekCurrent); pos != 0 {
			t.Errorf("from %d: the shared segment's offset moved to %d", start, pos)
		}
		h.Close()
	}
}

// A disk hit's body that cannot be read from its segment turns the tier off, by sendfile as
// by pread, as a failed Get does; a client that goes away mid-body does not.
func TestDiskFile_aFailedSegmentReadTurnsTheTierOffAGoneClientDoesNot(t *testing.T) {
	open := func(size int) (*disk.Disk, *disk.Handle, []byte) {
		d, err := disk.Open(disk.Config{Path: t.TempDir(), Size: 64 << 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		<-d.Loaded()
		want := largeBody(size)
		now := time.Now()
		d.Put(disk.Record{Key: "a", Head: []byte("head"), Body: want, ResponseTime: now, Expires: now.Add(time.Hour)})
		d.Wait()
		h, err := d.Get("a")
		if err != nil {
			t.Fatal(err)
		}
		return d, h, want
	}
	// socket returns the server side of a loopback connection whose client reads limit bytes
	// and then resets it (limit < 0: reads to the end).
	socket := func(limit int) *net.TCPConn {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			// Small buffers on both sides, so the body cannot all be in flight when the
			// client resets.
			dialer := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10) })
			}}
			c, err := dialer.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			if limit < 0 {
				io.Copy(io.Discard, c)
			} else {
				io.CopyN(io.Discard, c, int64(limit))
				c.(*net.TCPConn).SetLinger(0)
			}
			c.Close()
		}()
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.(*net.TCPConn).SetWriteBuffer(8 << 10)
		return c.(*net.TCPConn)
	}

	t.Run("client resets mid-body", func(t *testing.T) {
		d, h, _ := open(3 << 20)
		f := &diskFile{h: h, f: h.File(), off: h.BodyOffset(), n: h.BodyLength(), sock: socket(64 << 10)}
		if _, err := f.WriteTo(io.Discard); err == nil {
			t.Fatal("sendfile to a reset connection succeeded")
		}
		f.Close()
		if d.Disabled() {
			t.Error("a client that went away turned the disk tier off")
		}
	})
	for _, viaSendfile := range []bool{true, false} {
		t.Run(fmt.Sprintf("segment cut short, sendfile %v", viaSendfile), func(t *testing.T) {
			d, h, want := open(3 << 20)
			if err := h.File().Truncate(h.BodyOffset() + 1000); err != nil {
				t.Fatal(err)
			}
			f := &diskFile{h: h, f: h.File(), off: h.BodyOffset(), n: h.BodyLength()}
			var out bytes.Buffer
			if viaSendfile {
				f.sock = socket(-1)
			}
			n, err := f.WriteTo(&out)
			f.Close()
			if err == nil || n != 1000 {
				t.Errorf("sent %d bytes with err %v, want the 1000 the segment still has and an error", n, err)
			}
			if !viaSendfile && !bytes.Equal(out.Bytes(), want[:1000]) {
				t.Error("the bytes copied before the failure are not the object's")
			}
			if !d.Disabled() {
				t.Error("a segment shorter than its record left the disk tier on")
			}
		})
	}
}
