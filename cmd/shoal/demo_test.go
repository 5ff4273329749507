package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// `shoal demo` (what `make run` calls) serves a cacheable static file and a dynamic page
// with a session cookie, and prints where.
func TestDemo_servesMissThenHitAndSessions(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	cmd := exec.Command(bin, "demo", "-http", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	edge := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) == 2 && f[0] == "edge" {
				edge <- f[1]
			}
		}
	}()
	var base string
	select {
	case base = <-edge:
	case <-time.After(30 * time.Second):
		t.Fatal("demo printed no edge URL")
	}
	fetch := func(path string, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if cs := fetch("/static/site.css").Header.Get("Cache-Status"); !strings.Contains(cs, "stored") {
		t.Errorf("first static request: %q", cs)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(fetch("/static/site.css").Header.Get("Cache-Status"), "hit") {
		if time.Now().After(deadline) {
			t.Fatal("the static file never became a hit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	first := fetch("/app/")
	served := first.Header.Get("X-Served-By")
	if len(first.Cookies()) < 2 {
		t.Fatalf("dynamic page set cookies %v, want the session and the sticky cookie", first.Cookies())
	}
	for i := 0; i < 5; i++ {
		if got := fetch("/app/", first.Cookies()...).Header.Get("X-Served-By"); got != served {
			t.Errorf("session moved from %s to %s", served, got)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("demo exit after SIGTERM: %v", err)
	}
}
