package edge

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// readPipelined writes two pipelined GETs for first and second on one connection and
// returns what the client reads, in order: each response's status and the start of its
// body, until second's final response.
func readPipelined(t *testing.T, addr, first, second string) []string {
	t.Helper()
	c, _ := sendRaw(t, addr, "GET "+first+" HTTP/1.1\r\nHost: www.example.com\r\n\r\nGET "+second+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
	defer c.Close()
	br := bufio.NewReader(c)
	var got []string
	for len(got) < 4 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return append(got, "error: "+err.Error())
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return append(got, "error: "+err.Error())
		}
		got = append(got, resp.Status+" "+string(body[:min(len(body), 6)]))
		if strings.HasSuffix(got[len(got)-1], "second") {
			break
		}
	}
	return got
}

// TestNode_pipelinedEarlyHintsFollowTheRequestBefore: a 103 belongs to the request whose
// final response follows it (RFC 9110 section 15.2), so with pipelined requests it must
// reach the client after the previous request's response, never before or inside it.
// A response the node fetched from an origin is flushed at once, so the next request's
// 103s follow it (pass and cache routes, a first body within fasthttp's write buffer and
// past it). Failed before: fasthttp holds a pipelined response in its write buffer while
// it serves the next request, and the 103 of that next one was written past it, straight
// to the connection: the client read it as the first request's hint, or in the middle of
// that response's body.
func TestNode_pipelinedEarlyHintsFollowTheRequestBefore(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	for _, size := range []int{100, 10 << 10} { // within fasthttp's write buffer, and past it
		o.Script("/first", testenv.Script{Body: []byte(strings.Repeat("a", size))})
		o.Script("/second", testenv.Script{Interim: []testenv.Interim{hints}, Body: []byte("second")})
		for _, cache := range []bool{false, true} {
			n := startNode(t, oneRoute(cache, o.URL), Options{})
			got := readPipelined(t, n.HTTPAddr(), "/first", "/second")
			want := []string{"200 OK aaaaaa", "103 Early Hints ", "200 OK second"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("cache=%v, first body %d bytes: client read %q, want %q", cache, size, got, want)
			}
		}
	}
}

// TestNode_pipelinedHintsAfterAHitAreDropped: a hit's response may still sit in fasthttp's
// write buffer when the next pipelined request's 103 arrives (hits stay batched: that is
// what pipelining is for), and nothing says whether it does; that 103 is dropped rather
// than sent before the hit's response, and the final responses come in order. Failed
// before: the client read the 103 first, as the hit's.
func TestNode_pipelinedHintsAfterAHitAreDropped(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/first", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("aaaaaaaa")})
	o.Script("/second", testenv.Script{Interim: []testenv.Interim{hints}, Body: []byte("second")})
	n := startNode(t, oneRoute(true, o.URL), Options{})
	if code, _, _ := get(t, "http://"+n.HTTPAddr()+"/first", "Host", "www.example.com"); code != 200 {
		t.Fatalf("warming /first: %d", code)
	}
	n.settleFills()
	got := readPipelined(t, n.HTTPAddr(), "/first", "/second")
	want := []string{"200 OK aaaaaa", "200 OK second"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("client read %q, want %q", got, want)
	}
	if v := metricValue(metricsText(t, n), "shoal_edge_early_hints_dropped_total"); v != 1 {
		t.Errorf("shoal_edge_early_hints_dropped_total = %v, want 1", v)
	}
}
