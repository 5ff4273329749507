package gslb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// maxQuerySize is the UDP read buffer: queries are small, but EDNS options (cookies, padding)
// push some past 512 bytes.
const maxQuerySize = 4096

// ListenAndServe binds UDP and TCP on the configured listen address (the same port on both,
// also when the port is 0) and returns once both serve, in the background. Errors after that
// are logged. Shutdown stops both.
func (s *Server) ListenAndServe() error {
	if s.listen == "" {
		return errors.New("gslb: listen address is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udpAddr != nil {
		return errors.New("gslb: already listening")
	}
	specific := specificHost(s.listen)
	ownLoop := specific || pktinfoWorks
	pc, l, err := listenPair(s.listen, ownLoop, ownLoop && !specific)
	if err != nil {
		return fmt.Errorf("gslb: listen %s: %w", s.listen, err)
	}
	var servers []*dns.Server
	var loop *udpLoop
	if conn, ok := pc.(*net.UDPConn); ok && ownLoop {
		socks, err := s.udpSockets(conn, !specific)
		if err != nil {
			pc.Close()
			l.Close()
			return fmt.Errorf("gslb: listen %s: %w", s.listen, err)
		}
		loop = newUDPLoop(socks, s.udpReaders, s, !specific)
	} else {
		udp := s.dnsServer()
		udp.PacketConn = pc
		servers = append(servers, udp)
	}
	started := make(chan struct{}, len(servers))
	failed := make(chan error, len(servers))
	for _, srv := range servers {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() {
			err := srv.ActivateAndServe()
			if err != nil {
				s.log.Error("gslb: serve", "net", srv.Net, "err", err)
			}
			failed <- err
		}()
	}
	for range servers {
		select {
		case <-started:
		case err := <-failed:
			pc.Close()
			l.Close()
			return fmt.Errorf("gslb: serve %s: %w", s.listen, err)
		}
	}
	if loop != nil {
		if err := loop.start(); err != nil {
			for _, srv := range servers {
				srv.Shutdown()
			}
			loop.close()
			l.Close()
			return fmt.Errorf("gslb: serve %s: %w", s.listen, err)
		}
	}
	tcp := newTCPServer(s, l, s.tcpIdle, s.tcpMaxConns)
	tcp.start()
	s.listeners, s.udpLoop, s.udpAddr, s.tcpListener, s.tcp = servers, loop, pc.LocalAddr(), l, tcp
	return nil
}

// specificHost tells whether addr names one address. A wildcard bind ("", 0.0.0.0, ::) must
// answer from the address each query was sent to: the UDP loop does with pktinfo on Linux,
// miekg/dns's UDP server elsewhere.
func specificHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err != nil || !a.IsUnspecified()
}

func (s *Server) dnsServer() *dns.Server {
	return &dns.Server{
		Handler: s,
		UDPSize: maxQuerySize,
		// Let ServeDNS see every message (it answers NOTIMP and FORMERR itself and drops
		// responses), so the metrics count them; the default would answer some on its own.
		MsgAcceptFunc: func(dns.Header) dns.MsgAcceptAction { return dns.MsgAccept },
		ReadTimeout:   2 * time.Second,
		WriteTimeout:  2 * time.Second,
	}
}

// udpSockets returns the sockets of the UDP loop on first's address: with blocking readers
// (Linux), a blocking socket for each reader (or one for all with UDPSharedSocket), first
// being closed; else first and, with SO_REUSEPORT, one more socket on its address for each
// further reader, so that readers do not contend for one socket. On an error first is left
// open.
func (s *Server) udpSockets(first *net.UDPConn, pktinfo bool) ([]udpSocket, error) {
	readers := s.udpReaders
	if readers <= 0 {
		readers = cpuProcs()
	}
	if !reusePortWorks || s.udpSharedSocket {
		readers = 1
	}
	if s.udpBlocking && blockingWorks {
		socks, err := openBlockingSockets(first, readers, pktinfo)
		if err != nil {
			return nil, err
		}
		// first is in the port's SO_REUSEPORT group: open, it would take a share of the
		// queries that no reader reads.
		first.Close()
		return socks, nil
	}
	socks := []udpSocket{pollSocket{first}}
	lc := net.ListenConfig{Control: udpControl(true, pktinfo)}
	for len(socks) < readers {
		pc, err := lc.ListenPacket(context.Background(), "udp", first.LocalAddr().String())
		if err != nil {
			for _, c := range socks[1:] {
				c.wake()
			}
			return nil, err
		}
		socks = append(socks, pollSocket{pc.(*net.UDPConn)})
	}
	return socks, nil
}

// listenPair binds TCP first and then UDP on the port TCP got, retrying when port 0 lands on a
// UDP port that is taken. With reuse, the UDP socket allows more sockets on its port
// (SO_REUSEPORT) for the readers of the UDP loop; with pktinfo it reports destinations.
func listenPair(addr string, reuse, pktinfo bool) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	attempts := 1
	if port == "0" {
		attempts = 8
	}
	for i := 0; ; i++ {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		_, bound, _ := net.SplitHostPort(l.Addr().String())
		lc := net.ListenConfig{Control: udpControl(reuse, pktinfo)}
		pc, err := lc.ListenPacket(context.Background(), "udp", net.JoinHostPort(host, bound))
		if err == nil {
			return pc, l, nil
		}
		l.Close()
		if i+1 >= attempts {
			return nil, nil, err
		}
	}
}

// Addr returns the bound UDP and TCP addresses, or nils before ListenAndServe.
func (s *Server) Addr() (udp, tcp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udpAddr == nil {
		return nil, nil
	}
	return s.udpAddr, s.tcpListener.Addr()
}

// Shutdown stops both listeners, waiting for in-flight TCP queries until ctx ends. It is a no-op
// on a Server that is not listening.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.udpLoop != nil {
		if err := s.udpLoop.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, srv := range s.listeners {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.tcp != nil {
		if err := s.tcp.shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.listeners, s.udpLoop, s.udpAddr, s.tcpListener, s.tcp = nil, nil, nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gslb: shutdown: %w", err)
	}
	return nil
}
