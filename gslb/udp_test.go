package gslb

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rawExchange sends packet over UDP and returns the reply, or nil when none comes in 300ms.
func rawExchange(t *testing.T, s *Server, packet []byte) []byte {
	t.Helper()
	udp, _ := s.Addr()
	c, err := net.Dial("udp", udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(packet); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func TestUDPLoop_undecodablePackets(t *testing.T) {
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, _ := startServerBlocking(t, testConfig(), testEdges(), kind.blocking)
			testUndecodablePackets(t, s)
		})
	}
}

func testUndecodablePackets(t *testing.T, s *Server) {
	tests := []struct {
		name      string
		packet    []byte
		wantReply bool
	}{
		// id 0x1234, RD, one question, then a truncated name
		{"query with a broken body", []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'}, true},
		{"response with a broken body", []byte{0x12, 0x34, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'}, false},
		{"shorter than a header", []byte{0x12, 0x34, 0x01}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := rawExchange(t, s, tt.packet)
			if !tt.wantReply {
				if reply != nil {
					t.Errorf("answered with %x, want silence", reply)
				}
				return
			}
			m := new(dns.Msg)
			if err := m.Unpack(reply); err != nil {
				t.Fatalf("reply %x: %v", reply, err)
			}
			if m.Id != 0x1234 || !m.Response || m.Rcode != dns.RcodeFormatError {
				t.Errorf("reply id %#x response %v rcode %s, want id 0x1234 FORMERR", m.Id, m.Response, dns.RcodeToString[m.Rcode])
			}
		})
	}
	// The readers survive junk: a real query still gets its answer.
	if r := exchange(t, s, "udp", question("www."+zoneName, dns.TypeA)); len(r.Answer) == 0 {
		t.Errorf("no answer after the junk: %v", r)
	}
}

func TestServer_specificHostDecidesTheUDPLoop(t *testing.T) {
	tests := []struct {
		listen string
		want   bool
	}{
		{"127.0.0.1:53", true},
		{"[::1]:53", true},
		{"localhost:53", true},
		{":53", false},
		{"0.0.0.0:53", false},
		{"[::]:53", false},
		{"no-port", false},
	}
	for _, tt := range tests {
		if got := specificHost(tt.listen); got != tt.want {
			t.Errorf("specificHost(%q) = %v, want %v", tt.listen, got, tt.want)
		}
	}
}

// Many clients at once over the UDP loop: each gets the reply to its own query.
func TestUDPLoop_concurrentClientsGetTheirOwnReplies(t *testing.T) {
	for _, kind := range udpReaderKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, _ := startServerBlocking(t, testConfig(), testEdges(), kind.blocking)
			testConcurrentClients(t, s)
		})
	}
}

func testConcurrentClients(t *testing.T, s *Server) {
	names := []string{zoneName, "www." + zoneName, "nope." + zoneName}
	done := make(chan error, 30)
	for i := range 30 {
		go func() {
			m := question(names[i%len(names)], dns.TypeA)
			c := &dns.Client{Timeout: 5 * time.Second}
			r, _, err := c.Exchange(m, mustUDP(s))
			if err == nil && (r.Id != m.Id || r.Question[0].Name != m.Question[0].Name) {
				err = &net.AddrError{Err: "reply to another query", Addr: r.Question[0].Name}
			}
			done <- err
		}()
	}
	for range 30 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func mustUDP(s *Server) string {
	udp, _ := s.Addr()
	return udp.String()
}
