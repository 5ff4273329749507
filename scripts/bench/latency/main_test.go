package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fields runs the probe and splits its one output line.
func fields(t *testing.T, args ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, &out); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	f := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\t")
	if len(f) != 7 {
		t.Fatalf("output %q: want 7 tab-separated fields", out.String())
	}
	return f
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("field %q: %v", s, err)
	}
	return v
}

// One request stalls 300 ms with one connection: the requests due meanwhile wait for it, and
// measured from the schedule they make the tail. Measured from sending (coordinated
// omission) only the stalled request would be slow, and p99 of 200 would stay small.
func TestRun_countsTheStallFromTheSchedule(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 20 {
			time.Sleep(300 * time.Millisecond)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	f := fields(t, "-base", srv.URL, "-path", "/", "-rate", "200", "-duration", "1s",
		"-connections", "1", "-warmup", "0")
	if p99 := num(t, f[1]); p99 < 100 {
		t.Errorf("p99 = %.3f ms, want >= 100 ms: the wait behind the stall is not counted", p99)
	}
	if reqs := num(t, f[4]); reqs != 200 {
		t.Errorf("requests = %v, want 200: the stall lowered the rate sent", reqs)
	}
	if ok := num(t, f[3]); ok != 1 {
		t.Errorf("success = %v, want 1", ok)
	}
}

// The zipf scenario asks only for the filled objects, <prefix>0..keys-1, without
// Accept-Encoding, and the same seed gives the same URLs (every target sees the same run).
func TestRun_zipfStaysInTheFilledKeys(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			t.Errorf("Accept-Encoding %q sent; want none, like wrk", ae)
		}
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()

	args := []string{"-base", srv.URL, "-scenario", "zipf", "-prefix", "/fill/x/", "-keys", "50",
		"-rate", "400", "-duration", "250ms", "-connections", "1", "-warmup", "0", "-seed", "7"}
	fields(t, args...)
	first := append([]string(nil), paths...)
	paths = nil
	fields(t, args...)

	if len(first) != 100 || len(paths) != len(first) {
		t.Fatalf("requests = %d then %d, want 100 each", len(first), len(paths))
	}
	for i, p := range first {
		k, err := strconv.Atoi(strings.TrimPrefix(p, "/fill/x/"))
		if !strings.HasPrefix(p, "/fill/x/") || err != nil || k < 0 || k >= 50 {
			t.Fatalf("request %d for %q, want /fill/x/0../fill/x/49", i, p)
		}
		if paths[i] != p {
			t.Fatalf("request %d: %q then %q with the same seed", i, p, paths[i])
		}
	}
}

func TestRun_rejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-base", "http://127.0.0.1:1", "-scenario", "stampede"},
		{"-base", "http://127.0.0.1:1", "-rate", "0"},
		{"-base", "http://127.0.0.1:1", "-scenario", "zipf", "-zipf-s", "0"},
	} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
