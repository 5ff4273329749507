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
// the connection's next response up to 200 ms. A HEAD (no body stream) and a smaller body
// are sent uncorked, as before.
func TestNode_diskHitCorksALargeBodyWithItsHead(t *testing.T) {
	events := make(chan corkEvent, 64)
	testHookCork = func(where string, corked bool) { events <- corkEvent{where, corked} }
	t.Cleanup(func() { testHookCork = nil }) // registered first: runs after the node stops
	large, small := largeBody(corkMinBody+5), largeBody(256<<10)
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
	// do sends one request on the keep-alive connection and returns the cork events of its
	// response: none until the object is a disk hit (the disk write is asynchronous).
	do := func(method, path string, want []byte) []corkEvent {
		t.Helper()
		for range 100 {
			fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: www.example.com\r\n\r\n", method, path)
			resp, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || (method == "GET" && !bytesEqual(body, want)) {
				t.Fatalf("%s %s: %d bytes (err %v), not the object's %d", method, path, len(body), err, len(want))
			}
			var got []corkEvent
			deadline := time.After(5 * time.Second)
			for done := false; !done; {
				select {
				case e := <-events:
					got = append(got, e)
					// a response's last event: a sendfile without a cork, or its uncork
					done = e.where == "uncorked" || !e.corked
				case <-time.After(200 * time.Millisecond):
					done = true // no disk hit (yet), or a HEAD with no cork
				case <-deadline:
					done = true
				}
			}
			if len(got) > 0 || method == "HEAD" {
				return got
			}
			time.Sleep(20 * time.Millisecond) // the disk write is asynchronous
		}
		t.Fatalf("%s %s never became a disk hit sent by sendfile", method, path)
		return nil
	}
	for _, tc := range []struct {
		method, path string
		want         []byte
		events       []corkEvent
	}{
		{"GET", "/large.bin", large, []corkEvent{{"sendfile", true}, {"uncorked", false}}},
		{"HEAD", "/large.bin", nil, nil},
		{"GET", "/small.bin", small, []corkEvent{{"sendfile", false}}},
		{"GET", "/large.bin", large, []corkEvent{{"sendfile", true}, {"uncorked", false}}},
	} {
		if got := do(tc.method, tc.path, tc.want); fmt.Sprint(got) != fmt.Sprint(tc.events) {
			t.Errorf("%s %s: cork events %v, want %v", tc.method, tc.path, got, tc.events)
		}
	}
}
