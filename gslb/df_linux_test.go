package gslb

import (
	"encoding/binary"
	"net"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// IPv4 replies leave with DF set (setNoPMTUD: IP_PMTUDISC_PROBE), so that no router fragments
// them and the kernel gives them IP ID 0 instead of drawing one from its shared table. The
// test reads the reply's IP header from a raw socket on loopback, for each reader kind, for
// the fast path (A) and the general path (SOA). Raw sockets need root, which CI has.
func TestUDPLoop_ipv4RepliesCarryDontFragment(t *testing.T) {
	raw, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("raw socket (needs root): %v", err)
		}
		t.Fatalf("raw socket: %v", err)
	}
	defer unix.Close(raw)
	// The raw socket sees every UDP datagram on the host's loopback, other tests' too: room
	// for a burst of them, so that the reply's copy is not dropped.
	unix.SetsockoptInt(raw, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(raw, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	for _, kind := range udpReaderKinds {
		s, _ := startServerBlocking(t, testConfig(), testEdges(), kind.blocking)
		udp, _ := s.Addr()
		for _, qtype := range []uint16{dns.TypeA, dns.TypeSOA} {
			t.Run(kind.name+" "+dns.TypeToString[qtype], func(t *testing.T) {
				c, err := net.DialUDP("udp4", nil, udp.(*net.UDPAddr))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				name := "www.cdn.example.com."
				if qtype == dns.TypeSOA {
					name = "cdn.example.com."
				}
				q, _ := question(name, qtype).Pack()
				var hdr []byte
				for try := 0; hdr == nil && try < 3; try++ { // a copy lost in a burst: ask again
					if _, err := c.Write(q); err != nil {
						t.Fatal(err)
					}
					hdr = replyIPHeader(raw, uint16(udp.(*net.UDPAddr).Port), uint16(c.LocalAddr().(*net.UDPAddr).Port))
				}
				if hdr == nil {
					t.Fatal("no reply seen on the raw socket after 3 queries")
				}
				if frag := binary.BigEndian.Uint16(hdr[6:]); frag&0x4000 == 0 {
					t.Errorf("reply's IPv4 flags and fragment offset %#04x: want DF (0x4000) set", frag)
				}
			})
		}
	}
}

// replyIPHeader reads raw for up to 2 s until it sees a UDP datagram from port from to port
// to, and returns its IPv4 header, or nil; other loopback traffic (other tests, the query
// itself) is skipped.
func replyIPHeader(raw int, from, to uint16) []byte {
	buf := make([]byte, 65536)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		n, _, err := unix.Recvfrom(raw, buf, 0)
		if err != nil || n < 20 {
			continue // EAGAIN at the receive timeout, EINTR
		}
		ihl := int(buf[0]&0x0f) * 4
		if n < ihl+8 {
			continue
		}
		udp := buf[ihl:]
		if binary.BigEndian.Uint16(udp) == from && binary.BigEndian.Uint16(udp[2:]) == to {
			return append([]byte(nil), buf[:ihl]...)
		}
	}
	return nil
}
