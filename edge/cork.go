package edge

import (
	"net"
	"syscall"
)

// corkMinBody is the smallest disk-hit body sent corked (TCP_CORK, nginx's tcp_nopush)
// over HTTP/1.1: the head waits for the body's first bytes and the connection sends only
// full segments until the body has been handed to the kernel.
//
// Why: uncorked, the head leaves alone (TCP_NODELAY) and wakes the client before the body,
// and a send limited by the client's window ends in a sliver (on loopback, 53 bytes: a
// 65,483-byte MSS against windows in 64 KiB steps), one more packet the client takes in and
// acknowledges. Measured with scripts/bench-disk-peers.sh's 1 MiB HTTP/1.1 row on tmpfs,
// where h2load's core is the limit: about 23 packets from the node per response uncorked,
// 15.5 corked, 17.8 from nginx; h2load's CPU per response fell by about two fifths and the
// node's rose (the loopback's receive side then runs in the sender's softirq). At 256 KiB,
// where the node's core is the limit, a cork cost Shoal a third of its req/s (the disk
// tier's README), so smaller bodies are sent as before. Measured again with the 256 KiB
// rows (bench-disk-peers.sh, PROTOS=h1 ROUNDS=3 DURATION=3, a build corking from 256 KiB
// as SHOAL_BIN beside this one as SHOAL_BASE, load average 4.3-7.9): on ext4 corked/uncorked
// req/s 0.53-0.89 (median 0.62), the node's CPU per request 106-167 us corked against
// 81-103; on tmpfs 147-206 us against 114-127 (a round that stalled left out); h2load's CPU
// per response no lower corked (ext4 105-112 us against 102-111). 512 KiB, between the
// script's two sizes, was not measured.
//
// The cork is held until the whole body is handed to the kernel, not only over the head:
// released after the first sendfile call instead (the packets MSG_MORE on the head would
// give; fasthttp writes the head itself, so MSG_MORE is not reachable without taking the
// write over), a 1 MiB hit's req/s was 0.36-0.78 of this on tmpfs and 1.07-1.41 on ext4 in
// the same run (3 rounds each, load average 6-11): no clear gain, not kept.
const corkMinBody = 1 << 20

// corkOn and corkOff are package-level so that passing them to RawConn.Control allocates
// nothing. A failed setsockopt only changes how the response is packetized, so its error
// is dropped.
var (
	corkOn  = func(fd uintptr) { setCork(fd, 1) }
	corkOff = func(fd uintptr) { setCork(fd, 0) }
)

// rawConn is the RawConn of the connection's bare socket, made once per connection (each
// SyscallConn call allocates one). lc may be nil (a connection no feed handed out).
// Called on the connection's goroutine only.
func (lc *liveConn) rawConn(sock *net.TCPConn) syscall.RawConn {
	if lc != nil && lc.raw != nil {
		return lc.raw
	}
	raw, err := sock.SyscallConn()
	if err != nil {
		return nil
	}
	if lc != nil {
		lc.raw = raw
	}
	return raw
}

// cork corks raw for b's response, before fasthttp writes the head: uncork (after the
// body's sendfile, or at Close for a body never written: its head's write failed) sends
// what the cork holds. Left corked, the connection's next response would wait up to
// the kernel's 200 ms cork limit.
func (b *diskFile) cork(raw syscall.RawConn) {
	if raw == nil || raw.Control(corkOn) != nil {
		return
	}
	b.corked = raw
}

// uncork releases b's cork, if it set one.
func (b *diskFile) uncork() {
	if b.corked == nil {
		return
	}
	_ = b.corked.Control(corkOff)
	if testHookCork != nil {
		testHookCork("uncorked", corkState(b.corked))
	}
	b.corked = nil
}

// testHookCork, when set (by tests, before any node starts), learns whether a disk hit's
// socket was corked: in its sendfile ("sendfile"), after uncork ("uncorked") and when its
// body is closed ("closed", the response's last event).
var testHookCork func(where string, corked bool)

// sockCorked reports whether b's socket is corked (false without one). For testHookCork.
func (b *diskFile) sockCorked() bool {
	if b.sock == nil {
		return false
	}
	raw, err := b.sock.SyscallConn()
	return err == nil && corkState(raw)
}

func corkState(raw syscall.RawConn) bool {
	v := false
	_ = raw.Control(func(fd uintptr) { v = isCorked(fd) })
	return v
}
