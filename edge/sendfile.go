package edge

import "io"

// ReadFrom passes the connection's own ReadFrom through the wrapper: fasthttp writes an
// *os.File body (a disk hit, see diskBody) through bufio.Writer.ReadFrom, which reaches
// *net.TCPConn.ReadFrom and so sendfile(2) only if every wrapper on the way has ReadFrom.
// Embedding net.Conn (an interface) does not promote it.
func (c *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides every method but Write, so io.Copy does not call ReadFrom again.
type writerOnly struct{ io.Writer }
