package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestRun_cacheMemoryAboveTheMachine: a cache.memory larger than the machine (100TiB, a
// unit typed wrong) was ok to `shoal check`, and `shoal run` died at start with "fatal error:
// runtime: out of memory" and a goroutine dump: the store sizes an index by its budget (256 GiB
// for 100 TiB). Both now refuse it naming cache.memory and its line, as check refuses a
// cache.disk.size above its file system.
func TestRun_cacheMemoryAboveTheMachine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shoal.yaml")
	yaml := "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n" +
		"cache:\n  memory: 100TiB\n  max_object_size: 64MiB\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = ":5: cache.memory: 100TiB is more than this machine's memory"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), file+want) {
		t.Errorf("check exited %d and said %q; want 1 and %q", code, stderr.String(), file+want)
	}
	out, err := exec.Command(testenv.ShoalBinary(t), "run", "-c", file).CombinedOutput()
	if err == nil || strings.Contains(string(out), "fatal error") || !strings.Contains(string(out), file+want) {
		t.Errorf("shoal run: %v\n%.600s\nwant a refusal naming %q", err, out, file+want)
	}
}
