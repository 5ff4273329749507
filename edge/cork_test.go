package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

type corkEvent struct {
	where  string
	corked bool
}

// A disk hit of corkMinBody or more over HTTP/1.1 is sent corked (its head leaves in the
// body's first segment, and no window-sized sliver leaves before the body is queued), and
// the cork is released once the body is handed to the kernel: a cork left behind would hold
// the connection's next response up to 200 ms. A HEAD (no body stream) and a body one byte
// smaller are sent uncorked.
//
// Deterministic: each object's miss waits for its record to be queued for the disk writer
// (testHookDiskQueued) and written (Disk.Wait), so every later request is a disk hit; each
// disk hit's events end with its body's close, and a HEAD, which has none, is followed by a
// GET whose events would show any of the HEAD's.
func TestNode_diskHitCorksALargeBodyWithItsHead(t *testing.T) {
	events := make(chan corkEvent, 64)
	queued := make(chan string, 8)
	testHookCork = func(where string, corked bool) { events <- corkEvent{where, corked} }
	testHookDiskQueued = func(key string) { queued <- key }
	t.Cleanup(func() { testHookCork, testHookDiskQueued = nil, nil }) // registered first: runs after the node stops
	large, small := largeBody(int(corkMinBody)), largeBody(int(corkMinBody)-1)
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		if strings.HasSuffix(r.URL.Path, "/large.bin") {
			w.Write(large)
		} else {
			w.Write(small)
		}
	})
	dir := t.TempDir()
	yaml := strings.Replace(oneRoute(true, o.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
		fmt.Sprintf("max_object_size: 128KiB, fill_timeout: 5s, disk: {path: %q, size: 64MiB, max_object_size: 32MiB}}", dir), 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	c, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	// do sends one request on the keep-alive connection and reads its response whole.
	do := func(method, path string, want []byte) {
		t.Helper()
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: www.example.com\r\n\r\n", method, path)
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || (method == "GET" && !bytesEqual(body, want)) {
			t.Fatalf("%s %s: %d bytes (err %v), not the object's %d", method, path, len(body), err, len(want))
		}
	}
	for _, path := range []string{"/large.bin", "/small.bin"} {
		do("GET", path, map[string][]byte{"/large.bin": large, "/small.bin": small}[path])
		select {
		case key := <-queued:
			if !strings.Contains(key, path) {
				t.Fatalf("queued for disk: %q, want %s's record", key, path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was never queued for the disk tier", path)
		}
		n.disk.d.Wait()
	}
	// eventsOf returns the cork events of a disk hit's response, up to its body's close.
	eventsOf := func() []corkEvent {
		t.Helper()
		var got []corkEvent
		deadline := time.After(10 * time.Second)
		for {
			select {
			case e := <-events:
				if got = append(got, e); e.where == "closed" {
					return got
				}
			case <-deadline:
				t.Fatalf("no close of the disk hit's body; events so far %v", got)
			}
		}
	}
	for _, tc := range []struct {
		method, path string
		want         []byte
		events       []corkEvent
	}{
		{"GET", "/large.bin", large, []corkEvent{{"sendfile", true}, {"uncorked", false}, {"closed", false}}},
		{"HEAD", "/large.bin", nil, nil},
		{"GET", "/small.bin", small, []corkEvent{{"sendfile", false}, {"closed", false}}},
		{"GET", "/large.bin", large, []corkEvent{{"sendfile", true}, {"uncorked", false}, {"closed", false}}},
	} {
		do(tc.method, tc.path, tc.want)
		var got []corkEvent
		if tc.method == "GET" {
			got = eventsOf()
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.events) {
			t.Errorf("%s %s: cork events %v, want %v", tc.method, tc.path, got, tc.events)
		}
	}
}
