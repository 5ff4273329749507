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

	"github.com/miekg/dns"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// `shoal demo` (what `make run` calls) serves a cacheable static file and a dynamic page
// with a session cookie, and prints where.
func TestDemo_servesMissThenHitAndSessions(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	cmd := exec.Command(bin, "demo", "-port", "0", "-admin-port", "0", "-dns-port", "0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	type printed struct{ http, dns string }
	edges := make(chan printed, 3)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) == 6 && f[0] == "edge" {
				edges <- printed{f[1], f[5]}
			}
		}
	}()
	var nodes []printed
	for len(nodes) < 3 {
		select {
		case e := <-edges:
			nodes = append(nodes, e)
		case <-time.After(30 * time.Second):
			t.Fatalf("demo printed %d edge lines, want 3", len(nodes))
		}
	}
	base := nodes[0].http
	fetch := func(path string, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Host = "www.demo.shoal"
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
	// Another node serves the same object: asked of its owner, a hit there.
	req, _ := http.NewRequest("GET", nodes[2].http+"/static/site.css", nil)
	req.Host = "www.demo.shoal"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
		t.Errorf("the same object through node 3: Cache-Status %q, want a hit", cs)
	}
	// GSLB answers with two of the three healthy edges.
	m := new(dns.Msg)
	m.SetQuestion("www.demo.shoal.", dns.TypeA)
	in, _, err := new(dns.Client).Exchange(m, nodes[0].dns)
	if err != nil || len(in.Answer) != 2 {
		t.Errorf("GSLB answer: %v, %v", in, err)
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
