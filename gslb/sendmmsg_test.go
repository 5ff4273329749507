package gslb

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// A reply that cannot be sent (to port 0, where a forged query may claim to come from, or to
// an IPv6 client through an IPv4 socket) is skipped and the rest of its batch still goes,
// wherever it stands in the batch and whatever the batch's size (small batches and large ones
// enter the kernel differently).
func TestUDPReader_refusedReplyDoesNotStopTheBatch(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	r, _ := loopbackReader(t, s)
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetReadBuffer(1 << 20)
	to := client.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, refused := range []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("[2001:db8::1]:53")} {
		for _, size := range []int{1, 2, 4, 5, udpBatch} { // 4 and 5: either side of rawCallMax on Linux
			for _, bad := range slices.Compact([]int{0, size / 2, size - 1}) {
				t.Run(fmt.Sprintf("batch of %d, %v at %d", size, refused, bad), func(t *testing.T) {
					var want [][]byte
					for i := range size {
						reply := fmt.Appendf(r.bufs[r.nout][:0], "reply %d of %d", i, size)
						if i == bad {
							r.queue(reply, refused, netip.Addr{})
							continue
						}
						want = append(want, bytes.Clone(reply))
						r.queue(reply, to, netip.Addr{})
					}
					r.flush()
					if r.nout != 0 {
						t.Fatalf("%d replies left queued", r.nout)
					}
					buf := make([]byte, 1500)
					for _, w := range want {
						client.SetReadDeadline(time.Now().Add(time.Second))
						n, err := client.Read(buf)
						if err != nil {
							t.Fatalf("waiting for %q: %v", w, err)
						}
						if !bytes.Equal(buf[:n], w) {
							t.Fatalf("got %q, want %q", buf[:n], w)
						}
					}
				})
			}
		}
	}
}
