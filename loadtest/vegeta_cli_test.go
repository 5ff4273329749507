package loadtest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// vegetaModule is the CLI the interop tests run, the version go.mod builds the library from.
const vegetaModule = "github.com/tsenart/vegeta/v12@v12.13.0"

var (
	vegetaOnce sync.Once
	vegetaPath string
	vegetaErr  string
)

// vegetaCLI returns the vegeta command, installing it with go install into the Go bin
// directory when it is not there yet. Without it the test skips, or fails when CI=true.
func vegetaCLI(t *testing.T) string {
	t.Helper()
	vegetaOnce.Do(func() {
		env, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
		if err != nil {
			vegetaErr = "go env: " + err.Error()
			return
		}
		// go install writes to GOBIN, or to the first GOPATH entry's bin when GOBIN is empty.
		gobin, gopath, _ := strings.Cut(string(env), "\n")
		if gobin = strings.TrimSpace(gobin); gobin == "" {
			gobin = filepath.Join(filepath.SplitList(strings.TrimSpace(gopath))[0], "bin")
		}
		bin := filepath.Join(gobin, "vegeta")
		if _, err := os.Stat(bin); err != nil {
			cmd := exec.Command("go", "install", vegetaModule)
			cmd.Dir = os.TempDir() // outside this module, so its go.mod does not apply
			if out, err := cmd.CombinedOutput(); err != nil {
				vegetaErr = "go install " + vegetaModule + ": " + err.Error() + "\n" + string(out)
				return
			}
		}
		vegetaPath = bin
	})
	testenv.Require(t, vegetaPath != "", "the vegeta CLI: "+vegetaErr)
	return vegetaPath
}

func runVegeta(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(vegetaCLI(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vegeta %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// TestVegetaCLI_ReadsOurResults: every encoding "shoal loadtest attack" writes is read by
// "vegeta report" and "vegeta plot" with the same numbers.
func TestVegetaCLI_ReadsOurResults(t *testing.T) {
	vegetaCLI(t)
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/1") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	dir := t.TempDir()
	for _, enc := range []string{"gob", "json", "csv"} {
		file := filepath.Join(dir, "results."+enc)
		if _, stderr, err := command(t, "", "attack", "-scenario", "hit", "-keys", "2", "-base", srv.URL,
			"-rate", "100", "-duration", "100ms", "-encoding", enc, "-output", file); err != nil {
			t.Fatalf("%s: %v\n%s", enc, err, stderr)
		}
		report := squash(runVegeta(t, "", "report", file))
		for _, want := range []string{"Requests [total, rate, throughput] 10,", "Success [ratio] 50.00%",
			"Status Codes [code:count] 200:5 503:5", "503 Service Unavailable"} {
			if !strings.Contains(report, want) {
				t.Errorf("%s: vegeta report lacks %q:\n%s", enc, want, report)
			}
		}
		if plot := runVegeta(t, "", "plot", file); !strings.Contains(plot, "<html") {
			t.Errorf("%s: vegeta plot wrote no page:\n%.300s", enc, plot)
		}
	}
}

// TestVegetaCLI_WeReadItsResults: what "vegeta attack" writes (gob) and "vegeta encode" turns
// it into (JSON, CSV) is read by "shoal loadtest report" and "plot".
func TestVegetaCLI_WeReadItsResults(t *testing.T) {
	vegetaCLI(t)
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("0123456789")) })
	gob := runVegeta(t, "GET "+srv.URL+"/static/site.css\n", "attack", "-rate", "50", "-duration", "200ms", "-name", "cli")
	n := len(decodeAll(t, gob))
	if n == 0 {
		t.Fatal("vegeta attack wrote no results")
	}
	dir := t.TempDir()
	files := map[string]string{
		"gob":  gob,
		"json": runVegeta(t, gob, "encode", "-to", "json"),
		"csv":  runVegeta(t, gob, "encode", "-to", "csv"),
	}
	for enc, data := range files {
		file := filepath.Join(dir, "vegeta."+enc)
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		report, stderr, err := command(t, "", "report", file)
		if err != nil {
			t.Fatalf("%s: %v\n%s", enc, err, stderr)
		}
		for _, want := range []string{fmt.Sprintf("Requests [total, rate, throughput] %d,", n),
			fmt.Sprintf("Bytes In [total, mean] %d, 10.00", 10*n), "Success [ratio] 100.00%",
			fmt.Sprintf("Status Codes [code:count] 200:%d", n)} {
			if !strings.Contains(squash(report), want) {
				t.Errorf("%s: shoal loadtest report lacks %q:\n%s", enc, want, report)
			}
		}
		// One library, so one report: vegeta's own over the same file is the same text.
		if theirs := runVegeta(t, "", "report", file); report != theirs {
			t.Errorf("%s: reports differ:\nours:\n%s\nvegeta:\n%s", enc, report, theirs)
		}
		if plot, _, err := command(t, "", "plot", file); err != nil || !strings.Contains(plot, "<html") {
			t.Errorf("%s: plot %v:\n%.300s", enc, err, plot)
		}
	}
	// The same results through both reports give the same JSON metrics.
	ours, _, err := command(t, gob, "report", "-type", "json")
	if err != nil {
		t.Fatal(err)
	}
	if theirs := runVegeta(t, gob, "report", "-type", "json"); strings.TrimSpace(ours) != strings.TrimSpace(theirs) {
		t.Errorf("JSON metrics differ:\nours   %s\nvegeta %s", ours, theirs)
	}
}
