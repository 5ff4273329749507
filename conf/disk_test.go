package conf

import (
	"errors"
	"strings"
	"testing"
)

func TestParse_diskErrorsNameKeyAndLine(t *testing.T) {
	const head = "listen: {http: \":80\"}\ncache:\n  memory: 64MiB\n  disk:\n"
	cases := []struct {
		name, yaml, key string
		line            int
		msg             string
	}{
		{"size without path", "    size: 1GiB\n", "cache.disk.path", 0, "path is empty"},
		{"path without size", "    path: /var/cache/shoal\n", "cache.disk.size", 0, "required"},
		{"size too small", "    path: /d\n    size: 1MiB\n", "cache.disk.size", 6, "too small"},
		{"object above half", "    path: /d\n    size: 1GiB\n    max_object_size: 600MiB\n", "cache.disk.max_object_size", 7, "half"},
		{"segment above size", "    path: /d\n    size: 1GiB\n    segment_size: 2GiB\n", "cache.disk.segment_size", 7, "outside"},
		{"negative queue", "    path: /d\n    size: 1GiB\n    queue: -1\n", "cache.disk.queue", 7, "negative"},
		{"negative ram cutoff", "    path: /d\n    size: 1GiB\n    ram_cache_cutoff: -1\n", "cache.disk.ram_cache_cutoff", 7, "negative"},
		{"bad admit", "    path: /d\n    size: 1GiB\n    admit_frequency: -2\n", "cache.disk.admit_frequency", 7, "-1"},
		{"bad size unit", "    path: /d\n    size: lots\n", "cache.disk.size", 6, "invalid size"},
		{"unknown key", "    path: /d\n    size: 1GiB\n    sise: 1GiB\n", "cache.disk.sise", 7, "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.yaml), "bad.yaml", "")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want conf.Errors, got %v", err)
			}
			e := errs[0]
			if e.Key != tc.key || (tc.line > 0 && e.Line != tc.line) || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got key=%q line=%d msg=%q; want key=%q line=%d msg~%q", e.Key, e.Line, e.Msg, tc.key, tc.line, tc.msg)
			}
		})
	}
}

func TestParse_diskGood(t *testing.T) {
	c, err := Parse([]byte("listen: {http: \":80\"}\ncache:\n  disk: {path: /var/cache/shoal, size: 100GiB, admit_frequency: -1}\n"), "good.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Cache.Disk; !d.Enabled() || d.Size != 100<<30 || d.AdmitFrequency != -1 {
		t.Errorf("cache.disk = %+v", d)
	}
	c, err = Parse([]byte("listen: {http: \":80\"}\n"), "good.yaml", "")
	if err != nil || c.Cache.Disk.Enabled() {
		t.Errorf("no cache.disk: enabled=%v err=%v", c.Cache.Disk.Enabled(), err)
	}
}
