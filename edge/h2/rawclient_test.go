package h2

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawClient speaks HTTP/2 frame by frame (h2c with prior knowledge), so tests can do what
// no polite client does: shut windows, reset streams in bulk, flood frames. It checks the
// server's flow control from the receiving side: a DATA frame larger than the window it
// granted fails the test.
type rawClient struct {
	t    testing.TB
	nc   net.Conn
	wmu  sync.Mutex // writes: a flood goroutine and the reader's SETTINGS ack
	bw   *bufio.Writer
	fr   *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer

	connWindow   int64 // what the server may still send on the connection
	streamWindow map[uint32]int64
	initWindow   int64
}

// dialRaw connects and sends the preface with the given SETTINGS (a nil map sends none).
func dialRaw(t testing.TB, addr string, settings ...http2.Setting) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, nc: nc, bw: bufio.NewWriter(nc), connWindow: 65535, initWindow: 65535,
		streamWindow: map[uint32]int64{}}
	c.fr = http2.NewFramer(c.bw, bufio.NewReader(nc))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.henc = hpack.NewEncoder(&c.hbuf)
	for _, s := range settings {
		if s.ID == http2.SettingInitialWindowSize {
			c.initWindow = int64(s.Val)
		}
	}
	c.bw.WriteString(http2.ClientPreface)
	c.fr.WriteSettings(settings...)
	c.flush()
	// Take the server's SETTINGS now, so the ack cannot land inside a header block a test
	// is writing later.
	f, err := c.readFrame(5 * time.Second)
	if err != nil {
		t.Fatalf("reading the server's SETTINGS: %v", err)
	}
	if _, ok := f.(*http2.SettingsFrame); !ok {
		t.Fatalf("first frame %v, want SETTINGS", f)
	}
	return c
}

func (c *rawClient) flush() {
	c.t.Helper()
	if err := c.bw.Flush(); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// headerBlock encodes a request for path with extra fields.
func (c *rawClient) headerBlock(method, path string, extra ...string) []byte {
	c.hbuf.Reset()
	w := func(n, v string) { c.henc.WriteField(hpack.HeaderField{Name: n, Value: v}) }
	w(":method", method)
	w(":scheme", "http")
	w(":authority", "localhost")
	w(":path", path)
	for i := 0; i+1 < len(extra); i += 2 {
		w(extra[i], extra[i+1])
	}
	return append([]byte(nil), c.hbuf.Bytes()...)
}

// request sends HEADERS for a GET (END_STREAM when end) without flushing.
func (c *rawClient) request(id uint32, path string, end bool, extra ...string) {
	c.streamWindow[id] = c.initWindow
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headerBlock("GET", path, extra...),
		EndStream: end, EndHeaders: true})
}

// writeBlock sends a header block as HEADERS and as many CONTINUATION frames as 16 KiB
// frames need.
func (c *rawClient) writeBlock(id uint32, block []byte, endStream bool) {
	first := block[:min(len(block), 16384)]
	block = block[len(first):]
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: endStream, EndHeaders: len(block) == 0})
	for len(block) > 0 {
		k := min(len(block), 16384)
		c.fr.WriteContinuation(id, k == len(block), block[:k])
		block = block[k:]
	}
}

// response is what readResponse saw on one stream.
type response struct {
	interim []int
	status  int
	fields  []hpack.HeaderField
	body    []byte
	rst     http2.ErrCode
	reset   bool
	ended   bool
}

// readFrame reads one frame, failing the test on error; it tracks the windows and fails
// when a DATA frame exceeds what was granted.
func (c *rawClient) readFrame(deadline time.Duration) (http2.Frame, error) {
	c.nc.SetReadDeadline(time.Now().Add(deadline))
	f, err := c.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		c.wmu.Lock()
		defer c.wmu.Unlock()
		n := int64(f.Length)
		if n > c.connWindow {
			c.t.Fatalf("flow control: DATA of %d bytes with a connection window of %d", n, c.connWindow)
		}
		if w, ok := c.streamWindow[f.StreamID]; ok && n > w {
			c.t.Fatalf("flow control: DATA of %d bytes on stream %d with a window of %d", n, f.StreamID, w)
		}
		c.connWindow -= n
		c.streamWindow[f.StreamID] -= n
	case *http2.SettingsFrame:
		if !f.IsAck() {
			c.wmu.Lock()
			c.fr.WriteSettingsAck()
			c.bw.Flush()
			c.wmu.Unlock()
		}
	}
	return f, nil
}

// grant sends WINDOW_UPDATE for the stream (id != 0) or the connection.
func (c *rawClient) grant(id uint32, n uint32) {
	c.fr.WriteWindowUpdate(id, n)
	if id == 0 {
		c.connWindow += int64(n)
	} else {
		c.streamWindow[id] += int64(n)
	}
}

// readResponse reads until stream id ends or is reset, granting window back in chunks of
// at most grant bytes (0: never), and returns what it saw. Frames of other streams are
// ignored.
func (c *rawClient) readResponse(id uint32, grant int) response {
	c.t.Helper()
	var r response
	for !r.ended && !r.reset {
		f, err := c.readFrame(10 * time.Second)
		if err != nil {
			c.t.Fatalf("stream %d: %v (so far: status %d, %d bytes)", id, err, r.status, len(r.body))
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				continue
			}
			st, _ := strconv.Atoi(f.PseudoValue("status"))
			if st >= 100 && st < 200 {
				r.interim = append(r.interim, st)
			} else if st != 0 {
				r.status, r.fields = st, f.RegularFields()
			}
			r.ended = f.StreamEnded()
		case *http2.DataFrame:
			if f.StreamID != id {
				continue
			}
			r.body = append(r.body, f.Data()...)
			r.ended = f.StreamEnded()
			if grant > 0 && f.Length > 0 && !r.ended {
				for left := int(f.Length); left > 0; left -= grant {
					k := uint32(min(left, grant))
					c.grant(0, k)
					c.grant(id, k)
				}
				c.flush()
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				r.reset, r.rst = true, f.ErrCode
			}
		case *http2.GoAwayFrame:
			c.t.Fatalf("stream %d: GOAWAY %v", id, f.ErrCode)
		}
	}
	return r
}

// readGoAway reads until GOAWAY arrives and returns it, or fails after within.
func (c *rawClient) readGoAway(within time.Duration) *http2.GoAwayFrame {
	c.t.Helper()
	end := time.Now().Add(within)
	for time.Now().Before(end) {
		f, err := c.readFrame(time.Until(end))
		if err != nil {
			c.t.Fatalf("no GOAWAY: %v", err)
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			return g
		}
	}
	c.t.Fatalf("no GOAWAY within %v", within)
	return nil
}

// floodFrom writes n frames with send from a goroutine, flushing every 100, until the
// server hangs up.
func (c *rawClient) floodFrom(n int, send func(i int)) {
	go func() {
		for i := range n {
			c.wmu.Lock()
			send(i)
			var err error
			if i%100 == 99 || i == n-1 {
				err = c.bw.Flush()
			}
			c.wmu.Unlock()
			if err != nil {
				return // the server hung up, as it should
			}
		}
	}()
}

// closedWithin reports whether the server closes the connection within d (reading and
// dropping frames meanwhile).
func (c *rawClient) closedWithin(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		c.nc.SetReadDeadline(end)
		if _, err := c.fr.ReadFrame(); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, io.EOF)
		}
	}
	return false
}

func hpackField(name, value string) hpack.HeaderField {
	return hpack.HeaderField{Name: name, Value: value}
}
