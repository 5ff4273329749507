//go:build linux

// Command dnslat sends A queries at a fixed rate (open loop: a query leaves when it is due,
// whether or not earlier ones were answered) and reports the latency of the replies as the
// kernel saw them: from just before the query's send to the reply's arrival in the client's
// socket (SO_TIMESTAMPNS), so that the time the client takes to wake up and read a reply is
// left out. dnsperf's latency ends when its receiving thread reads the reply: on a shared
// machine that thread's own scheduling delays are most of a p99 at 10,000 qps, and they are
// the same whichever server answers. ../dnsperf.sh prints both.
//
// Under CFS a woken client may wait for the running task's slice (milliseconds on a busy core):
// at load average 10 it sent 5,600-8,200 queries a second where 10,000 were due, in bursts.
// Under SCHED_FIFO (chrt -f, as dnsperf.sh runs it with RT=1) it kept the rate.
//
// It only talks to the server given by -s, which must be a loopback address.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dnslat:", err)
		os.Exit(1)
	}
}

func run() error {
	server := flag.String("s", "127.0.0.1", "server address (loopback only)")
	port := flag.Int("p", 53, "server port")
	rate := flag.Int("Q", 10000, "queries per second")
	seconds := flag.Float64("l", 5, "run time in seconds")
	timeout := flag.Duration("t", time.Second, "a reply later than this after the last send is not waited for")
	flag.Parse()
	dst, err := netip.ParseAddr(*server)
	if err != nil || !dst.IsLoopback() {
		return fmt.Errorf("-s %q: want a loopback address", *server)
	}
	if *rate < 1 || *rate > 1000000 || *port < 1 || *port > 65535 {
		return errors.New("-Q 1..1000000, -p 1..65535")
	}
	fd, err := dial(dst, *port)
	if err != nil {
		return err
	}
	defer unix.Close(fd)

	// www.cdn.example.com A, no EDNS, as dnsperf.sh's tail part sends.
	query := []byte{0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 3, 'c', 'd', 'n', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	total := int(*seconds * float64(*rate))
	r := &receiver{fd: fd, lat: make([]int64, 0, total), b: make([]byte, 1500), oob: make([]byte, 128)}

	// One thread sends and receives, so that no scheduler hand-off sits between them: it waits
	// for each query's time in clock_nanosleep with a timer slack of 1 ns (time.Sleep of less
	// than a millisecond waits in the netpoller, whose timeout has millisecond resolution, which
	// sent 10,000 qps as bursts of about ten a millisecond; the default slack, 50 µs, would move
	// each send by up to half an interval), sends it, then reads whatever replies have come
	// without waiting: when a reply is read does not change its latency, which the kernel
	// stamped on arrival.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_TIMERSLACK: %w", err)
	}
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	for i := range total {
		due := unix.NsecToTimespec(start.Add(time.Duration(i) * interval).UnixNano())
		sleepUntil(&due)
		id := uint16(i)
		binary.BigEndian.PutUint16(query, id)
		r.sentAt[id] = time.Now().UnixNano()
		if _, err := unix.Write(fd, query); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if err := r.drain(); err != nil {
			return err
		}
	}
	elapsed := time.Since(start).Seconds()
	for end := time.Now().Add(*timeout); len(r.lat) < total && time.Now().Before(end); {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(time.Until(end).Milliseconds())+1); err != nil && err != unix.EINTR {
			return fmt.Errorf("poll: %w", err)
		}
		if err := r.drain(); err != nil {
			return err
		}
	}
	lat := r.lat
	slices.Sort(lat)
	fmt.Printf("sent %d at %.0f qps, answered %d, kernel-stamped latency", total, float64(total)/elapsed, len(lat))
	for _, p := range []float64{50, 99, 99.9} {
		if len(lat) > 0 {
			fmt.Printf(", p%g %.3f ms", p, float64(lat[min(int(float64(len(lat))*p/100), len(lat)-1)])/1e6)
		}
	}
	fmt.Println()
	return nil
}

// sleepUntil waits in clock_nanosleep until the absolute time due. It enters the kernel with
// RawSyscall: through Syscall the runtime's sysmon took the process's one P from every sleep
// longer than 20 µs and polled every 20 µs while it did, and the sender fell to 6,000-7,000
// queries a second on a loaded core.
func sleepUntil(due *unix.Timespec) {
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_REALTIME, unix.TIMER_ABSTIME,
			uintptr(unsafe.Pointer(due)), 0, 0, 0)
		if errno != unix.EINTR {
			return
		}
	}
}

// dial opens a UDP socket connected to the server that stamps each datagram's arrival.
func dial(dst netip.Addr, port int) (int, error) {
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: port, Addr: dst.As4()}
	if !dst.Is4() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: port, Addr: dst.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	for _, o := range []struct{ opt, v int }{{unix.SO_TIMESTAMPNS, 1}, {unix.SO_RCVBUF, 4 << 20}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o.opt, o.v); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("setsockopt: %w", err)
		}
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connect: %w", err)
	}
	return fd, nil
}

// receiver reads replies and keeps each one's latency: its arrival time stamped by the kernel
// less its query's send time.
type receiver struct {
	fd     int
	sentAt [1 << 16]int64 // unix ns by query ID, 0 once answered
	lat    []int64
	b, oob []byte
}

// drain reads every reply queued, without waiting.
func (r *receiver) drain() error {
	for {
		n, oobn, _, _, err := unix.Recvmsg(r.fd, r.b, r.oob, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return nil
		case err == unix.ECONNREFUSED:
			continue // an ICMP error for an earlier query: that one is lost
		case err != nil:
			return fmt.Errorf("receive: %w", err)
		case n < 12:
			continue
		}
		at, ok := stamp(r.oob[:oobn])
		if !ok {
			return errors.New("receive: a reply without SCM_TIMESTAMPNS")
		}
		id := binary.BigEndian.Uint16(r.b)
		if s := r.sentAt[id]; s != 0 {
			r.sentAt[id] = 0
			r.lat = append(r.lat, at-s)
		}
	}
}

// stamp returns the SCM_TIMESTAMPNS time (unix ns) among control messages.
func stamp(oob []byte) (int64, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return sec*1e9 + nsec, true
		}
	}
	return 0, false
}
