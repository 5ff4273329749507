package edge

import (
	"io"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WriteTo sends the body to b.sock with sendfile(2) when handleHTTP1 found one (w's buffer
// has been flushed by then), and otherwise copies it to w with pread(2): fasthttp's
// fixed-size writer passes an *io.LimitedReader on to its bufio.Writer, and *net.TCPConn's
// own ReadFrom would only sendfile from the descriptor's shared offset, which diskFile
// never implements syscall.Conn to allow.
func (b *diskFile) WriteTo(w io.Writer) (int64, error) {
	defer b.uncork()
	if b.sock != nil {
		k, err := b.sendfile(b.sock, b.n)
		if err != errNoSendfile {
			if err == nil && b.n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return k, err
		}
	}
	lr := &io.LimitedReader{R: b, N: b.n}
	var k int64
	var err error
	if rf, ok := w.(io.ReaderFrom); ok {
		k, err = rf.ReadFrom(lr)
	} else {
		k, err = io.Copy(writerOnly{w}, lr)
	}
	if err == nil && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return k, err
}

// writerOnly hides every method but Write, so io.Copy does not call ReadFrom again.
type writerOnly struct{ io.Writer }

// testHookSendfile, when set (by tests, before any node starts), learns how many bytes each
// sendfile call sent, and whether they were resident (sent by sendfileResident).
var testHookSendfile func(sent int64, resident bool)

// errNoSendfile: the connection or the file has no descriptor to sendfile between; the
// caller copies instead.
var errNoSendfile = unix.EINVAL

// sendfile sends up to limit bytes of b to the socket of sc, waiting in the poller while the
// socket buffer is full, and advances b by what was sent.
func (b *diskFile) sendfile(sc syscall.Conn, limit int64) (int64, error) {
	dst, err := sc.SyscallConn()
	if err != nil {
		return 0, errNoSendfile
	}
	src, err := b.f.SyscallConn()
	if err != nil {
		return 0, errNoSendfile
	}
	// Asked once per call, not per loop: a range that was resident when the call began and
	// lost a page meanwhile costs one wait for the device with the P held, no more.
	resident := b.h.Resident(b.off-b.h.BodyOffset(), min(limit, b.n))
	var sent int64
	var serr error
	cerr := src.Control(func(in uintptr) {
		werr := dst.Write(func(out uintptr) bool {
			if testHookCork != nil && sent == 0 {
				testHookCork("sendfile", isCorked(out))
			}
			for sent < limit && b.n > 0 {
				off := b.off
				count := int(min(limit-sent, b.n, 1<<30))
				var k int
				var err error
				if resident {
					k, err = sendfileResident(out, in, &off, count)
				} else {
					k, err = unix.Sendfile(int(out), int(in), &off, count)
				}
				if k > 0 {
					sent += int64(k)
					b.off += int64(k)
					b.n -= int64(k)
				}
				switch {
				case err == unix.EAGAIN:
					return false // wait until the socket is writable
				case err == unix.EINTR:
				case err != nil:
					serr = err
					return true
				case k == 0:
					serr = io.ErrUnexpectedEOF // the file is shorter than the record says
					return true
				}
			}
			return true
		})
		if serr == nil {
			serr = werr
		}
	})
	if serr == nil {
		serr = cerr
	}
	if sent == 0 && serr == unix.EINVAL {
		return 0, errNoSendfile
	}
	if serr == unix.EIO || serr == io.ErrUnexpectedEOF {
		// The segment's side failed (sendfile(2) gives EIO for a failed read of in_fd; a
		// short file is a torn or truncated segment): the tier goes off, as for a failed
		// pread. A client that went away (EPIPE, ECONNRESET) says nothing about the disk.
		b.h.ReadFailed(serr)
	}
	if testHookSendfile != nil {
		testHookSendfile(sent, resident)
	}
	return sent, serr
}

// sendfileResident is sendfile(2) for a range of the page cache, made without telling the
// Go scheduler (a raw system call), as nginx makes it from its event loop.
//
// Why: a system call made the ordinary way that lasts past one sysmon tick (20 µs) has its P
// handed to another thread when no P is idle, as with GOMAXPROCS=1 or every P busy, and a
// 256 KiB sendfile over loopback lasts longer than that (it runs the receiver's TCP input
// too). Each hand-off wakes a spinning thread, which parks again, and keeps sysmon waking
// every 20 µs: measured 0.24-0.53 context switches per 256 KiB disk hit, 0.03-0.05 this way,
// and CPU per hit 47-51 against 42 µs (scripts/profile-disk-hit.sh rps).
//
// Only for resident ranges (disk.Handle.Resident): on a non-blocking socket the call never
// waits for the socket (EAGAIN), and from the page cache it waits for no device, so it holds
// the P no longer than the copy of references it makes. A range the device must read takes
// the ordinary call, so a slow disk stalls one goroutine, not its P.
func sendfileResident(out, in uintptr, off *int64, count int) (int, error) {
	k, _, e := unix.RawSyscall6(unix.SYS_SENDFILE, out, in, uintptr(unsafe.Pointer(off)), uintptr(count), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(k), nil
}
