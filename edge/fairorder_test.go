package edge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestNode_hitsOfOneBatchAreServedInArrivalOrder: eight keep-alive connections, each parked
// in its read after a first hit, get their next requests in order 0..7 while the node's one P
// is held by the test, so the network poller hands all eight over in one batch. The access
// log, written as each is handled, gives the order they were served in. The runtime alone
// served them newest first, 7 6 5 4 3 2 1 0 (Go 1.26): connection 0, whose request came
// first, waited for all seven others. With the node's turns the order is 7 0 1 2 3 4 5 6:
// only the one that opened the batch goes out of turn. (HTTP/2 connections, one goroutine
// each, are served newest first too; the gate is not on them: see edge/README.md.)
func TestNode_hitsOfOneBatchAreServedInArrivalOrder(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector randomises the run queue's order")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // before Start: the node reads it there
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte("hit"))
	})
	var log syncBuffer
	n := startNode(t, "log: {access: json}\n"+oneRoute(true, origin.URL), Options{AccessLog: &log})
	const conns = 8
	t.Run("HTTP/1.1", func(t *testing.T) {
		var cs [conns]net.Conn
		var rs [conns]*bufio.Reader
		get := func(i int) {
			if _, err := io.WriteString(cs[i], fmt.Sprintf("GET /obj/%d HTTP/1.1\r\nHost: www.test\r\n\r\n", i)); err != nil {
				t.Fatal(err)
			}
		}
		read := func(i int) {
			res, err := http.ReadResponse(rs[i], nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		for i := range cs {
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cs[i], rs[i] = c, bufio.NewReader(c)
			get(i) // the fill, then a hit: each goroutine parks in its read
			read(i)
			get(i)
			read(i)
		}
		fairOrder(t, &log, conns, get, func() {
			for i := range cs {
				read(i)
			}
		})
	})
}

// fairOrder sends one request on each of conns connections with send, in order, without
// yielding, waits for the answers with await, and reads the order the access log recorded
// them in. Of up to three rounds, one must serve fewer pairs of requests in the reverse of
// their arrival order than in it. Not exact FIFO: the runtime's order is not exactly the
// reverse either (one goroutine of a batch may run out of place, and a batch may split), and
// the gate, which reverses what it sees, moves such a one the other way.
func fairOrder(t *testing.T, log *syncBuffer, conns int, send func(int), await func()) {
	t.Helper()
	var orders [][]int
	for range 3 {
		for range 100 {
			runtime.Gosched() // every connection's goroutine reaches its read (bounded)
		}
		before := len(log.String())
		for i := range conns {
			send(i) // no yield between writes: one batch for the poller
		}
		await()
		served := servedOrder(t, log.String()[before:], conns)
		if pairs := conns * (conns - 1) / 2; 2*inversions(served) < pairs {
			return
		}
		orders = append(orders, served)
	}
	t.Fatalf("served in orders %v: in each, more pairs of requests went newest first than oldest first", orders)
}

// servedOrder reads the connection numbers of the /obj/N requests in access log lines.
func servedOrder(t *testing.T, lines string, conns int) []int {
	t.Helper()
	var served []int
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		var rec struct {
			URI string `json:"uri"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		var i int
		if _, err := fmt.Sscanf(rec.URI, "/obj/%d", &i); err != nil {
			t.Fatalf("access log uri %q: %v", rec.URI, err)
		}
		served = append(served, i)
	}
	if len(served) != conns {
		t.Fatalf("served %v, want all %d", served, conns)
	}
	return served
}

// inversions counts the pairs of requests served in the reverse of their arrival order (a
// higher number, later, before a lower one): 0 first come first served, n(n-1)/2 newest first.
func inversions(served []int) int {
	n := 0
	for pos, i := range served {
		for _, j := range served[:pos] {
			if j > i {
				n++
			}
		}
	}
	return n
}
