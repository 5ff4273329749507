package gslb

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Replies of one batch to one client leave as one UDP GSO message (UDP_SEGMENT, Linux 4.18):
// a run of replies of one size to one address and port, from one source address, is handed
// to the kernel as a single send of their concatenated bytes, which the kernel cuts back into
// one datagram per reply at that size (in software, or in the NIC where it segments UDP). The
// route lookup, the IP output path, the netfilter hooks and the device's transmit are then
// paid once per run instead of once per reply; on loopback the receiving socket also takes the
// run in one delivery and wakes its reader once. The client sees the same datagrams as before,
// in the same order: only the number of trips through the kernel's send path changes.
//
// A run needs every reply but the last to be exactly the run's size, and the last at most
// that; answers to one name from one resolver are (same question, same record count), so a
// resolver or a front end (dnsdist, a load balancer) that sends many queries from one socket
// gets them; resolvers that pick a fresh source port per query get one datagram per run, as
// before, at the cost of comparing each reply's address with the one before.
//
// What the kernel refuses in a run it would refuse one datagram at a time too (a destination
// it cannot reach): the run's first reply is then sent alone, and if that works the kernel
// refused the segmentation itself (a device without checksum offload: EIO), so the writer
// stops coalescing for good.

// gsoMaxSegments is the kernel's UDP_MAX_SEGMENTS (64 since 4.18; later kernels allow more).
const gsoMaxSegments = 64

// gsoMaxBytes bounds a run's payload: a GSO message is one UDP datagram on its way into the
// kernel, so it must fit UDP's and IP's 16-bit length fields with their headers.
const gsoMaxBytes = 65535 - 8 - 40

// gsoMaxSize is the largest reply that joins a run: the kernel refuses a segment size that
// does not fit the route's MTU, and 1232 bytes (what we send at most over UDP) fits every path.
const gsoMaxSize = ourUDPSize

// gsoSegmentLen is the length of the UDP_SEGMENT control message; a test makes it wrong to
// play a kernel that refuses segmentation.
var gsoSegmentLen = unix.CmsgLen(2)

// gsoWorks tells whether the socket fd takes UDP_SEGMENT. A kernel without it (before 4.18)
// ignores a control message it does not know and would send a run as one datagram, so
// coalescing is only ever turned on where the option is known.
func gsoWorks(fd uintptr) bool {
	_, err := unix.GetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT)
	return err == nil
}

// gsoRuns fills w.msgs with the messages that send slots from..n-1, consecutive slots to the
// same client coalesced into runs, and returns how many there are; w.ends[i] is the slot after
// message i's run. It returns 0 when no run holds more than one reply: then the slots' own
// headers are sent as they are.
func (w *mmsgWriter) gsoRuns(from, n int) int {
	m, coalesced := 0, false
	for k := from; k < n; {
		j := w.runEnd(k, n)
		msg := &w.msgs[m]
		msg.hdr = w.hdrs[k].hdr
		if j-k > 1 {
			coalesced = true
			msg.hdr.SetIovlen(j - k) // iovs[k..j-1] are consecutive
			c := w.gsoOob[k][:0]
			if w.hdrs[k].hdr.Control != nil {
				c = append(c, w.oob[k][:w.hdrs[k].hdr.Controllen]...)
			}
			c = appendSegment(c, uint16(w.iovs[k].Len))
			msg.hdr.Control = &c[0]
			msg.hdr.SetControllen(len(c))
		}
		w.ends[m] = j
		m++
		k = j
	}
	if !coalesced {
		return 0
	}
	return m
}

// runEnd returns the slot after the run that starts at slot k: the replies that follow k to
// the same client from the same source, each of k's size but the last, which may be shorter.
func (w *mmsgWriter) runEnd(k, n int) int {
	size := w.iovs[k].Len
	if size == 0 || size > gsoMaxSize {
		return k + 1
	}
	total := size
	j := k + 1
	for ; j < n && j-k < gsoMaxSegments; j++ {
		l := w.iovs[j].Len
		if l == 0 || l > size || total+l > gsoMaxBytes || !w.sameClient(k, j) {
			break
		}
		total += l
		if l < size {
			return j + 1
		}
	}
	return j
}

// sameClient tells whether slots a and b go to the same address and port from the same source.
func (w *mmsgWriter) sameClient(a, b int) bool {
	ha, hb := &w.hdrs[a].hdr, &w.hdrs[b].hdr
	if ha.Namelen != hb.Namelen || w.srcs[a] != w.srcs[b] {
		return false
	}
	na := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(&w.names[a]))
	nb := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(&w.names[b]))
	return *na == *nb // a socket's slots are all of one family: bytes set leaves alone stay zero
}

// appendSegment appends the UDP_SEGMENT control message that cuts a send into datagrams of
// size bytes.
func appendSegment(oob []byte, size uint16) []byte {
	off := len(oob)
	oob = oob[:off+unix.CmsgSpace(2)]
	clear(oob[off:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[off]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	h.SetLen(gsoSegmentLen)
	*(*uint16)(unsafe.Pointer(&oob[off+unix.CmsgLen(0)])) = size // host byte order, as the kernel reads it
	return oob
}
