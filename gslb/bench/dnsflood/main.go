// Command dnsflood sends A queries for one name from many resolver addresses, each carrying one
// of many EDNS Client Subnets, and reports the rate and latency of the replies, in dnsperf's
// words so that ../dnsperf.sh reads both alike. It is the many-subnet workload of that script:
// dnsperf sends from one address and repeats one client subnet, which a server's reply cache
// answers; here no two queries in a row share a client.
//
// Sources are 127.1.0.0/16 addresses (all local on the loopback interface), chosen per query
// through IP_PKTINFO on one socket, so batches of queries go out in one sendmmsg. It only
// talks to the server given by -s, which must be a loopback address.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/ipv4"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dnsflood:", err)
		os.Exit(1)
	}
}

const batch = 64

func run() error {
	server := flag.String("s", "127.0.0.1", "server address (loopback only)")
	port := flag.Int("p", 53, "server port")
	name := flag.String("name", "www.cdn.example.com.", "name queried, type A")
	seconds := flag.Float64("l", 10, "run time in seconds")
	subnets := flag.Int("subnets", 10000, "distinct client subnets (/24s of 10.0.0.0/8) sent in ECS; 0 sends no ECS")
	edns := flag.Bool("edns", true, "send an OPT record (1232 bytes); false sends plain queries, with no client subnet")
	sources := flag.Int("sources", 1000, "distinct resolver addresses (127.1.x.y)")
	window := flag.Int("q", 200, "queries outstanding")
	timeout := flag.Duration("t", 100*time.Millisecond, "a query unanswered this long is lost")
	flag.Parse()

	dst, err := netip.ParseAddr(*server)
	if err != nil || !dst.IsLoopback() || !dst.Is4() {
		return fmt.Errorf("-s %q: want an IPv4 loopback address", *server)
	}
	if *sources < 1 || *sources > 60000 || *subnets < 0 || *subnets > 1<<16 || *window < 1 || *window > 30000 {
		return errors.New("-sources 1..60000, -subnets 0..65536, -q 1..30000")
	}
	if !*edns && *subnets > 0 {
		return errors.New("-subnets needs -edns")
	}
	queries, err := buildQueries(*name, max(*subnets, 1), *edns, *subnets > 0)
	if err != nil {
		return err
	}
	oobs := make([][]byte, *sources)
	for i := range oobs {
		src := net.IPv4(127, 1, byte(i/250), byte(i%250+1))
		oobs[i] = (&ipv4.ControlMessage{Src: src}).Marshal()
	}

	// A wildcard bind receives the replies sent to every 127.1.x.y source.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadBuffer(4 << 20)
	conn.SetWriteBuffer(4 << 20)
	pc := ipv4.NewPacketConn(conn)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, uint16(*port)))

	out := make([]ipv4.Message, batch)
	outBufs := make([][]byte, batch)
	for i := range out {
		outBufs[i] = make([]byte, 512)
		out[i].Buffers = [][]byte{nil}
		out[i].Addr = to
	}
	in := make([]ipv4.Message, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 1500)}
	}

	var sentAt [1 << 16]int64 // by query ID; 0 when not outstanding
	lat := make([]uint32, 0, 1<<22)
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	// oldest is the first sequence number that may still be outstanding: queries are numbered
	// in sending order, so the ones to time out are always at the front.
	var sent, received, lost, outstanding, seq, oldest int
	var refresh time.Time // when to push the read deadline on again: not on every read, it costs
	for now := time.Now(); now.Before(deadline); now = time.Now() {
		// A query unanswered after the timeout is lost: it no longer holds a place in the window.
		late := int64(now.Sub(start) - *timeout)
		for ; oldest < seq; oldest++ {
			at := sentAt[uint16(oldest)]
			if at != 0 && at > late {
				break
			}
			if at != 0 {
				sentAt[uint16(oldest)] = 0
				lost++
				outstanding--
			}
		}
		if n := min(*window-outstanding, batch); n > 0 {
			stamp := int64(now.Sub(start)) | 1
			for i := range n {
				id := uint16(seq)
				q := queries[seq%len(queries)]
				b := append(outBufs[i][:0], q...)
				binary.BigEndian.PutUint16(b, id)
				out[i].Buffers[0] = b
				out[i].OOB = oobs[seq%len(oobs)]
				sentAt[id] = stamp
				seq++
			}
			w, err := pc.WriteBatch(out[:n], 0)
			if err != nil {
				return fmt.Errorf("send: %w", err)
			}
			for i := w; i < n; i++ { // not sent: forget them
				sentAt[uint16(seq-n+i)] = 0
			}
			seq -= n - w
			sent += w
			outstanding += w
		}
		if now.After(refresh) {
			conn.SetReadDeadline(now.Add(*timeout))
			refresh = now.Add(*timeout / 4)
		}
		r, err := pc.ReadBatch(in, 0)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				refresh = time.Time{}
				continue // the sweep above times them out
			}
			return fmt.Errorf("receive: %w", err)
		}
		got := time.Since(start)
		for _, m := range in[:r] {
			if m.N < 12 {
				continue
			}
			id := binary.BigEndian.Uint16(m.Buffers[0])
			if sentAt[id] == 0 {
				continue
			}
			lat = append(lat, uint32(min(int64(got)-sentAt[id], 1<<32-1)))
			sentAt[id] = 0
			received++
			outstanding--
		}
	}
	elapsed := time.Since(start).Seconds()
	fmt.Printf("  Queries sent:         %d\n", sent)
	fmt.Printf("  Queries completed:    %d\n", received)
	fmt.Printf("  Queries lost:         %d\n", lost+outstanding)
	fmt.Printf("  Queries lost (%%):     %.3f\n", 100*float64(lost+outstanding)/float64(max(sent, 1)))
	fmt.Printf("  Queries per second:   %.3f\n", float64(received)/elapsed)
	slices.Sort(lat)
	for _, p := range []float64{50, 99, 99.9} {
		if len(lat) > 0 {
			i := min(int(float64(len(lat))*p/100), len(lat)-1)
			fmt.Printf("  Latency p%g:   %.6f s\n", p, float64(lat[i])/1e9)
		}
	}
	return nil
}

// buildQueries packs one query per client subnet: www A, with EDNS (1232 bytes) when edns and,
// when ecs, a client subnet 10.a.b.0/24.
func buildQueries(name string, n int, edns, ecs bool) ([][]byte, error) {
	var qname []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) == 0 || len(label) > 63 {
			return nil, fmt.Errorf("-name %q: bad label", name)
		}
		qname = append(qname, byte(len(label)))
		qname = append(qname, label...)
	}
	qname = append(qname, 0)
	out := make([][]byte, n)
	for i := range out {
		b := []byte{0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1} // RD, one question, one OPT
		b = append(b, qname...)
		b = append(b, 0, 1, 0, 1) // A IN
		if !edns {
			b[11] = 0 // no OPT
			out[i] = b
			continue
		}
		b = append(b, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0)
		if ecs {
			b = append(b, 0, 11, 0, 8, 0, 7, 0, 1, 24, 0, 10, byte(i>>8), byte(i))
		} else {
			b = append(b, 0, 0)
		}
		out[i] = b
	}
	return out, nil
}
