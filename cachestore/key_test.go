package cachestore

import (
	"strings"
	"testing"
)

func TestKey_foldsOnlyRFC3986Equivalences(t *testing.T) {
	cases := []struct{ scheme, host, path, query, want string }{
		{"http", "Example.COM:80", "/a", "", "http://example.com/a"},
		{"https", "example.com:443", "", "b=2&a=1", "https://example.com/?b=2&a=1"}, // order kept
		{"http", "example.com:8080", "/x", "a=2&&a=1&b", "http://example.com:8080/x?a=2&&a=1&b"},
		{"http", "[::1]:80", "/v6", "z=1", "http://[::1]/v6?z=1"},
		{"https", "example.com", "/p%20q", "single", "https://example.com/p%20q?single"},
		{"http", "example.com.", "/a", "", "http://example.com/a"},
		{"http", "example.com.:0080", "/a", "", "http://example.com/a"},
		{"http", "example.com:", "/a", "", "http://example.com/a"},
		{"http", "h", "/p/%7euser", "", "http://h/p/~user"},
		{"http", "h", "/p/%7Euser", "", "http://h/p/~user"},
		{"http", "h", "/p/a%2fb.css", "", "http://h/p/a%2Fb.css"},
		{"http", "h", "/p//c.css", "", "http://h/p//c.css"},
		{"http", "h", "/%2E%2E/x", "", "http://h/../x"}, // the edge refuses such targets; Key only folds
		{"http", "h", "/a", "q=%41%3d%3D", "http://h/a?q=A%3D%3D"},
		{"http", "h", "/bad%zz%4", "", "http://h/bad%zz%4"},
	}
	for _, c := range cases {
		if got := Key(c.scheme, c.host, c.path, c.query); got != c.want {
			t.Errorf("Key(%q, %q, %q, %q) = %q, want %q", c.scheme, c.host, c.path, c.query, got, c.want)
		}
	}
}

func TestSortQuery_ordersByNameStably(t *testing.T) {
	cases := map[string]string{"b=2&a=1": "a=1&b=2", "a=2&&a=1&b": "a=2&a=1&b", "single": "single", "": "", "&a=1": "a=1"}
	for in, want := range cases {
		if got := SortQuery(in); got != want {
			t.Errorf("SortQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFoldPercent_unchangedInputIsNotCopied(t *testing.T) {
	for _, s := range []string{"/plain", "/a%2Fb", "/%C3%A9", "/%", "/%4"} {
		if got := FoldPercent(s); got != s {
			t.Errorf("FoldPercent(%q) = %q", s, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { FoldPercent("/already%2Ffolded/path") }); n != 0 {
		t.Errorf("FoldPercent of a folded path allocated %v times", n)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("Example.COM:80", "/a/b", "b=2&a=1")
	f.Add("h.", "/%7e%2f%", "%41=%2a")
	f.Fuzz(func(t *testing.T, host, path, query string) {
		k := Key("http", host, path, query)
		if k2 := Key("http", host, FoldPercent(path), FoldPercent(query)); k2 != k {
			t.Errorf("folding twice changed the key: %q vs %q", k, k2)
		}
		if strings.Count(k, "%") > strings.Count(host+path+query, "%") {
			t.Errorf("folding added escapes: %q", k)
		}
	})
}
