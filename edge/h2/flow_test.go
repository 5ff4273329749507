package h2

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestServer_smallWindows: with a 1000-byte stream window granted back in 700-byte steps,
// large bodies arrive byte-exact in many DATA frames, none larger than the window the
// client granted (rawClient fails the test otherwise), from synchronous and detached
// handlers; and a window raised by SETTINGS mid-response applies to the open stream.
func TestServer_smallWindows(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	c := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
	for i, tc := range []struct {
		path string
		want []byte
	}{
		{"/size/300000", pattern(300000)},   // Respond: the body retained until the window opens
		{"/async/300000", pattern(300000)},  // detached Writes blocking on the window
		{"/chunks/300000", pattern(300000)}, // synchronous Writes: copies of what must wait
		{"/size/17", pattern(17)},
	} {
		id := uint32(2*i + 1)
		path, want := tc.path, tc.want
		c.request(id, path, true)
		c.flush()
		r := c.readResponse(id, 700)
		if r.status != 200 || !bytes.Equal(r.body, want) {
			t.Fatalf("%s: %d with %d bytes, want 200 with %d exact bytes", path, r.status, len(r.body), len(want))
		}
	}

	// A zero window, then SETTINGS opening it: the queued response flows (RFC 9113 §6.9.2).
	z := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	z.request(1, "/size/50000", true)
	z.flush()
	for {
		f, err := z.readFrame(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(*http2.MetaHeadersFrame); ok {
			break
		}
		if _, ok := f.(*http2.DataFrame); ok {
			t.Fatal("DATA sent into a zero window")
		}
	}
	z.initWindow = 60000
	z.streamWindow[1] = 60000
	z.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 60000})
	z.flush()
	r := z.readResponse(1, 0)
	if !bytes.Equal(r.body, pattern(50000)) {
		t.Fatalf("after SETTINGS opened the window: %d bytes, want 50000", len(r.body))
	}
}

// stallHandler records what a detached writer's Write returned.
type stallHandler struct{ errs chan error }

func (h stallHandler) ServeH2(w ResponseWriter, r *Request) {
	w.Detach()
	go func() {
		w.WriteHeader(200, nil)
		_, err := w.Write(pattern(100000))
		w.Abort()
		h.errs <- err
	}()
}

// TestServer_stall: a stream whose window never opens is reset with CANCEL after
// StallTimeout and its queued data freed; a detached writer gets ErrStalled; a connection
// whose connection window never opens gets GOAWAY ENHANCE_YOUR_CALM; meanwhile another
// connection is answered.
func TestServer_stall(t *testing.T) {
	cfg := Config{StallTimeout: 200 * time.Millisecond}
	ts := startServer(t, cfg, nil, false)

	t.Run("stream window", func(t *testing.T) {
		c := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		c.request(1, "/size/100000", true)
		c.flush()
		stillServes(t, ts.Addr) // while the stream waits
		r := c.readResponse(1, 0)
		if !r.reset || r.rst != http2.ErrCodeCancel || len(r.body) != 0 {
			t.Fatalf("got reset=%v %v with %d bytes, want RST_STREAM CANCEL and no content", r.reset, r.rst, len(r.body))
		}
		assertNoQueued(t, ts.srv)
	})

	t.Run("detached writer", func(t *testing.T) {
		h := stallHandler{errs: make(chan error, 1)}
		ts := startServer(t, cfg, h, false)
		c := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		c.request(1, "/", true)
		c.flush()
		select {
		case err := <-h.errs:
			if !errors.Is(err, ErrStalled) {
				t.Fatalf("Write returned %v, want ErrStalled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Write still blocked on a window that never opens")
		}
	})

	t.Run("connection window", func(t *testing.T) {
		c := dialRaw(t, ts.Addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
		c.request(1, "/size/200000", true)
		c.flush()
		stillServes(t, ts.Addr) // while the connection waits
		g := c.readGoAway(10 * time.Second)
		if g.ErrCode != http2.ErrCodeEnhanceYourCalm {
			t.Fatalf("GOAWAY %v, want ENHANCE_YOUR_CALM", g.ErrCode)
		}
		if !c.closedWithin(5 * time.Second) {
			t.Fatal("connection still open after GOAWAY")
		}
	})
}

// assertNoQueued checks that no connection of srv holds streams or queued data.
func assertNoQueued(t *testing.T, srv *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var streams, blocked, active int
		srv.mu.Lock()
		for c := range srv.conns {
			c.mu.Lock()
			streams += len(c.streams)
			blocked += len(c.blocked)
			active += c.active
			c.mu.Unlock()
		}
		srv.mu.Unlock()
		if streams+blocked+active == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still holds %d streams, %d with queued data, %d counted", streams, blocked, active)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
