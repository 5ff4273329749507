package loadtest

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommand_FlagErrorsAndHelp(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // empty: success
		wantOut string // on stderr
	}{
		{[]string{"attack", "-h"}, "", "-max-workers"},
		{[]string{"report", "-help"}, "", "hist["},
		{[]string{"-h"}, "", "attack"},
		{nil, "missing command", "usage"},
		{[]string{"shoot"}, `unknown command "shoot"`, "usage"},
		{[]string{"attack", "-bogus"}, "-bogus", ""},
		{[]string{"attack", "-rate", "fast"}, "-rate", ""},
		{[]string{"attack", "-duration", "soon"}, "-duration", ""},
		{[]string{"attack", "-scenario", "hit"}, "-base", ""},
		{[]string{"attack", "-scenario", "teleport", "-base", "http://127.0.0.1:1"}, "-scenario", ""},
		{[]string{"attack", "-scenario", "zipf", "-base", "http://127.0.0.1:1", "-zipf-s", "0"}, "-zipf-s", ""},
		{[]string{"attack", "-scenario", "purge-storm", "-base", "http://127.0.0.1:1"}, "-purge-admin", ""},
		{[]string{"attack", "-scenario", "dns"}, "dns", ""},
		{[]string{"attack", "-scenario", "dns", "-dns", "127.0.0.1:1", "-dns-name", "a", "-dns-type", "BOGUS"}, "-dns-type", ""},
		{[]string{"attack", "-header", "no colon", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "-header", ""},
		{[]string{"attack", "-workers", "5", "-max-workers", "2", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "max workers", ""},
		{[]string{"attack", "extra"}, "unexpected argument", ""},
		{[]string{"report", "-type", "pie"}, "-type", ""},
		{[]string{"report", "-type", "hist[2ms,1ms]"}, "-type", ""},
		{[]string{"report", "-inputs", "/nonexistent/results.json"}, "/nonexistent/results.json", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := runCommand(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: unexpected error %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.wantErr)
		case !strings.Contains(stderr.String(), tt.wantOut):
			t.Errorf("%v: stderr lacks %q:\n%s", tt.args, tt.wantOut, stderr.String())
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"100", 100, true}, {"0", 0, true}, {"50/s", 50, true}, {"50/1s", 50, true},
		{"5/100ms", 50, true}, {"60/m", 1, true}, {"2.5", 2.5, true},
		{"-1", 0, false}, {"x", 0, false}, {"5/0s", 0, false}, {"5/parsec", 0, false},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		if (err == nil) != tt.ok || (tt.ok && abs(got-tt.want) > 1e-9) {
			t.Errorf("parseRate(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestCommand_AttackThenReport drives the CLI end to end: targets from stdin, results to a
// file, then every report type over that file.
func TestCommand_AttackThenReport(t *testing.T) {
	var (
		mu    sync.Mutex
		paths = map[string]int{}
	)
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path+" "+r.Header.Get("X-Run")]++
		mu.Unlock()
		_, _ = w.Write([]byte("0123456789"))
	})
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	targets := "GET " + srv.URL + "/a\n\nGET " + srv.URL + "/b\nX-Run: b\n"
	var stdout, stderr bytes.Buffer
	err := runCommand(context.Background(), []string{"attack", "-name", "ab", "-rate", "100/s", "-duration", "100ms",
		"-output", results, "-header", "X-Run: global"}, strings.NewReader(targets), &stdout, &stderr)
	if err != nil {
		t.Fatalf("attack: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), `attack "ab": 10 requests, 0 errors`) {
		t.Fatalf("summary missing:\n%s", stderr.String())
	}
	mu.Lock()
	if paths["/a global"] != 5 || paths["/b b"] != 5 {
		t.Fatalf("server saw %v", paths)
	}
	mu.Unlock()

	stdout.Reset()
	if err := runCommand(context.Background(), []string{"report", "-inputs", results}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Requests      [total, rate, throughput]         10, 111.11", "Bytes In      [total, mean]                     100, 10.00", "200:10"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("text report lacks %q:\n%s", want, stdout.String())
		}
	}

	stdout.Reset()
	if err := runCommand(context.Background(), []string{"report", "-type", "json", results, results}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `"requests":20`) {
		t.Fatalf("two inputs should add up:\n%s", stdout.String())
	}

	stdout.Reset()
	if err := runCommand(context.Background(), []string{"report", "-type", "hist[0,1s]"}, strings.NewReader(readFile(t, results)), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "100.00%") {
		t.Fatalf("hist from stdin:\n%s", stdout.String())
	}

	page := filepath.Join(dir, "plot.html")
	if err := runCommand(context.Background(), []string{"report", "-type", "plot", "-output", page, "-title", "ab run", results}, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if d := plotSeries(t, readFile(t, page)); d.Title != "ab run" || len(d.Points) != 10 {
		t.Fatalf("plot series %+v", d)
	}
}

func TestCommand_ClosedLoopScenarioOverTwoBases(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[name]++
			mu.Unlock()
		}
	}
	a, b := okServer(t, handler("a")), okServer(t, handler("b"))
	var stdout, stderr bytes.Buffer
	err := runCommand(context.Background(), []string{"attack", "-scenario", "hit", "-base", a.URL, "-base", b.URL,
		"-rate", "0", "-workers", "2", "-duration", "100ms", "-keys", "3", "-quiet"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Fatalf("-quiet wrote to stderr: %q", stderr.String())
	}
	got := decodeAll(t, &stdout)
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 2 || hits["a"] == 0 || hits["b"] == 0 || hits["a"]+hits["b"] != len(got) {
		t.Fatalf("%d results, hits %v", len(got), hits)
	}
}

func TestProgressLine_Format(t *testing.T) {
	start := t0
	l := newProgressLine(start)
	first := l.format(start.Add(2*time.Second), Progress{Done: 400, Errors: 3, InFlight: 7, Workers: 12})
	if !strings.HasPrefix(first, "\r") || !strings.Contains(first, "2s") || !strings.Contains(first, "200.0 req/s") ||
		!strings.Contains(first, "3 errors") || !strings.Contains(first, "7 in flight") {
		t.Fatalf("line %q", first)
	}
	// The rate is over the last interval only, so a stall shows at once.
	second := l.format(start.Add(3*time.Second), Progress{Done: 400})
	if !strings.Contains(second, " 0.0 req/s") || len(second) != len(first) {
		t.Fatalf("line %q", second)
	}
}

func TestRunProgress_PrintsAndEndsLine(t *testing.T) {
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	polled := make(chan struct{}, 10)
	stop := runProgress(w, time.Millisecond, func() Progress {
		select {
		case polled <- struct{}{}:
		default:
		}
		return Progress{Done: 1}
	})
	<-polled
	stop()
	mu.Lock()
	defer mu.Unlock()
	if out := buf.String(); !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("progress output %q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
