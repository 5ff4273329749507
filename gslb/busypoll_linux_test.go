package gslb

import (
	"net"
	"testing"
	"time"
)

// Busy polling follows the load: a read of one datagram (a light load) leaves the reader to
// park at once on an empty socket; a read of udpBusyArm or more arms it, so the next empty
// socket is polled for the whole poll time, after which it is disarmed; a datagram that
// arrives during a poll is read without parking.
func TestMmsgReader_busyPollFollowsTheLoad(t *testing.T) {
	const poll = 200 * time.Millisecond
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	rd, err := newDatagramReader(conn, udpBatch, maxQuerySize, false, poll)
	if err != nil {
		t.Fatal(err)
	}
	r := rd.(*mmsgReader)
	send := func(n int) {
		for range n {
			if _, err := client.Write([]byte("query")); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond) // loopback delivers at once; this is slack
	}
	// poll runs one pass of the reader's callback on the socket as it is: true when it read.
	poll1 := func() (bool, time.Duration) {
		start := time.Now()
		var ok bool
		if err := r.rc.Control(func(fd uintptr) { ok = r.recvmmsg(fd) }); err != nil {
			t.Fatal(err)
		}
		return ok, time.Since(start)
	}

	send(1)
	if n, err := r.read(); n != 1 || err != nil {
		t.Fatalf("read %d, %v; want the 1 datagram", n, err)
	}
	if ok, took := poll1(); ok || took >= poll {
		t.Errorf("after a read of 1: read %v after %v; want to park at once", ok, took)
	}

	send(udpBusyArm)
	if n, err := r.read(); n != udpBusyArm || err != nil {
		t.Fatalf("read %d, %v; want the %d datagrams", n, err, udpBusyArm)
	}
	if ok, took := poll1(); ok || took < poll {
		t.Errorf("after a read of %d: read %v after %v; want to poll for %v", udpBusyArm, ok, took, poll)
	}
	if ok, took := poll1(); ok || took >= poll {
		t.Errorf("after a poll that found nothing: read %v after %v; want to park at once", ok, took)
	}

	send(udpBusyArm)
	if n, err := r.read(); n != udpBusyArm || err != nil {
		t.Fatalf("read %d, %v; want the %d datagrams", n, err, udpBusyArm)
	}
	go func() {
		time.Sleep(poll / 4)
		client.Write([]byte("late query"))
	}()
	if ok, took := poll1(); !ok || r.n != 1 || took >= poll {
		t.Errorf("a datagram %v into the poll: read %v (%d) after %v; want it read before the poll ends", poll/4, ok, r.n, took)
	}
}
