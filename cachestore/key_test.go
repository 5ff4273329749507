package cachestore

import "testing"

func TestKey_normalises(t *testing.T) {
	cases := []struct{ scheme, host, path, query, want string }{
		{"http", "Example.COM:80", "/a", "", "http://example.com/a"},
		{"https", "example.com:443", "", "b=2&a=1", "https://example.com/?a=1&b=2"},
		{"http", "example.com:8080", "/x", "a=2&&a=1&b", "http://example.com:8080/x?a=2&a=1&b"},
		{"http", "[::1]:80", "/v6", "z=1", "http://[::1]/v6?z=1"},
		{"https", "example.com", "/p%20q", "single", "https://example.com/p%20q?single"},
	}
	for _, c := range cases {
		if got := Key(c.scheme, c.host, c.path, c.query); got != c.want {
			t.Errorf("Key(%q, %q, %q, %q) = %q, want %q", c.scheme, c.host, c.path, c.query, got, c.want)
		}
	}
}

func FuzzKey(f *testing.F) {
	f.Add("Example.COM:80", "/a/b", "b=2&a=1")
	f.Fuzz(func(t *testing.T, host, path, query string) {
		k := Key("http", host, path, query)
		if k2 := Key("http", host, path, sortQuery(query)); k2 != k {
			t.Errorf("sorting twice changed the key: %q vs %q", k, k2)
		}
	})
}
