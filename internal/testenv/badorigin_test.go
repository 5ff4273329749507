package testenv

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get sends one GET on a fresh connection and returns the response as the client saw it,
// and the error that ended reading the body.
func get(t *testing.T, o *BadOrigin, path string) (*http.Response, []byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestBadOrigin_shapes(t *testing.T) {
	o := StartBadOrigin(t)
	body := []byte(strings.Repeat("a", 400))
	o.Script("/whole", Script{Framing: Chunked, Chunk: 100, Body: body})
	o.Script("/boundary", Script{Framing: Chunked, Chunk: 100, Body: body, Cut: ChunkBoundary})
	o.Script("/midchunk", Script{Framing: Chunked, Body: body, Cut: MidChunk, CutAt: 150})
	o.Script("/short", Script{Body: body, Cut: ShortLength, CutAt: 100})
	o.Script("/reset", Script{Body: body, Cut: Reset, CutAt: 100})
	o.Script("/close", Script{Framing: CloseDelimited, Body: body})
	tests := []struct {
		path    string
		n       int
		wantErr error
	}{
		{"/whole", 400, nil},
		{"/boundary", 400, io.ErrUnexpectedEOF},
		{"/midchunk", 150, io.ErrUnexpectedEOF},
		{"/short", 100, io.ErrUnexpectedEOF},
		{"/reset", 100, syscall.ECONNRESET},
		{"/close", 400, nil},
	}
	for _, tt := range tests {
		_, got, err := get(t, o, tt.path)
		if len(got) != tt.n || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: read %d bytes, err %v; want %d bytes, err %v", tt.path, len(got), err, tt.n, tt.wantErr)
		}
	}
	if got := o.Count("/whole"); got != 1 {
		t.Errorf("Count(/whole) = %d, want 1", got)
	}
	reqs := o.Requests()
	if len(reqs) != len(tests) || reqs[0].Get("x-dup") != "1" || len(reqs[0].Header) != 3 {
		t.Errorf("request log = %+v", reqs)
	}
}

func TestBadOrigin_interimAndSequence(t *testing.T) {
	o := StartBadOrigin(t)
	o.Sequence("/s",
		Script{Status: 503},
		Script{Interim: []Interim{{103, Fields("Link", "</a.css>; rel=preload")}, {100, nil}}, Body: []byte("final")})
	if resp, _, _ := get(t, o, "/s"); resp.StatusCode != 503 {
		t.Fatalf("first status %d, want 503", resp.StatusCode)
	}
	for range 2 {
		// net/http's ReadResponse returns the first response it reads: the 103.
		resp, _, _ := get(t, o, "/s")
		if resp.StatusCode != 103 || resp.Header.Get("Link") == "" {
			t.Fatalf("status %d %v, want the 103 with its Link", resp.StatusCode, resp.Header)
		}
	}
}

func TestBadOrigin_idleClose(t *testing.T) {
	o := StartBadOrigin(t)
	o.Script("/", Script{Body: []byte("x"), IdleClose: 50 * time.Millisecond})
	c, err := net.Dial("tcp", o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the idle time: %v, want EOF (the origin closed)", err)
	}
}
