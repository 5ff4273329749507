package edge

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReadFrom passes the connection's own ReadFrom through the wrapper: fasthttp writes a
// streamed body through bufio.Writer.ReadFrom, which reaches *net.TCPConn.ReadFrom, and so
// sendfile(2) for an *os.File, only if every wrapper on the way has ReadFrom. Embedding
// net.Conn (an interface) does not promote it.
//
// A disk hit's body (a *diskFile inside the *io.LimitedReader fasthttp passes) is sent here
// with sendfile(2) at an explicit offset, since its segment descriptor is shared and its
// file offset must not move (see diskFile).
func (c *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if b, ok := lr.R.(*diskFile); ok {
			if sc, ok := c.Conn.(syscall.Conn); ok {
				n, err := b.sendfile(sc, lr.N)
				lr.N -= n
				if err != errNoSendfile {
					return n, err
				}
			}
		}
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides every method but Write, so io.Copy does not call ReadFrom again.
type writerOnly struct{ io.Writer }

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
	var sent int64
	var serr error
	cerr := src.Control(func(in uintptr) {
		werr := dst.Write(func(out uintptr) bool {
			for sent < limit && b.n > 0 {
				off := b.off
				k, err := unix.Sendfile(int(out), int(in), &off, int(min(limit-sent, b.n, 1<<30)))
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
	return sent, serr
}
