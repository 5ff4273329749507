package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A rejoined owner adopting a large object from its runner-up (only-if-cached) read it whole
// over the peer hop before its client got a byte. Now the client's first byte comes while
// the runner-up is still sending (the runner-up here holds the second half of the body until
// the client has a body byte, so the old behaviour never answers), and the object is kept
// once whole: asked again, the owner answers it from its store, the origin never asked.
func TestCluster_adoptedObjectStreamsToTheClient(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "origin body")
	})
	nodes := startCluster(t, 3, origin.URL) // each in its adoption window
	owner, runnerUp := nodes[0], nodes[1]
	path := ""
	for i := range 1000 {
		p := fmt.Sprintf("/adopt-stream-%d.css", i)
		if o := owner.Ring().Owners(cacheKey("http", "site", p, ""), 2); o[0].Name == owner.name && o[1].Name == runnerUp.name {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no path owned by node-1 with node-2 next")
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	release := make(chan struct{})
	replacePeerPort(t, runnerUp, func(c net.Conn) {
		r := bufio.NewReader(c)
		for line, err := r.ReadString('\n'); err == nil && line != "\r\n"; line, err = r.ReadString('\n') {
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nCache-Control: max-age=600\r\nDate: %s\r\n\r\n",
			len(body), time.Now().UTC().Format(http.TimeFormat))
		c.Write(body[:len(body)/2])
		select {
		case <-release:
		case <-time.After(15 * time.Second):
		}
		c.Write(body[len(body)/2:])
	})

	conn, err := net.Dial("tcp", owner.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: site\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no head from the adopting owner before the whole object crossed the peer hop: %v", err)
	}
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("no first body byte while the runner-up holds the rest: %v", err)
	}
	close(release) // the first-byte hook: the runner-up sends the rest
	rest, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(append(first, rest...), body) {
		t.Fatalf("%d, %d bytes, err %v; want 200 with the %d-byte object", resp.StatusCode, 1+len(rest), err, len(body))
	}

	status, header, again := get(t, "http://"+owner.HTTPAddr()+path, "Host", "site")
	if status != 200 || again != string(body) || !strings.HasPrefix(header.Get("Cache-Status"), "shoal; hit") {
		t.Errorf("asked again: %d, %d bytes, Cache-Status %q; want a hit with the object", status, len(again), header.Get("Cache-Status"))
	}
	if n := origin.requests.Load(); n != 0 {
		t.Errorf("origin asked %d times, want 0", n)
	}
}
