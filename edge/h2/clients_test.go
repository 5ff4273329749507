package h2

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// goClient is Go's HTTP/2 client (net/http's Transport limited to HTTP/2) over TLS (ALPN h2)
// or h2c with prior knowledge.
func goClient(ts *testServer) (*http.Client, string) {
	var protocols http.Protocols
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Protocols: &protocols}
	scheme := "https"
	if ts.TLS {
		protocols.SetHTTP2(true)
	} else {
		scheme = "http"
		protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Transport: tr}, scheme + "://" + ts.Addr
}

// TestServer_goClient: Go's HTTP/2 client gets byte-exact bodies from synchronous and
// detached handlers, small and across many DATA frames, over TLS and h2c, with many
// streams at once on one connection.
func TestServer_goClient(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			ts := startServer(t, Config{}, nil, useTLS)
			client, base := goClient(ts)
			get := func(path string) (*http.Response, []byte) {
				t.Helper()
				resp, err := client.Get(base + path)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("GET %s: reading body: %v", path, err)
				}
				if resp.ProtoMajor != 2 {
					t.Fatalf("GET %s: %s, want HTTP/2", path, resp.Proto)
				}
				return resp, body
			}
			for _, tc := range []struct {
				path string
				want []byte
			}{
				{"/", page1k},
				{"/size/0", nil},
				{"/size/16384", pattern(16384)},
				{"/size/16385", pattern(16385)},
				{"/size/3000000", pattern(3000000)}, // past every default window
				{"/async/1", pattern(1)},
				{"/async/1000000", pattern(1000000)},
				{"/chunks/250000", pattern(250000)},
			} {
				resp, body := get(tc.path)
				if resp.StatusCode != 200 || !bytes.Equal(body, tc.want) {
					t.Errorf("GET %s: %d with %d bytes, want 200 with %d exact bytes", tc.path, resp.StatusCode, len(body), len(tc.want))
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
					t.Errorf("GET %s: content-type %q", tc.path, ct)
				}
				if strings.HasPrefix(tc.path, "/chunks/") && resp.Trailer.Get("X-Checksum") != "done" {
					t.Errorf("GET %s: trailers %v, want x-checksum", tc.path, resp.Trailer)
				}
			}

			upload := pattern(1 << 20)
			resp, err := client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(upload))
			if err != nil {
				t.Fatal(err)
			}
			echoed, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(echoed, upload) {
				t.Errorf("POST echo: got %d bytes back, want the 1 MiB sent", len(echoed))
			}

			head, err := client.Head(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := io.Copy(io.Discard, head.Body); head.StatusCode != 200 || n != 0 {
				t.Errorf("HEAD: %d with %d bytes of body", head.StatusCode, n)
			}
			head.Body.Close()

			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := "/size/" + fmt.Sprint(1000+i)
					if i%2 == 1 {
						path = "/async/" + fmt.Sprint(1000+i)
					}
					resp, err := client.Get(base + path)
					if err != nil {
						errs <- err
						return
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || !bytes.Equal(body, pattern(1000+i)) {
						errs <- fmt.Errorf("GET %s: %d bytes, %v", path, len(body), err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestServer_earlyHints: a detached handler's 103 reaches the client before the 200.
func TestServer_earlyHints(t *testing.T) {
	ts := startServer(t, Config{}, nil, true)
	client, base := goClient(ts)
	var got []int
	var links []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, code)
		links = append(links, h.Get("Link"))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/async/10", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if len(got) != 1 || got[0] != 103 || links[0] != "</style.css>; rel=preload" || resp.StatusCode != 200 {
		t.Fatalf("interim %v %q then %d, want one 103 with the link, then 200", got, links, resp.StatusCode)
	}
}

// TestServer_curl: curl --http2 over TLS and --http2-prior-knowledge over h2c get
// byte-exact bodies, small and large, and upload one that comes back byte-exact.
func TestServer_curl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	testenv.Require(t, err == nil, "curl is not installed")
	if out, _ := exec.Command(curl, "--version").Output(); !strings.Contains(string(out), "HTTP2") {
		testenv.Require(t, false, "curl lacks HTTP/2 support")
	}
	dir := t.TempDir()
	for _, useTLS := range []bool{true, false} {
		ts := startServer(t, Config{}, nil, useTLS)
		for _, tc := range []struct {
			path string
			want []byte
		}{{"/", page1k}, {"/size/2000000", pattern(2000000)}, {"/async/700000", pattern(700000)}} {
			out := filepath.Join(dir, "body")
			args := []string{"-sS", "--fail", "-o", out, "-w", "%{http_version} %{http_code}"}
			url := "http://" + ts.Addr + tc.path
			if useTLS {
				args = append(args, "--http2", "-k")
				url = "https://" + ts.Addr + tc.path
			} else {
				args = append(args, "--http2-prior-knowledge")
			}
			res, err := exec.Command(curl, append(args, url)...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s: %v: %s", url, err, res)
			}
			body, _ := os.ReadFile(out)
			if string(res) != "2 200" || !bytes.Equal(body, tc.want) {
				t.Errorf("curl %s: %q with %d bytes, want \"2 200\" with %d exact bytes", url, res, len(body), len(tc.want))
			}
		}
		// An upload, echoed by a detached handler.
		in, out := filepath.Join(dir, "upload"), filepath.Join(dir, "echo")
		os.WriteFile(in, pattern(1500000), 0o644)
		args := []string{"-sS", "--fail", "--data-binary", "@" + in, "-o", out}
		url := "http://" + ts.Addr + "/echo"
		if useTLS {
			args = append(args, "--http2", "-k")
			url = "https://" + ts.Addr + "/echo"
		} else {
			args = append(args, "--http2-prior-knowledge")
		}
		if res, err := exec.Command(curl, append(args, url)...).CombinedOutput(); err != nil {
			t.Fatalf("curl upload %s: %v: %s", url, err, res)
		}
		if body, _ := os.ReadFile(out); !bytes.Equal(body, pattern(1500000)) {
			t.Errorf("curl upload %s: %d bytes echoed, want the 1500000 sent", url, len(body))
		}
	}
}
