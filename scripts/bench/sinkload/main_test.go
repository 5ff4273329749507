package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

const size256k = 256 << 10

// servers starts a scripted raw origin and an nginx in front of it that serves files
// (Content-Length), the same files through SSI (no length: chunked), a location that ends
// each connection after two responses, and /cut/ proxied to the origin.
func servers(t *testing.T) (*testenv.Nginx, *testenv.BadOrigin) {
	t.Helper()
	o := testenv.StartBadOrigin(t)
	n := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
    location /ssi/ { ssi on; ssi_types *; }
    location /ka/ { keepalive_requests 2; }
    location /cut/ { proxy_pass http://` + o.Addr + `; proxy_http_version 1.1; proxy_buffering off; }`})
	body := strings.Repeat("a", size256k)
	for _, f := range []string{"256k.bin", "ssi/256k.bin", "ka/256k.bin"} {
		n.WriteFile(f, body)
	}
	n.WriteFile("1b.bin", "a")
	n.WriteFile("empty.bin", "")
	return n, o
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return newClient(c.(*net.TCPConn))
}

func get(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

func TestClient_framesEveryBodyFromNginxAndKeepsTheConnection(t *testing.T) {
	n, _ := servers(t)
	for _, tc := range []struct {
		name, path string
		size       int64
	}{
		{"content-length", "/256k.bin", size256k},
		{"chunked (ssi)", "/ssi/256k.bin", size256k},
		{"one byte, inside the head's read", "/1b.bin", 1},
		{"empty", "/empty.bin", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, n.Addr)
			for i := range 3 {
				resp, err := c.roundTrip(get(tc.path))
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				if resp.status != 200 || resp.body != tc.size || resp.close {
					t.Fatalf("response %d: %+v, want 200, %d body bytes, kept open", i, resp, tc.size)
				}
			}
		})
	}
}

// nginx's SSI answer really is chunked, so the test above reads chunks.
func TestClient_ssiAnswerIsChunked(t *testing.T) {
	n, _ := servers(t)
	c := dial(t, n.Addr)
	if _, err := c.tcp.Write(get("/ssi/256k.bin")); err != nil {
		t.Fatal(err)
	}
	h, err := c.readHead()
	if err != nil {
		t.Fatal(err)
	}
	if !h.chunked || h.length != -1 {
		t.Fatalf("head %+v: want chunked without Content-Length", h)
	}
}

func TestClient_serverClosingAfterAResponseIsSeen(t *testing.T) {
	n, _ := servers(t)
	c := dial(t, n.Addr)
	for i, wantClose := range []bool{false, true} {
		resp, err := c.roundTrip(get("/ka/256k.bin"))
		if err != nil || resp.close != wantClose || resp.body != size256k {
			t.Fatalf("response %d: %+v, %v; want close=%v", i, resp, err, wantClose)
		}
	}
	if _, err := c.roundTrip(get("/ka/256k.bin")); err == nil {
		t.Fatal("a request on the connection nginx closed got an answer")
	}
}

func TestClient_bodyCutShortIsAnError(t *testing.T) {
	n, o := servers(t)
	body := bytes.Repeat([]byte("b"), size256k)
	o.Script("/cut/length", testenv.Script{Body: body, Cut: testenv.ShortLength, CutAt: 100000})
	o.Script("/cut/chunk", testenv.Script{Body: body, Framing: testenv.Chunked, Chunk: 65536, Cut: testenv.MidChunk, CutAt: 100000})
	for _, path := range []string{"/cut/length", "/cut/chunk"} {
		t.Run(path, func(t *testing.T) {
			c := dial(t, n.Addr)
			resp, err := c.roundTrip(get(path))
			if !errors.Is(err, errClosed) {
				t.Fatalf("got %+v, %v; want %v", resp, err, errClosed)
			}
		})
	}
}

func TestClient_closeBeforeTheHeadIsAnError(t *testing.T) {
	_, o := servers(t)
	o.Script("/hangup", testenv.Script{Hangup: true})
	c := dial(t, o.Addr)
	if _, err := c.roundTrip(get("/hangup")); !errors.Is(err, errClosed) {
		t.Fatalf("got %v, want %v", err, errClosed)
	}
}

func TestClient_headsThatCannotFrameABodyAreRefused(t *testing.T) {
	_, o := servers(t)
	for name, raw := range map[string]string{
		"length and chunked": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"two lengths":        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"gzip coding last":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		"not HTTP/1":         "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
		"bad chunk size":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := "/raw/" + strconv.Itoa(len(name))
			o.Script(path, testenv.Script{Raw: []byte(raw), Close: true})
			c := dial(t, o.Addr)
			if resp, err := c.roundTrip(get(path)); err == nil {
				t.Fatalf("got %+v, want an error", resp)
			}
		})
	}
}

// runRow runs the command for a short while and splits its output line.
func runRow(t *testing.T, args ...string) ([]string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	f := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\t")
	if len(f) != 7 {
		t.Fatalf("output %q (stderr %q): want 7 tab-separated fields", out.String(), errOut.String())
	}
	return f, err
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("field %q: %v", s, err)
	}
	return v
}

func TestRun_bytesEqualResponsesTimesSize(t *testing.T) {
	n, _ := servers(t)
	// /ka/ closes every connection after two responses: more than two responses on one
	// connection slot means it dialled again, without an error.
	for _, path := range []string{"/256k.bin", "/ssi/256k.bin", "/ka/256k.bin"} {
		t.Run(path, func(t *testing.T) {
			f, err := runRow(t, "-url", n.URL+path, "-size", strconv.Itoa(size256k), "-c", "1", "-d", "1s")
			if err != nil {
				t.Fatalf("%v (row %q)", err, f)
			}
			responses, errs, body := atoi(t, f[3]), atoi(t, f[4]), atoi(t, f[5])
			if errs != 0 || responses < 3 || body != responses*size256k {
				t.Fatalf("row %q: want no errors, at least 3 responses and %d bytes each", f, size256k)
			}
		})
	}
}

func TestRun_wrongLengthRefusesTheRow(t *testing.T) {
	n, _ := servers(t)
	f, err := runRow(t, "-url", n.URL+"/256k.bin", "-size", strconv.Itoa(size256k-1), "-c", "2", "-d", "300ms")
	var r refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v (row %q), want the row refused", err, f)
	}
	if atoi(t, f[4]) == 0 {
		t.Fatalf("row %q: the wrong lengths are not counted as errors", f)
	}
}

func TestRun_notFoundRefusesTheRow(t *testing.T) {
	n, _ := servers(t)
	_, err := runRow(t, "-url", n.URL+"/missing.bin", "-size", "0", "-c", "1", "-d", "300ms")
	var r refusal
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want the row refused (404s)", err)
	}
}

// -urls walks every URL of its list: a list with a missing file in it is refused (so that
// URL was requested), and one of good files gives a clean row.
func TestRun_urlsWalksEveryURLOfTheList(t *testing.T) {
	n, _ := servers(t)
	for _, tc := range []struct {
		name   string
		paths  []string
		refuse bool
	}{
		{"all present", []string{"/256k.bin", "/ssi/256k.bin", "/ka/256k.bin"}, false},
		{"the second missing", []string{"/256k.bin", "/missing.bin"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := filepath.Join(t.TempDir(), "urls")
			var b strings.Builder
			for _, p := range tc.paths {
				b.WriteString(n.URL + p + "\n")
			}
			if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := runRow(t, "-urls", list, "-size", strconv.Itoa(size256k), "-c", "1", "-d", "500ms")
			var r refusal
			if refused := errors.As(err, &r); refused != tc.refuse || (!tc.refuse && err != nil) {
				t.Fatalf("row %q, err %v: want refused %v", f, err, tc.refuse)
			}
			if !tc.refuse && atoi(t, f[3]) < int64(len(tc.paths)) {
				t.Fatalf("row %q: fewer responses than URLs", f)
			}
		})
	}
}

func TestRun_urlsOnTwoHostsAreRefused(t *testing.T) {
	list := filepath.Join(t.TempDir(), "urls")
	if err := os.WriteFile(list, []byte("http://127.0.0.1:1/a\nhttp://127.0.0.1:2/b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err := run([]string{"-urls", list, "-size", "1", "-d", "10ms"}, &b, &b)
	if err == nil || !strings.Contains(err.Error(), "URL 2") {
		t.Fatalf("got %v, want URL 2 refused for its host", err)
	}
}
