package edge

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestH2Serve_everyHeadDecodesAsSent: hits of many objects with heads of their own, on
// connections whose SETTINGS_HEADER_TABLE_SIZE changes between batches (0, small, back up;
// RFC 7541 section 4.2), with streams open concurrently, HEADs among the GETs, and some
// streams reset by the client right after their HEADERS (streams are reused on the
// connection). An independent decoder reads every header block in order, and every
// response's fields and body are the object's own, byte for byte: an indexed representation
// replayed after the dynamic table moved, or a recycled stream seen by another request,
// would show as another object's field or body.
func TestH2Serve_everyHeadDecodesAsSent(t *testing.T) {
	const objects = 48
	bodyOf := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 200+i*37) }
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/o"), ".css"))
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", fmt.Sprintf(`"e%d"`, i))
		w.Header().Set("X-Obj", fmt.Sprintf("object-%d", i))
		if i%3 == 0 { // large fields: inserting them evicts others
			w.Header().Set("X-Big", strings.Repeat(strconv.Itoa(i%10), 900+i*11))
		}
		w.Write(bodyOf(i))
	})
	n, pool := h2Node(t, oneRoute(true, origin.URL))
	warm := h2Client(pool, n.HTTPSAddr())
	for i := range objects {
		if resp, b := fetch(t, warm, "GET", fmt.Sprintf("https://www.example.test/o%d.css", i)); resp.StatusCode != 200 || !bytes.Equal(b, bodyOf(i)) {
			t.Fatalf("warm /o%d.css: %d, %d bytes", i, resp.StatusCode, len(b))
		}
	}
	n.settleFills()

	var wg sync.WaitGroup
	var checked atomic.Int64
	for conn := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(conn), 7))
			r := dialRawH2(t, n.HTTPSAddr())
			id := uint32(1)
			for batch, size := range []uint32{4096, 0, 256, 4096, 64, 1024, 4096, 100, 4096, 0, 4096} {
				if batch > 0 {
					r.fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: size})
					r.dec.SetAllowedMaxDynamicTableSize(max(size, 4096))
				}
				type want struct {
					obj   int
					head  bool
					reset bool
				}
				streams := map[uint32]want{}
				for range 24 {
					w := want{obj: rng.IntN(objects), head: rng.IntN(5) == 0, reset: rng.IntN(7) == 0}
					method := "GET"
					if w.head {
						method = "HEAD"
					}
					r.request(id, method, fmt.Sprintf("/o%d.css", w.obj), nil)
					if w.reset {
						r.fr.WriteRSTStream(id, http2.ErrCodeCancel)
					}
					streams[id] = w
					id += 2
				}
				got := map[uint32][]hpack.HeaderField{}
				content := map[uint32][]byte{}
				open := 0
				for _, w := range streams {
					if !w.reset {
						open++
					}
				}
				// A reset stream may get an answer, part of one or nothing: after the last
				// other stream ends, a PING's ack follows whatever was sent for them.
				pinged := false
				for {
					if open == 0 && !pinged {
						r.fr.WritePing(false, [8]byte{byte(batch)})
						pinged = true
					}
					r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
					f, err := r.fr.ReadFrame()
					if err != nil {
						t.Errorf("conn %d batch %d: %v (%d streams open)", conn, batch, err, open)
						return
					}
					var sid uint32
					ended := false
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							r.fr.WriteSettingsAck()
						}
					case *http2.PingFrame:
						if !f.IsAck() {
							r.fr.WritePing(true, f.Data)
						}
					case *http2.WindowUpdateFrame:
					case *http2.HeadersFrame:
						hf, err := r.dec.DecodeFull(f.HeaderBlockFragment())
						if err != nil {
							t.Errorf("conn %d batch %d stream %d: %v", conn, batch, f.StreamID, err)
							return
						}
						sid, ended = f.StreamID, f.StreamEnded()
						got[sid] = hf
					case *http2.DataFrame:
						sid, ended = f.StreamID, f.StreamEnded()
						content[sid] = append(content[sid], f.Data()...)
						if k := len(f.Data()); k > 0 {
							r.fr.WriteWindowUpdate(0, uint32(k))
							if _, ok := streams[sid]; ok && !ended {
								r.fr.WriteWindowUpdate(sid, uint32(k))
							}
						}
					case *http2.RSTStreamFrame:
						sid, ended = f.StreamID, true
					case *http2.GoAwayFrame:
						t.Errorf("conn %d: GOAWAY %v", conn, f.ErrCode)
						return
					}
					if pf, ok := f.(*http2.PingFrame); ok && pf.IsAck() && pinged {
						break
					}
					if w, ok := streams[sid]; ok && ended {
						if !w.reset {
							open--
						}
						delete(streams, sid)
						if hf := got[sid]; hf != nil || !w.reset {
							checked.Add(1)
							checkObjectHead(t, fmt.Sprintf("conn %d batch %d stream %d (%+v)", conn, batch, sid, w), hf, content[sid], bodyOf(w.obj), w.obj, w.head, w.reset)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := checked.Load(); got < 3*11*24/2 {
		t.Errorf("only %d answers checked", got)
	}
	t.Logf("%d answers checked", checked.Load())
}

// checkObjectHead compares one decoded response with object i's. A stream the client
// reset may end short; what arrived must still be the object's.
func checkObjectHead(t *testing.T, what string, hf []hpack.HeaderField, content, body []byte, i int, head, reset bool) {
	t.Helper()
	fields := map[string][]string{}
	for _, f := range hf {
		fields[f.Name] = append(fields[f.Name], f.Value)
	}
	one := func(name, want string) {
		if v := fields[name]; len(v) != 1 || v[0] != want {
			t.Errorf("%s: %s %q, want %q", what, name, v, want)
		}
	}
	one(":status", "200")
	one("etag", fmt.Sprintf(`"e%d"`, i))
	one("x-obj", fmt.Sprintf("object-%d", i))
	one("content-length", strconv.Itoa(len(body)))
	if i%3 == 0 {
		one("x-big", strings.Repeat(strconv.Itoa(i%10), 900+i*11))
	} else if v := fields["x-big"]; v != nil {
		t.Errorf("%s: x-big of another object", what)
	}
	if cs := fields["cache-status"]; len(cs) != 1 || !strings.Contains(cs[0], "; hit") {
		t.Errorf("%s: cache-status %q", what, cs)
	}
	switch {
	case head:
		if len(content) > 0 {
			t.Errorf("%s: HEAD with %d bytes of content", what, len(content))
		}
	case reset:
		if !bytes.HasPrefix(body, content) {
			t.Errorf("%s: %d bytes, not the object's", what, len(content))
		}
	case !bytes.Equal(content, body):
		t.Errorf("%s: %d bytes, want the object's %d", what, len(content), len(body))
	}
}
