package gslb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// tcpSlowReply is what the general path sends over TCP for wire from client with rotation
// rot: unpack, serve with a TCP client address, pack.
func tcpSlowReply(t testing.TB, s *Server, wire []byte, client netip.AddrPort, rot uint64) ([]byte, bool) {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		return nil, false
	}
	w := &fakeWriter{remote: net.TCPAddrFromAddrPort(client)}
	if _, sent := s.serve(w, m, rot); !sent || w.written == nil {
		return nil, false
	}
	packed, err := w.written.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return packed, true
}

// fortyEdges is a zone whose answers of 40 addresses do not fit 512 bytes: truncated over
// UDP without EDNS, whole over TCP.
func fortyEdges() (cfgAnswers int, edges []Edge) {
	for i := range 40 {
		edges = append(edges, edge(fmt.Sprintf("eu-%02d", i), "eu", 0, true, fmt.Sprintf("192.0.2.%d", i+1)))
	}
	return 40, edges
}

// TestAnswerFast_overTCPSameBytesAsServeDNS: over TCP the fast path answers what it answers
// over UDP and also what UDP would truncate, with the very bytes the general path sends
// over TCP.
func TestAnswerFast_overTCPSameBytesAsServeDNS(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	cfg := testConfig()
	cfg.Answers, _ = fortyEdges()
	_, edges40 := fortyEdges()
	big, _ := newTestServer(t, cfg, edges40)
	www := "www." + zoneName
	cases := fastCases(t)
	cases = append(cases, struct {
		name     string
		wire     []byte
		wantFast bool
	}{"40 addresses, no EDNS (truncated over UDP)", pack(t, question(www, dns.TypeA)), true})
	for _, srv := range []*Server{s, big} {
		sc := newFastScratch(srv.zone)
		for _, tc := range cases {
			for _, cl := range []string{"127.0.0.1:5353", "10.9.9.9:53", "[2001:db8:e::9]:53"} {
				from := netip.MustParseAddrPort(cl)
				_, udpOK := srv.answerFast(tc.wire, from, 1, nil, sc, false)
				got, ok := srv.answerFast(tc.wire, from, 1, nil, sc, true)
				if udpOK && !ok {
					t.Fatalf("%s from %s: answered on the fast path over UDP, not over TCP", tc.name, cl)
				}
				if !ok {
					continue
				}
				want, sent := tcpSlowReply(t, srv, tc.wire, from, 1)
				if !sent || !bytes.Equal(got, want) {
					t.Fatalf("%s from %s over TCP:\nfast    %x\ngeneral %x", tc.name, cl, got, want)
				}
			}
		}
	}
	if _, ok := big.answerFast(pack(t, question(www, dns.TypeA)), netip.MustParseAddrPort("10.9.9.9:53"), 1, nil, newFastScratch(big.zone), true); !ok {
		t.Error("an answer of 40 addresses over TCP left the fast path")
	}
}

// dialTCP opens a miekg/dns TCP connection to s.
func dialTCP(t *testing.T, s *Server) *dns.Conn {
	t.Helper()
	_, tcp := s.Addr()
	c, err := dns.DialTimeout("tcp", tcp.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestTCP_pipelinedQueriesAreAnsweredInOrder: a client sends 30 queries on one connection
// without waiting (RFC 7766 section 6.2.1.1), fast-path and general-path ones mixed; each is
// answered, in order, as a connection of its own would answer it.
func TestTCP_pipelinedQueriesAreAnsweredInOrder(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	www := "www." + zoneName
	kinds := []func() *dns.Msg{
		func() *dns.Msg { return question(www, dns.TypeA) },
		func() *dns.Msg { return withECS(question(www, dns.TypeA), "20.1.2.0/24") },
		func() *dns.Msg { return question(zoneName, dns.TypeNS) },
		func() *dns.Msg { return question("nope."+zoneName, dns.TypeA) },
		func() *dns.Msg { return question(www, dns.TypeAAAA) },
		func() *dns.Msg { return question("example.org.", dns.TypeA) },
	}
	c := dialTCP(t, s)
	var sent []*dns.Msg
	for i := range 30 {
		m := kinds[i%len(kinds)]()
		m.Id = uint16(1000 + i)
		if err := c.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	for _, m := range sent {
		r, err := c.ReadMsg()
		if err != nil {
			t.Fatalf("reading the answer to %d: %v", m.Id, err)
		}
		if r.Id != m.Id {
			t.Fatalf("answer %d where %d was next", r.Id, m.Id)
		}
		alone := exchange(t, s, "tcp", m.Copy())
		if r.Rcode != alone.Rcode || len(r.Answer) != len(alone.Answer) || len(r.Ns) != len(alone.Ns) ||
			r.Question[0] != alone.Question[0] {
			t.Errorf("pipelined answer to %v:\n%v\non a connection of its own:\n%v", m.Question, r, alone)
		}
	}
}

// TestTCP_framing: the two-byte length and the message may arrive in any pieces: byte by
// byte, two messages in one write, a message longer than the first read buffer (padding
// to 6,000 bytes, which the fast path still answers).
func TestTCP_framing(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	www := "www." + zoneName
	_, addr := s.Addr()
	frame := func(m *dns.Msg) []byte {
		b := pack(t, m)
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	}
	padded := withOption(question(www, dns.TypeA), &dns.EDNS0_PADDING{Padding: make([]byte, 6000)})
	a, b := question(www, dns.TypeA), question(zoneName, dns.TypeSOA)
	a.Id, b.Id, padded.Id = 1, 2, 3
	for _, tc := range []struct {
		name   string
		writes [][]byte
		ids    []uint16
	}{
		{"byte by byte", split(frame(a), 1), []uint16{1}},
		{"two messages in one write", [][]byte{append(frame(a), frame(b)...)}, []uint16{1, 2}},
		{"a message and the start of the next, then the rest", func() [][]byte {
			both := append(frame(a), frame(b)...)
			cut := len(frame(a)) + 3
			return [][]byte{both[:cut], both[cut:]}
		}(), []uint16{1, 2}},
		{"6,000 bytes of padding", split(frame(padded), 1000), []uint16{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			for _, w := range tc.writes {
				if _, err := nc.Write(w); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // separate segments, separate reads
			}
			c := &dns.Conn{Conn: nc}
			for _, id := range tc.ids {
				r, err := c.ReadMsg()
				if err != nil {
					t.Fatalf("answer %d: %v", id, err)
				}
				if r.Id != id || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
					t.Fatalf("answer %d, %s, %d records; want %d, NOERROR and records", r.Id, dns.RcodeToString[r.Rcode], len(r.Answer), id)
				}
			}
		})
	}
}

func split(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(size, len(b))
		out, b = append(out, b[:n]), b[n:]
	}
	return out
}

// waitClosed fails unless the server closes nc within d.
func waitClosed(t *testing.T, nc net.Conn, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	nc.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, nc)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("still open after %v", d)
	}
	return time.Since(start)
}

// TestTCP_idleConnectionsAreClosed (RFC 7766 section 6.2.3): a connection that has sent
// nothing, one that went quiet after a query, and one that stopped in the middle of a
// message are closed after the idle timeout, and not long before it.
func TestTCP_idleConnectionsAreClosed(t *testing.T) {
	const idle = 200 * time.Millisecond
	addr, framed := startIdleServer(t, idle)
	for _, tc := range []struct {
		name  string
		write []byte
		reply bool
	}{
		{"silent from the start", nil, false},
		{"quiet after a query", framed, true},
		{"half a message", framed[:len(framed)/2], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if _, err := nc.Write(tc.write); err != nil {
				t.Fatal(err)
			}
			if tc.reply {
				c := &dns.Conn{Conn: nc}
				nc.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.ReadMsg(); err != nil {
					t.Fatalf("no answer: %v", err)
				}
			}
			took := waitClosed(t, nc, 5*time.Second)
			if took < idle/2 {
				t.Errorf("closed after %v, before the idle timeout of %v", took, idle)
			}
			t.Logf("closed %v after the last byte", took.Round(time.Millisecond))
		})
	}
}

// TestTCP_junkClosesTheConnection: a length too short for a DNS header gets no answer and
// the connection is closed; so is a response sent as if it were a query, unanswered.
func TestTCP_junkClosesTheConnection(t *testing.T) {
	s, _ := startServer(t, testConfig(), testEdges())
	_, addr := s.Addr()
	nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte{0, 3, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, nc); n != 0 || err != nil {
		t.Errorf("read %d bytes, %v; want the connection closed without an answer", n, err)
	}
}

// TestTCP_shutdownClosesIdleConnections: Shutdown does not wait for a client that keeps its
// connection open (the idle timeout is long here): it ends the read, and returns at once.
func TestTCP_shutdownClosesIdleConnections(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.tcpIdle = time.Minute
	if err := s.ListenAndServe(); err != nil {
		t.Fatal(err)
	}
	c := dialTCP(t, s)
	if err := c.WriteMsg(question("www."+zoneName, dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Shutdown took %v with one idle connection", took)
	}
	waitClosed(t, c.Conn, 2*time.Second)
}

// BenchmarkTCP_pipelined: one connection, queries for www sent 64 at a time without waiting
// (a resolver's pipelining) and their answers read; one op is one query, client included.
// (miekg/dns, which served TCP before, closes a connection after 128 queries: measuring it
// needs a new connection every two bursts.)
func BenchmarkTCP_pipelined(b *testing.B) {
	s, _ := newTestServer(b, testConfig(), testEdges())
	if err := s.ListenAndServe(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	_, addr := s.Addr()
	c, err := dns.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	q := pack(b, withECS(question("www."+zoneName, dns.TypeA), "10.1.2.0/24"))
	framed := append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...)
	const window = 64
	burst := bytes.Repeat(framed, window)
	buf, l := make([]byte, 64<<10), make([]byte, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += window {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Conn.Write(burst); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < window; {
			if _, err := io.ReadFull(c.Conn, l); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c.Conn, buf[:binary.BigEndian.Uint16(l)]); err != nil {
				b.Fatal(err)
			}
			got++
		}
	}
}

// TestTCP_connectionsAreBounded: connections beyond the bound are closed at once, the ones
// inside it keep being served, and a place freed is taken again.
func TestTCP_connectionsAreBounded(t *testing.T) {
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.tcpMaxConns, s.tcpIdle = 3, time.Minute
	if err := s.ListenAndServe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	ask := func(c *dns.Conn) error {
		if err := c.WriteMsg(question("www."+zoneName, dns.TypeA)); err != nil {
			return err
		}
		_, err := c.ReadMsg()
		return err
	}
	var held []*dns.Conn
	for range 3 {
		c := dialTCP(t, s)
		if err := ask(c); err != nil { // served: it holds a place
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra := dialTCP(t, s)
	waitClosed(t, extra.Conn, 2*time.Second)
	for _, c := range held {
		if err := ask(c); err != nil {
			t.Fatalf("a connection within the bound: %v", err)
		}
	}
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialTCP(t, s)
		if err := ask(c); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the place of a closed connection was not taken again: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server may not have seen the close yet
	}
}
