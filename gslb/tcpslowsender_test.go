package gslb

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTCP_slowSenderIsClosed: a client that sends one message a byte at a time, each byte
// within the idle timeout, held its connection for as long as it kept trickling (the idle
// deadline was renewed by every read), so 1,024 such clients took every TCP place of the
// server (slowloris). A message must now arrive whole within the idle timeout of its first
// byte; a client that sends whole queries, however slowly, is still answered.
func TestTCP_slowSenderIsClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr, framed := startIdleServer(t, idle)

	nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	for i := 0; i < len(framed)-1; i++ { // never the last byte: no answer is due
		if _, err := nc.Write(framed[i : i+1]); err != nil {
			break // closed, as it should be
		}
		if time.Since(start) > 4*idle {
			t.Fatalf("still open %v after the first byte of a message, %d bytes in; want closed after %v", time.Since(start).Round(time.Millisecond), i+1, idle)
		}
		time.Sleep(idle / 6)
	}
	took := waitClosed(t, nc, 5*time.Second)
	if total := time.Since(start); total > 4*idle {
		t.Errorf("closed %v after the message's first byte (%v after the last); want about %v", total.Round(time.Millisecond), took, idle)
	}

	// Whole queries, each sent in two halves within the timeout, the next one after a pause
	// under it: answered every time, for longer than the timeout.
	nc2, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	c := &dns.Conn{Conn: nc2}
	for i := range 4 {
		nc2.Write(framed[:5])
		time.Sleep(idle / 3)
		nc2.Write(framed[5:])
		nc2.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.ReadMsg(); err != nil {
			t.Fatalf("query %d: no answer: %v", i, err)
		}
		time.Sleep(idle / 2)
	}
}

// startIdleServer serves the test zone with a TCP idle timeout of idle, and returns its TCP
// address and a framed query for www.
func startIdleServer(t *testing.T, idle time.Duration) (net.Addr, []byte) {
	t.Helper()
	s, _ := newTestServer(t, testConfig(), testEdges())
	s.tcpIdle = idle
	if err := s.ListenAndServe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	_, addr := s.Addr()
	query := pack(t, question("www."+zoneName, dns.TypeA))
	return addr, append(binary.BigEndian.AppendUint16(nil, uint16(len(query))), query...)
}
