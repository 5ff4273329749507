package gslb

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// startSendSocketServer starts a server on listen whose readers send through send sockets.
func startSendSocketServer(t *testing.T, listen string) *Server {
	t.Helper()
	cfg := testConfig()
	cfg.Listen = listen
	s, err := New(cfg, Options{Registerer: prometheus.NewRegistry(), UDPSendSocket: true, UDPReaders: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.SetEdges(testEdges())
	if err := s.ListenAndServe(); err != nil {
		t.Skipf("listen on %s: %v", listen, err) // no IPv6 loopback here
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

// sendFDs are the send sockets of s's readers (-1 for a reader that sends on its own).
func sendFDs(s *Server) []int {
	var fds []int
	for _, r := range s.udpLoop.started {
		fds = append(fds, r.wr.(*mmsgWriter).fd)
	}
	return fds
}

// A reader's replies leave through its send socket from the listen address and port: a
// connected client, which the kernel gives only datagrams from the address it is connected
// to, receives every reply of bursts that fill whole batches. The send sockets are closed
// with the server.
func TestUDPLoop_sendSocketRepliesFromTheListenAddress(t *testing.T) {
	// 127.0.0.2: without the reply's source set, the kernel would send from 127.0.0.1,
	// which the client, connected to 127.0.0.2, would not take.
	for _, listen := range []string{"127.0.0.2:0", "[::1]:0"} {
		t.Run(listen, func(t *testing.T) {
			s := startSendSocketServer(t, listen)
			for _, fd := range sendFDs(s) {
				if fd < 0 {
					t.Fatalf("send sockets %v: a reader has none", sendFDs(s))
				}
			}
			udp, _ := s.Addr()
			var local *net.UDPAddr
			if udp.(*net.UDPAddr).IP.To4() != nil {
				local = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
			}
			c, err := net.DialUDP("udp", local, udp.(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			const bursts, burst = 4, 2 * udpBatch
			buf := make([]byte, 1500)
			for b := range bursts {
				for i := range burst {
					m := question("www."+zoneName, dns.TypeA)
					m.Id = uint16(b*burst + i)
					p, _ := m.Pack()
					if _, err := c.Write(p); err != nil {
						t.Fatal(err)
					}
				}
				for range burst {
					n, err := c.Read(buf)
					if err != nil {
						t.Fatalf("burst %d: %v", b, err)
					}
					var r dns.Msg
					if err := r.Unpack(buf[:n]); err != nil || !r.Response || len(r.Answer) == 0 {
						t.Fatalf("burst %d: reply %v, %v", b, &r, err)
					}
				}
			}
			readers := s.udpLoop.started
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, r := range readers {
				if fd := r.wr.(*mmsgWriter).fd; fd != -1 {
					t.Errorf("send socket %d still open after Shutdown", fd)
				}
			}
		})
	}
}

// A wildcard bind answers each query from the address it was sent to, which the readers'
// own sockets do (pktinfo): no send sockets.
func TestUDPLoop_noSendSocketOnAWildcardBind(t *testing.T) {
	s := startSendSocketServer(t, "0.0.0.0:0")
	if s.udpLoop == nil {
		t.Skip("miekg/dns serves this wildcard bind")
	}
	for _, fd := range sendFDs(s) {
		if fd != -1 {
			t.Errorf("send sockets %v on a wildcard bind, want none", sendFDs(s))
		}
	}
	exchange(t, s, "udp", question("www."+zoneName, dns.TypeA))
}
