package edge

import "testing"

// TestNormalAuthority_portsFoldAsBefore: a Host with a port the fold keeps is borrowed as
// sent (no allocation, make bench's "127.0.0.1:18304"); every neighbour the borrowed path
// must not take (upper case, a trailing dot, leading zeros, the default port, too large,
// not digits, empty) folds or is refused as the general path does.
func TestNormalAuthority_portsFoldAsBefore(t *testing.T) {
	tests := []struct {
		scheme, raw, host, name string
		ok                      bool
	}{
		{"http", "127.0.0.1:18304", "127.0.0.1:18304", "127.0.0.1", true},
		{"http", "www.test:8080", "www.test:8080", "www.test", true},
		{"http", "www.test:65535", "www.test:65535", "www.test", true},
		{"http", "www.test:1", "www.test:1", "www.test", true},
		{"https", "www.test:80", "www.test:80", "www.test", true},
		{"http", "www.test:443", "www.test:443", "www.test", true},
		{"http", "WWW.Test:8080", "www.test:8080", "www.test", true},
		{"http", "www.test.:8080", "www.test:8080", "www.test", true},
		{"http", "www.test:08080", "www.test:8080", "www.test", true},
		{"http", "www.test:80", "www.test", "www.test", true},
		{"https", "www.test:443", "www.test", "www.test", true},
		{"http", "www.test:0", "www.test:0", "www.test", true},
		{"http", "www.test:65536", "", "", false},
		{"http", "www.test:123456", "", "", false},
		{"http", "www.test:8o80", "", "", false},
		{"http", "www.test:-80", "", "", false},
		{"http", ":8080", "", "", false},
		{"http", "www..test:8080", "", "", false},
		{"http", "u@www.test:8080", "", "", false},
	}
	for _, tt := range tests {
		for _, sc := range []*requestScratch{nil, getScratch()} {
			host, name, ok := normalAuthority(sc, tt.scheme, []byte(tt.raw))
			if ok != tt.ok || host != tt.host || name != tt.name {
				t.Errorf("%s %q (scratch %v): got %q %q %v, want %q %q %v", tt.scheme, tt.raw, sc != nil, host, name, ok, tt.host, tt.name, tt.ok)
			}
		}
	}
}
