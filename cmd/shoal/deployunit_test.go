package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDeployUnit_diskTierIsWritable: deploy/systemd/shoal.service runs with
// ProtectSystem=strict, under which every path is read-only unless the unit names it, and it
// named none ("the cache lives in memory"): a node configured with the disk tier at the path
// the README and examples/shoal.yaml give (/var/cache/shoal) failed `shoal check` in
// ExecStartPre (its synced write test got EROFS) and never started. The unit must give that
// path to the service (CacheDirectory=shoal, created and owned for the DynamicUser).
func TestDeployUnit_diskTierIsWritable(t *testing.T) {
	unit, err := os.ReadFile("../../deploy/systemd/shoal.service")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../examples/shoal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*#?\s*path:\s*(/\S+)`).FindSubmatch(example)
	if m == nil {
		t.Fatal("examples/shoal.yaml gives no cache.disk.path")
	}
	path := string(m[1])
	if !regexp.MustCompile(`(?m)^ProtectSystem=strict$`).Match(unit) {
		t.Skip("the unit no longer makes the file system read-only")
	}
	var writable []string
	for _, line := range strings.Split(string(unit), "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		for _, v := range strings.Fields(value) {
			switch key {
			case "CacheDirectory":
				writable = append(writable, "/var/cache/"+v)
			case "StateDirectory":
				writable = append(writable, "/var/lib/"+v)
			case "ReadWritePaths":
				writable = append(writable, strings.TrimLeft(v, "-"))
			}
		}
	}
	for _, w := range writable {
		if path == w || strings.HasPrefix(path, w+"/") {
			return
		}
	}
	t.Errorf("cache.disk.path %s (examples/shoal.yaml) is read-only under the unit's ProtectSystem=strict; writable: %v", path, writable)
}
