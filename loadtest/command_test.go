package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func command(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runCommand(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// squash collapses runs of white space, so tests can match vegeta's tab-aligned reports.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// decodeAll reads results in any of vegeta's encodings.
func decodeAll(t *testing.T, data string) []vegeta.Result {
	t.Helper()
	var out []vegeta.Result
	if err := decodeFile("-", strings.NewReader(data), func(r *vegeta.Result) { out = append(out, *r) }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCommand_FlagErrorsAndHelp(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // empty: success
		wantOut string // on stderr
	}{
		{[]string{"attack", "-h"}, "", "-from-schedule"},
		{[]string{"report", "-help"}, "", "hist["},
		{[]string{"plot", "-h"}, "", "-title"},
		{[]string{"-h"}, "", "plot"},
		{nil, "missing command", "usage"},
		{[]string{"shoot"}, `unknown command "shoot"`, "usage"},
		{[]string{"attack", "-bogus"}, "-bogus", ""},
		{[]string{"attack", "-rate", "fast"}, "-rate", ""},
		{[]string{"attack", "-rate", "1.5"}, "-rate", ""},
		{[]string{"attack", "-duration", "soon"}, "-duration", ""},
		{[]string{"attack", "-duration", "-1s", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "-duration", ""},
		{[]string{"attack", "-timeout", "-1s", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "-timeout", ""},
		{[]string{"attack", "-scenario", "hit"}, "-base", ""},
		{[]string{"attack", "-scenario", "hit", "-base", "127.0.0.1:8080"}, "-base", ""},
		{[]string{"attack", "-scenario", "teleport", "-base", "http://127.0.0.1:1"}, "-scenario", ""},
		{[]string{"attack", "-scenario", "hit", "-base", "http://127.0.0.1:1", "-keys", "0"}, "-keys", ""},
		{[]string{"attack", "-scenario", "stampede", "-base", "http://127.0.0.1:1", "-burst", "0"}, "-burst", ""},
		{[]string{"attack", "-scenario", "zipf", "-base", "http://127.0.0.1:1", "-zipf-s", "0"}, "-zipf-s", ""},
		{[]string{"attack", "-scenario", "purge-storm", "-base", "http://127.0.0.1:1"}, "-purge-admin", ""},
		{[]string{"attack", "-scenario", "purge-storm", "-base", "http://127.0.0.1:1", "-purge-admin", "http://127.0.0.1:1", "-purge-rate", "0"}, "-purge-rate", ""},
		{[]string{"attack", "-scenario", "dns"}, "-dns", ""},
		{[]string{"attack", "-scenario", "dns", "-dns", "127.0.0.1:1", "-dns-name", "a", "-dns-type", "BOGUS"}, "-dns-type", ""},
		{[]string{"attack", "-scenario", "dns", "-dns", "127.0.0.1:1", "-dns-name", "a", "-dns-net", "sctp"}, "-dns-net", ""},
		{[]string{"attack", "-header", "no colon", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "-header", ""},
		{[]string{"attack", "-workers", "5", "-max-workers", "2", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "max workers", ""},
		{[]string{"attack", "-rate", "0", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "max workers", ""},
		{[]string{"attack", "-rate", "0", "-workers", "1", "-max-workers", "2", "-from-schedule", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "schedule", ""},
		{[]string{"attack", "-encoding", "xml", "-scenario", "hit", "-base", "http://127.0.0.1:1"}, "-encoding", ""},
		{[]string{"attack", "-format", "yaml"}, "-format", ""},
		{[]string{"attack", "-targets", "/nonexistent/targets.txt"}, "/nonexistent/targets.txt", ""},
		{[]string{"attack", "extra"}, "unexpected argument", ""},
		{[]string{"report", "-type", "pie"}, "-type", ""},
		{[]string{"report", "-type", "hist[2ms,1ms]"}, "-type", ""},
		{[]string{"report", "-type", "hist[0,1ms,1ms]"}, "-type", ""},
		{[]string{"report", "-type", "hist"}, "-type", ""},
		{[]string{"report", "-type", "json", "-buckets", "[oops]"}, "-buckets", ""},
		{[]string{"report", "/nonexistent/results.bin"}, "/nonexistent/results.bin", ""},
		{[]string{"plot", "/nonexistent/results.bin"}, "/nonexistent/results.bin", ""},
	}
	for _, tt := range tests {
		_, stderr, err := command(t, "", tt.args...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: unexpected error %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.wantErr)
		case !strings.Contains(stderr, tt.wantOut):
			t.Errorf("%v: stderr lacks %q:\n%s", tt.args, tt.wantOut, stderr)
		}
	}
}

// TestCommand_BadFlagsLeaveNoResultsFile: flags are checked before -output is created, so a
// typo does not truncate the results of an earlier run.
func TestCommand_BadFlagsLeaveNoResultsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.bin")
	for _, bad := range [][]string{{"-encoding", "xml"}, {"-rate", "0"}, {"-from-schedule", "-rate", "0", "-max-workers", "10"}} {
		args := append([]string{"attack", "-scenario", "hit", "-base", "http://127.0.0.1:1", "-output", file}, bad...)
		if _, _, err := command(t, "", args...); err == nil {
			t.Fatalf("%v: no error", bad)
		}
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v: results file created: %v", bad, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Constant
		ok   bool
	}{
		{"50", PerSecond(50), true},
		{"50/s", PerSecond(50), true},
		{"5/100ms", Constant{Freq: 5, Per: 100 * time.Millisecond}, true},
		{"60/m", Constant{Freq: 60, Per: time.Minute}, true},
		{"1/2s", Constant{Freq: 1, Per: 2 * time.Second}, true},
		{"0", Constant{}, true},
		{"infinity", Constant{}, true},
		{"-1", Constant{}, false},
		{"0.5", Constant{}, false},
		{"5/0s", Constant{}, false},
		{"5/fortnight", Constant{}, false},
		{"", Constant{}, false},
	}
	for _, tt := range tests {
		got, err := parseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseRate(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestCommand_TargetsFileToEveryEncoding: vegeta's text targets (a virtual host, PURGE, a
// body file) are sent as written, and each results encoding reads back to the same results.
func TestCommand_TargetsFileToEveryEncoding(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Host+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
		w.Write([]byte("hello"))
	})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"a":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	targets := "GET " + srv.URL + "/static/site.css\nHost: www.demo.shoal\n\n" +
		"PURGE " + srv.URL + "/static/site.css\n\n" +
		"POST " + srv.URL + "/api\n@" + filepath.Join(dir, "body.json") + "\n"
	for _, enc := range []string{"gob", "json", "csv"} {
		seen = nil
		out, stderr, err := command(t, targets, "attack", "-rate", "30", "-duration", "100ms", "-encoding", enc, "-name", "t")
		if err != nil {
			t.Fatalf("%s: %v\n%s", enc, err, stderr)
		}
		got := decodeAll(t, out)
		if len(got) != 3 {
			t.Fatalf("%s: %d results, want 3", enc, len(got))
		}
		for _, r := range got {
			if r.Code != 200 || r.BytesIn != 5 || r.Error != "" {
				t.Fatalf("%s: result %+v", enc, r)
			}
		}
		mu.Lock()
		sort.Strings(seen)
		want := []string{"GET www.demo.shoal /static/site.css ", "POST " + srv.Listener.Addr().String() + " /api {\"a\":1}",
			"PURGE " + srv.Listener.Addr().String() + " /static/site.css "}
		if strings.Join(seen, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: server saw %q, want %q", enc, seen, want)
		}
		mu.Unlock()

		report, _, err := command(t, out, "report")
		if err != nil || !strings.Contains(squash(report), "Requests [total, rate, throughput] 3,") ||
			!strings.Contains(squash(report), "Success [ratio] 100.00%") {
			t.Fatalf("%s: report %v:\n%s", enc, err, report)
		}
	}
}

func TestCommand_ReportTypesAndPlot(t *testing.T) {
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/1") {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	dir := t.TempDir()
	results := filepath.Join(dir, "hit.bin")
	if _, stderr, err := command(t, "", "attack", "-scenario", "hit", "-keys", "2", "-base", srv.URL, "-rate", "40",
		"-duration", "100ms", "-output", results); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"report", results}, []string{"Requests      [total, rate, throughput]  4,", "Status Codes  [code:count]  200:2  404:2", "404 Not Found"}},
		{[]string{"report", "-inputs", results + "," + results}, []string{"Requests      [total, rate, throughput]  8,"}},
		{[]string{"report", "-type", "json", results}, []string{`"requests":4`, `"status_codes":{"200":2,"404":2}`}},
		{[]string{"report", "-type", "json", "-buckets", "[0,1s]", results}, []string{`"buckets":{"0":4,"1000000000":0}`}},
		{[]string{"report", "-type", "hist[0,10s]", results}, []string{"[0s,     10s]  4"}},
		{[]string{"report", "-type", "hdrplot", results}, []string{"Value(ms)"}},
		{[]string{"plot", "-title", "hit run", results}, []string{"<title>hit run</title>", "<html"}},
	}
	for _, tt := range tests {
		out, stderr, err := command(t, "", tt.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(squash(out), squash(w)) {
				t.Errorf("%v: output lacks %q:\n%.2000s", tt.args, w, out)
			}
		}
	}
	if _, _, err := command(t, "not results\n", "report"); err == nil || !strings.Contains(err.Error(), "not vegeta results") {
		t.Fatalf("report of garbage: %v", err)
	}
}

// TestCommand_InterruptKeepsResults: cancelling an endless attack ends it, and the results
// gathered so far are written.
func TestCommand_InterruptKeepsResults(t *testing.T) {
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out, stderr bytes.Buffer
	err := runCommand(ctx, []string{"attack", "-scenario", "miss", "-base", srv.URL, "-rate", "100", "-duration", "0"},
		nil, &out, &stderr)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if n := len(decodeAll(t, out.String())); n < 10 {
		t.Fatalf("%d results after 300ms at 100/s", n)
	}
}

// TestCommand_Redirects: vegeta follows redirects by default; -redirects -1 records the
// redirect itself, which is what a test of an HTTP-to-HTTPS redirect wants to see.
func TestCommand_Redirects(t *testing.T) {
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		}
	})
	for _, tt := range []struct {
		args []string
		code uint16
	}{{nil, 200}, {[]string{"-redirects", "-1"}, 301}} {
		args := append([]string{"attack", "-rate", "20", "-duration", "100ms"}, tt.args...)
		out, stderr, err := command(t, "GET "+srv.URL+"/old\n", args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, stderr)
		}
		for _, r := range decodeAll(t, out) {
			if r.Code != tt.code {
				t.Fatalf("%v: code %d, want %d", tt.args, r.Code, tt.code)
			}
		}
	}
}

// TestCommand_Insecure: a test node's self-signed certificate fails verification unless
// -insecure says to accept it.
func TestCommand_Insecure(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, tt := range []struct {
		args []string
		code uint16
	}{{nil, 0}, {[]string{"-insecure"}, 200}} {
		args := append([]string{"attack", "-rate", "20", "-duration", "100ms"}, tt.args...)
		out, stderr, err := command(t, "GET "+srv.URL+"/\n", args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, stderr)
		}
		for _, r := range decodeAll(t, out) {
			if r.Code != tt.code || (tt.code == 0) != strings.Contains(r.Error, "certificate") {
				t.Fatalf("%v: code %d error %q, want code %d", tt.args, r.Code, r.Error, tt.code)
			}
		}
	}
}
