package gslb

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Every UDP socket of the loop, of either reader kind and address family, sends without path
// MTU discovery (IP_PMTUDISC_PROBE, and IPV6_PMTUDISC_OMIT on IPv6 sockets), so that forged
// ICMP cannot make the kernel fragment replies. The kernel's default is discovery on
// (IP_PMTUDISC_WANT), which this test sees on a socket opened without setNoPMTUD.
func TestUDPLoop_socketsOmitPathMTUDiscovery(t *testing.T) {
	for _, kind := range udpReaderKinds {
		for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
			t.Run(kind.name+" "+listen, func(t *testing.T) {
				cfg := testConfig()
				cfg.Listen = listen
				s, _ := newTestServer(t, cfg, testEdges())
				s.udpBlocking = kind.blocking
				s.udpReaders = 2
				serve(t, s)
				if s.udpLoop == nil || len(s.udpLoop.socks) != 2 {
					t.Fatalf("want the UDP loop with 2 sockets, got %+v", s.udpLoop)
				}
				for i, sock := range s.udpLoop.socks {
					v4, v6 := pmtudOf(t, sock, listen[0] == '[')
					if v4 != unix.IP_PMTUDISC_PROBE || (listen[0] == '[' && v6 != unix.IPV6_PMTUDISC_OMIT) {
						t.Errorf("socket %d: IP_MTU_DISCOVER %d, IPV6_MTU_DISCOVER %d; want %d (probe), %d (omit)",
							i, v4, v6, unix.IP_PMTUDISC_PROBE, unix.IPV6_PMTUDISC_OMIT)
					}
				}
			})
		}
	}
}

// pmtudOf reads IP_MTU_DISCOVER and, with v6, IPV6_MTU_DISCOVER of the socket.
func pmtudOf(t *testing.T, sock udpSocket, v6 bool) (v4opt, v6opt int) {
	t.Helper()
	var fd int
	switch s := sock.(type) {
	case pollSocket:
		rc, err := s.conn.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		rc.Control(func(f uintptr) { fd = int(f) })
	case *blockingSocket:
		fd = s.fd
	default:
		t.Fatalf("socket of type %T", sock)
	}
	var err error
	if v4opt, err = unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER); err != nil {
		t.Fatalf("getsockopt IP_MTU_DISCOVER: %v", err)
	}
	if v6 {
		if v6opt, err = unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER); err != nil {
			t.Fatalf("getsockopt IPV6_MTU_DISCOVER: %v", err)
		}
	}
	return v4opt, v6opt
}
