package h2

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"

	"golang.org/x/net/http2"
)

// benchClient is a zero-allocation HTTP/2 client for benchmarks: fixed request header
// blocks from the HPACK static table, responses skipped frame by frame, connection window
// returned in 32 KiB steps. Allocations the benchmark reports are the server's.
type benchClient struct {
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	next    uint32
	unacked uint32
	hdr     [9]byte
	skip    []byte
}

// benchBlock is GET http://localhost/ : :method GET, :scheme http, :path / from the static
// table, :authority as a literal without indexing.
var benchBlock = append([]byte{0x82, 0x86, 0x84, 0x01, 9}, "localhost"...)

func dialBench(b *testing.B, addr string, useTLS bool) *benchClient {
	var nc net.Conn
	var err error
	if useTLS {
		nc, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	c := &benchClient{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriterSize(nc, 64<<10), next: 1,
		skip: make([]byte, 1<<20)}
	fr := http2.NewFramer(c.bw, nil)
	c.bw.WriteString(http2.ClientPreface)
	fr.WriteSettings()
	fr.WriteSettingsAck() // acks the server's SETTINGS ahead; it does not check
	fr.WriteWindowUpdate(0, 1<<30)
	c.bw.Flush()
	return c
}

// send writes n GET requests without flushing.
func (c *benchClient) send(n int) {
	for range n {
		h := c.hdr[:]
		h[0], h[1], h[2] = 0, 0, byte(len(benchBlock))
		h[3] = byte(http2.FrameHeaders)
		h[4] = byte(http2.FlagHeadersEndHeaders | http2.FlagHeadersEndStream)
		binary.BigEndian.PutUint32(h[5:], c.next)
		c.next += 2
		c.bw.Write(h)
		c.bw.Write(benchBlock)
	}
	c.bw.Flush()
}

// await reads frames until n streams ended, returning the content bytes seen.
func (c *benchClient) await(b *testing.B, n int) int {
	body := 0
	for n > 0 {
		if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
			b.Fatal(err)
		}
		length := int(c.hdr[0])<<16 | int(c.hdr[1])<<8 | int(c.hdr[2])
		typ, flags := http2.FrameType(c.hdr[3]), http2.Flags(c.hdr[4])
		if _, err := io.ReadFull(c.br, c.skip[:length]); err != nil {
			b.Fatal(err)
		}
		switch typ {
		case http2.FrameData:
			body += length
			c.unacked += uint32(length)
		case http2.FrameRSTStream, http2.FrameGoAway:
			b.Fatalf("server sent %v", typ)
		}
		if (typ == http2.FrameData || typ == http2.FrameHeaders) && flags&http2.FlagDataEndStream != 0 {
			n--
		}
	}
	if c.unacked > 32<<10 {
		fr := http2.NewFramer(c.bw, nil)
		fr.WriteWindowUpdate(0, c.unacked)
		c.unacked = 0
	}
	return body
}

// BenchmarkServer_respond1KiB: a 1 KiB response answered synchronously on the connection's
// goroutine (the cache-hit path), over loopback TCP as h2c or TLS, 1 or 10 streams in
// flight.
func BenchmarkServer_respond1KiB(b *testing.B) {
	hit := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Respond(200, benchFields, page1k)
	})
	for _, tc := range []struct {
		tls     bool
		streams int
	}{{false, 1}, {false, 10}, {true, 1}, {true, 10}} {
		name := fmt.Sprintf("h2c/streams=%d", tc.streams)
		if tc.tls {
			name = fmt.Sprintf("tls/streams=%d", tc.streams)
		}
		streams := tc.streams
		b.Run(name, func(b *testing.B) {
			ts := startServer(b, Config{}, hit, tc.tls)
			c := dialBench(b, ts.Addr, tc.tls)
			c.send(1)
			c.await(b, 1)
			b.ReportAllocs()
			b.SetBytes(int64(len(page1k) * streams))
			b.ResetTimer()
			for b.Loop() {
				c.send(streams)
				if got := c.await(b, streams); got != len(page1k)*streams {
					b.Fatalf("%d content bytes, want %d", got, len(page1k)*streams)
				}
			}
			b.ReportMetric(float64(b.N*streams)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

var benchFields = []Field{
	{Name: "content-type", Value: "text/html"},
	{Name: "cache-status", Value: "shoal; hit; ttl=52"},
	{Name: "age", Value: "8"},
}
