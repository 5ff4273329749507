package gslb

import (
	"net"
	"time"
)

// udpSocket is one socket of the UDP loop as its readers use it: a *net.UDPConn that the Go
// netpoller watches (pollSocket), or on Linux a blocking socket that none does (blockingSocket).
type udpSocket interface {
	// io returns the batch reader and writer of one reader goroutine on the socket.
	io(batch, size int, pktinfo bool, poll time.Duration) (datagramReader, datagramWriter, error)
	localAddr() net.Addr
	// blocking tells whether a read waits inside the system call, so that each reader needs a
	// thread (and a P) of its own while it waits.
	blocking() bool
	// wake makes every read on the socket, waiting or to come, end with net.ErrClosed.
	wake() error
	// close releases the socket once no reader uses it any more.
	close() error
}

// pollSocket is a socket in the netpoller: a read that finds nothing parks the goroutine, and
// closing the conn is what wakes it.
type pollSocket struct{ conn *net.UDPConn }

func (p pollSocket) io(batch, size int, pktinfo bool, poll time.Duration) (datagramReader, datagramWriter, error) {
	rd, err := newDatagramReader(p.conn, batch, size, pktinfo, poll)
	if err != nil {
		return nil, nil, err
	}
	wr, err := newDatagramWriter(p.conn, batch, pktinfo)
	if err != nil {
		return nil, nil, err
	}
	return rd, wr, nil
}

func (p pollSocket) localAddr() net.Addr { return p.conn.LocalAddr() }
func (p pollSocket) blocking() bool      { return false }
func (p pollSocket) wake() error         { return p.conn.Close() }
func (p pollSocket) close() error        { return nil } // wake closed it
