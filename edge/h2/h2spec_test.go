package h2

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// h2specPath finds h2spec on PATH or in GOPATH/bin, installing it with go install (a Go
// module, as scripts/h2spec.sh does) when it is missing.
func h2specPath() string {
	if p, err := exec.LookPath("h2spec"); err == nil {
		return p
	}
	if p := gopathH2spec(); p != "" {
		return p
	}
	for _, v := range []string{"v2.2.1", "latest"} {
		if exec.Command("go", "install", "github.com/summerwind/h2spec/cmd/h2spec@"+v).Run() == nil {
			break
		}
	}
	return gopathH2spec()
}

func gopathH2spec() string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(string(regexp.MustCompile(`\s+$`).ReplaceAll(out, nil)), "bin", "h2spec")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// TestServer_h2spec runs the whole h2spec suite (RFC 7540/9113 and RFC 7541) against the
// test handler over TLS: every one of its 145 cases must pass.
func TestServer_h2spec(t *testing.T) {
	bin := h2specPath()
	testenv.Require(t, bin != "", "h2spec is not installed and go install failed")
	ts := startServer(t, Config{}, nil, true)
	host, port, _ := splitHostPort(ts.Addr)
	out, err := exec.Command(bin, "-t", "-k", "-h", host, "-p", port, "-o", "2").CombinedOutput()
	summary := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindSubmatch(out)
	if summary == nil {
		t.Fatalf("h2spec gave no summary (err %v):\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
	t.Logf("h2spec: %s", summary[0])
	if string(summary[1]) != "145" || string(summary[2]) != "145" {
		t.Fatalf("h2spec: %s, want 145 passed:\n%s", summary[0], out)
	}
}
