package main

import "testing"

// The disk-size refusal printed the file system's capacity as "(0.0 GiB)" below 52 MiB: a
// size must say something at every scale, from bytes to exbibytes.
func TestHumanSize_saysSomethingAtEveryScale(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{40 << 20, "40 MiB"},
		{3<<20 + 512<<10, "3.5 MiB"},
		{50 << 20, "50 MiB"},
		{20 << 30, "20 GiB"},
		{1<<62 + 1<<61, "6.0 EiB"},
		{1<<63 - 1, "8.0 EiB"},
	} {
		if got := humanSize(c.n); got != c.want {
			t.Errorf("humanSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// The refusal itself names the small file system's real capacity.
func TestRun_diskSizeRefusalNamesASmallFileSystemsSize(t *testing.T) {
	msg := sizeAboveCapacity("/var/cache/shoal", 1<<30, 40<<20)
	if want := "1GiB is larger than the file system holding /var/cache/shoal (40 MiB)"; msg != want {
		t.Errorf("got %q, want %q", msg, want)
	}
	if msg := sizeAboveCapacity("/d", 1<<20, 2<<20); msg != "" {
		t.Errorf("a size that fits: %q", msg)
	}
}
