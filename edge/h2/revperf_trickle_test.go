package h2

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestServer_trickledUploadOutlivesTheIdleTimeout: content that keeps arriving never idles
// the connection, however it falls into reads. Each write ends a few bytes into the next
// DATA frame, so a frame boundary never finds the read buffer empty (a slow link splits
// frames so): the read deadline must still move on while content comes, as it does when
// the buffer empties between frames, and the upload, three IdleTimeouts long in well under
// 64 frames, gets its answer.
func TestServer_trickledUploadOutlivesTheIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		w.Detach()
		go func() {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				w.Abort()
				return
			}
			w.Respond(200, nil, []byte(strconv.Itoa(len(b))))
		}()
	})
	ts := startServer(t, Config{IdleTimeout: idle}, h, false)
	c := dialRaw(t, ts.Addr)
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: c.headerBlock("POST", "/up"), EndHeaders: true})
	c.flush()

	// The content's frames, serialized, then written a piece at a time.
	const frames, size = 36, 100
	var wire bytes.Buffer
	fr := http2.NewFramer(&wire, nil)
	for i := range frames {
		fr.WriteData(1, i == frames-1, bytes.Repeat([]byte{'u'}, size))
	}
	b := wire.Bytes()
	frameLen := 9 + size
	for i, at := 0, 0; i < frames; i++ {
		end := min((i+1)*frameLen+5, len(b)) // 5 bytes into the next frame's header
		if _, err := c.nc.Write(b[at:end]); err != nil {
			t.Fatalf("frame %d: %v (the server closed the connection)", i, err)
		}
		at = end
		time.Sleep(idle * 3 / frames)
	}
	r := c.readResponse(1, 0)
	if r.status != 200 || string(r.body) != strconv.Itoa(frames*size) {
		t.Fatalf("status %d, body %q, reset %v", r.status, r.body, r.reset)
	}
}
