package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A cache.disk.size larger than the file system under cache.disk.path was ok to `shoal
// check`; the tier filled the file system and went memory-only at its first ENOSPC. The
// same file with a size that fits checks ok.
func TestRun_checkRefusesDiskSizeAboveTheFileSystem(t *testing.T) {
	dir := t.TempDir()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	total := int64(fs.Blocks) * int64(fs.Bsize)
	write := func(size string) string {
		file := filepath.Join(dir, "shoal.yaml")
		cfg := fmt.Sprintf("listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\ncache:\n  disk:\n    path: %s\n    size: %s\n", dir, size)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	file := write(fmt.Sprintf("%dMiB", total>>20+1024))
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), file+":7: cache.disk.size: ") ||
		!strings.Contains(stderr.String(), "larger than the file system") {
		t.Errorf("size above the file system's %d bytes: exit %d, %q", total, code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"check", "-c", write("16MiB")}, &stdout, &stderr); code != 0 {
		t.Errorf("16MiB: exit %d, %q", code, stderr.String())
	}
}
