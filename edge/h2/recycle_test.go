package h2

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestServer_recyclesOnlyFinishedStreams: streams answered inline are reused for the next
// request on the connection, and a detached stream never is: a handler holding one answers
// it after many inline streams came and went on the same connection, and every stream gets
// its own answer (its path back), its Done channel closed only for it.
func TestServer_recyclesOnlyFinishedStreams(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan error, 8)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if strings.HasPrefix(r.Path, "/slow") {
			w.Detach()
			path := r.Path
			var done <-chan struct{}
			if strings.HasSuffix(path, "0") { // half of them hold Done, half only w
				done = w.Done()
			}
			go func() {
				<-release
				select {
				case <-done:
					finished <- fmt.Errorf("%s: Done closed before its answer", path)
					return
				default:
				}
				finished <- w.Respond(200, nil, []byte(path))
			}()
			return
		}
		w.Respond(200, []Field{{Name: "x-path", Value: r.Path}}, []byte(r.Path))
	})
	ts := startServer(t, Config{}, h, false)
	c := dialRaw(t, ts.Addr)
	want := map[uint32]string{}
	id := uint32(1)
	for i := range 40 {
		path := fmt.Sprintf("/p%d", i)
		if i%10 == 0 {
			path = fmt.Sprintf("/slow%d", i) // /slow0, /slow10, /slow20, /slow30
		}
		if i%10 == 5 {
			path = fmt.Sprintf("/slow%d", i) // /slow5, /slow15, ...: not holding Done
		}
		c.request(id, path, true)
		want[id] = path
		id += 2
	}
	c.flush()
	got := map[uint32]string{}
	ended := 0
	read := func(n int) {
		for ended < n {
			f, err := c.readFrame(10 * time.Second)
			if err != nil {
				t.Fatalf("after %d streams ended: %v", ended, err)
			}
			switch f := f.(type) {
			case *http2.DataFrame:
				got[f.StreamID] += string(f.Data())
				if f.StreamEnded() {
					ended++
				}
			case *http2.RSTStreamFrame:
				t.Fatalf("stream %d reset: %v", f.StreamID, f.ErrCode)
			}
		}
	}
	read(32) // every inline answer, while the detached handlers wait
	close(release)
	for range 8 {
		if err := <-finished; err != nil {
			t.Fatal(err)
		}
	}
	read(40)
	for id, path := range want {
		if got[id] != path {
			t.Errorf("stream %d: answered %q, want %q", id, got[id], path)
		}
	}
}
