package gslb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// gsoWriter returns a writer of batch slots on a socket bound to host, and the socket.
func gsoWriter(t *testing.T, network, host string, batch int, pktinfo bool) (*mmsgWriter, *net.UDPConn) {
	t.Helper()
	conn, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if pktinfo {
		rc, _ := conn.SyscallConn()
		rc.Control(func(fd uintptr) {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			if network == "udp6" {
				unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
			}
		})
	}
	wr, err := newDatagramWriter(conn, batch, pktinfo)
	if err != nil {
		t.Fatal(err)
	}
	w := wr.(*mmsgWriter)
	if !w.gso {
		t.Fatal("the kernel takes no UDP_SEGMENT (Linux 4.18 and later do)")
	}
	return w, conn
}

func udpClient(t *testing.T, network, host string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadBuffer(1 << 20)
	return c
}

// sendAll flushes slots 0..n-1 the way udpReader.flush does.
func sendAll(t *testing.T, w *mmsgWriter, n int) {
	t.Helper()
	for sent := 0; sent < n; {
		k, err := w.flush(sent, n)
		sent += k
		if err != nil {
			t.Logf("slot %d: %v", sent, err)
			sent++
		}
	}
}

// A batch of replies of one size to one client leaves as one send that the kernel cuts into
// datagrams at the replies' size: a client that takes UDP GRO receives it whole, with that
// size. Sent one by one, the same client reads the first reply alone.
func TestMmsgWriter_repliesToOneClientLeaveInOneSegmentedSend(t *testing.T) {
	w, _ := gsoWriter(t, "udp4", "127.0.0.1", udpBatch, false)
	client := udpClient(t, "udp4", "127.0.0.1")
	rc, _ := client.SyscallConn()
	rc.Control(func(fd uintptr) {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_GRO, 1); err != nil {
			t.Fatal(err)
		}
	})
	to := client.LocalAddr().(*net.UDPAddr).AddrPort()
	var want []byte
	for i := range 8 {
		reply := fmt.Appendf(nil, "reply %d", i)
		want = append(want, reply...)
		w.set(i, reply, to, netip.Addr{})
	}
	sendAll(t, w, 8)
	buf, oob := make([]byte, 1500), make([]byte, 64)
	client.SetReadDeadline(time.Now().Add(time.Second))
	n, oobn, _, _, err := client.ReadMsgUDP(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("read %q, want the 8 replies in one: %q", buf[:n], want)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 || msgs[0].Header.Type != unix.UDP_GRO || len(msgs[0].Data) < 2 {
		t.Fatalf("control messages %v (%v), want UDP_GRO", msgs, err)
	}
	if size := binary.NativeEndian.Uint16(msgs[0].Data); size != 7 {
		t.Fatalf("segment size %d, want 7", size)
	}
}

// Whatever mix of clients, sources and sizes a batch holds, every reply arrives as its own
// datagram, in order, from the address it was to leave from: runs end at another client,
// another source, a longer reply, after a shorter one, at the kernel's 64 segments and at an
// empty or oversized reply.
func TestMmsgWriter_everyReplyArrivesWhateverTheRuns(t *testing.T) {
	type reply struct {
		client int    // 0 or 1
		size   int    // bytes
		src    string // pktinfo source, "" for none
	}
	same := func(n, size int) []reply {
		r := make([]reply, n)
		for i := range r {
			r[i] = reply{size: size}
		}
		return r
	}
	cases := []struct {
		name    string
		replies []reply
	}{
		{"one", same(1, 40)},
		{"one run", same(udpBatch, 40)},
		{"shorter last", append(same(5, 40), reply{size: 30})},
		{"shorter in the middle", append(append(same(3, 40), reply{size: 30}), same(3, 40)...)},
		{"longer after", append(same(3, 40), same(3, 41)...)},
		{"two clients interleaved", []reply{{0, 40, ""}, {1, 40, ""}, {0, 40, ""}, {0, 40, ""}, {1, 40, ""}, {1, 40, ""}}},
		{"past 64 segments", same(150, 20)},
		{"empty replies", []reply{{0, 0, ""}, {0, 0, ""}, {0, 40, ""}, {0, 40, ""}}},
		{"above 1232 bytes", append(same(3, gsoMaxSize+1), same(2, gsoMaxSize)...)},
		{"sources", []reply{{0, 40, "127.0.0.1"}, {0, 40, "127.0.0.1"}, {0, 40, "127.0.0.2"}, {0, 40, "127.0.0.2"}, {0, 40, "127.0.0.1"}}},
	}
	for _, network := range []string{"udp4", "udp6"} {
		for _, c := range cases {
			t.Run(network+"/"+c.name, func(t *testing.T) {
				host, pktinfo := "127.0.0.1", false
				if network == "udp6" {
					host = "::1"
				}
				for _, r := range c.replies {
					if r.src != "" {
						host, pktinfo = "", true // a wildcard bind, which sends from pktinfo
					}
				}
				clientHost := "127.0.0.1"
				if network == "udp6" && !pktinfo {
					clientHost = "::1"
				}
				sockNet := network
				if pktinfo && network == "udp6" {
					sockNet = "udp" // dual stack, IPv4 clients v4-mapped, as a wildcard bind serves
				}
				w, _ := gsoWriter(t, sockNet, host, len(c.replies), pktinfo)
				clients := []*net.UDPConn{udpClient(t, "udp", clientHost), udpClient(t, "udp", clientHost)}
				type got struct {
					b    []byte
					from netip.Addr
				}
				var want [2][]got
				for i, r := range c.replies {
					b := bytes.Repeat([]byte{byte(i)}, r.size)
					var src netip.Addr
					if r.src != "" {
						src = netip.MustParseAddr(r.src)
					}
					to := clients[r.client].LocalAddr().(*net.UDPAddr).AddrPort()
					w.set(i, b, to, src)
					want[r.client] = append(want[r.client], got{b, src}) // an empty one too
				}
				sendAll(t, w, len(c.replies))
				buf := make([]byte, 2000)
				for ci, wants := range want {
					for i, wt := range wants {
						clients[ci].SetReadDeadline(time.Now().Add(time.Second))
						n, from, err := clients[ci].ReadFromUDPAddrPort(buf)
						if err != nil {
							t.Fatalf("client %d, reply %d of %d: %v", ci, i, len(wants), err)
						}
						if !bytes.Equal(buf[:n], wt.b) {
							t.Fatalf("client %d, reply %d: %d bytes %x, want %d bytes %x", ci, i, n, buf[:min(n, 4)], len(wt.b), wt.b[:min(len(wt.b), 4)])
						}
						if wt.from.IsValid() && from.Addr().Unmap() != wt.from {
							t.Fatalf("client %d, reply %d from %v, want %v", ci, i, from, wt.from)
						}
					}
					clients[ci].SetReadDeadline(time.Now().Add(20 * time.Millisecond))
					if n, _, err := clients[ci].ReadFromUDPAddrPort(buf); err == nil {
						t.Fatalf("client %d: one more datagram of %d bytes", ci, n)
					}
				}
				if !w.gso {
					t.Fatal("the writer stopped coalescing")
				}
			})
		}
	}
}

// A kernel that refuses a run (here: a malformed UDP_SEGMENT, as a device without checksum
// offload refuses with EIO) costs no reply: the writer sends the batch one by one and stops
// coalescing. A run that fails for its destination (port 0) does not stop coalescing, and the
// replies after it still go.
func TestMmsgWriter_refusedRunFallsBackToOneByOne(t *testing.T) {
	t.Run("segmentation refused", func(t *testing.T) {
		old := gsoSegmentLen
		gsoSegmentLen = unix.CmsgLen(1)
		defer func() { gsoSegmentLen = old }()
		w, _ := gsoWriter(t, "udp4", "127.0.0.1", udpBatch, false)
		client := udpClient(t, "udp4", "127.0.0.1")
		to := client.LocalAddr().(*net.UDPAddr).AddrPort()
		for i := range 10 {
			w.set(i, []byte{byte(i), 1, 2, 3}, to, netip.Addr{})
		}
		sendAll(t, w, 10)
		expectReplies(t, client, 10)
		if w.gso {
			t.Fatal("still coalescing after the kernel refused a run")
		}
	})
	t.Run("destination refused", func(t *testing.T) {
		w, _ := gsoWriter(t, "udp4", "127.0.0.1", udpBatch, false)
		client := udpClient(t, "udp4", "127.0.0.1")
		to := client.LocalAddr().(*net.UDPAddr).AddrPort()
		bad := netip.MustParseAddrPort("127.0.0.1:0")
		for i := range 10 {
			dst := to
			if i >= 3 && i < 6 {
				dst = bad
			}
			w.set(i, []byte{byte(i), 1, 2, 3}, dst, netip.Addr{})
		}
		sendAll(t, w, 10)
		expectReplies(t, client, 7)
		if !w.gso {
			t.Fatal("a destination's error stopped coalescing")
		}
	})
}

func expectReplies(t *testing.T, c *net.UDPConn, n int) {
	t.Helper()
	buf := make([]byte, 100)
	for i := range n {
		c.SetReadDeadline(time.Now().Add(time.Second))
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reply %d of %d: %v", i, n, err)
		}
		if k != 4 {
			t.Fatalf("reply %d: %d bytes, want 4", i, k)
		}
	}
}

// A reader's answers to a burst of queries from one resolver socket are one size (the same
// question, records rotated, the subnet echoed), so they leave as runs: a client with UDP GRO
// reads them coalesced, and every reply cut at the segment size is the answer to its query.
func TestUDPReader_burstFromOneResolverLeavesAsRuns(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	r, conn := loopbackReader(t, s)
	client := udpClient(t, "udp4", "127.0.0.1")
	rc, _ := client.SyscallConn()
	rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_GRO, 1) })
	const queries = 8
	for i := range queries {
		q := withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24")
		q.Id = uint16(100 + i)
		wire, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.WriteTo(wire, conn.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for answered := 0; answered < queries; {
		n, err := r.rd.read()
		if err != nil {
			t.Fatal(err)
		}
		r.answer(n)
		answered += n
	}
	buf, oob := make([]byte, 1<<16), make([]byte, 64)
	got, coalesced := 0, 0
	for got < queries {
		client.SetReadDeadline(time.Now().Add(time.Second))
		n, oobn, _, _, err := client.ReadMsgUDP(buf, oob)
		if err != nil {
			t.Fatalf("%d replies of %d: %v", got, queries, err)
		}
		size := n
		if msgs, _ := unix.ParseSocketControlMessage(oob[:oobn]); len(msgs) == 1 && msgs[0].Header.Type == unix.UDP_GRO {
			size = int(binary.NativeEndian.Uint16(msgs[0].Data))
			coalesced++
		}
		for b := buf[:n]; len(b) > 0; b = b[min(size, len(b)):] {
			m := new(dns.Msg)
			if err := m.Unpack(b[:min(size, len(b))]); err != nil {
				t.Fatalf("reply %d: %v", got, err)
			}
			if m.Id != uint16(100+got) || len(m.Answer) != 2 || ecsScope(m) != 8 {
				t.Fatalf("reply %d: id %d, %d answers, scope %d: %v", got, m.Id, len(m.Answer), ecsScope(m), m)
			}
			got++
		}
	}
	if coalesced == 0 {
		t.Fatal("every reply came alone: no run was sent")
	}
}
