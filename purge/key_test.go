package purge

import (
	"errors"
	"testing"
)

func TestKeyForURL_matchesEdgeRules(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"plain", "http://www.example.com/a.css", "http://www.example.com/a.css"},
		{"host lower-cased", "http://WWW.Example.COM/A.css", "http://www.example.com/A.css"},
		{"default http port dropped", "http://www.example.com:80/a", "http://www.example.com/a"},
		{"default https port dropped", "https://www.example.com:443/a", "https://www.example.com/a"},
		{"other port kept", "http://www.example.com:8080/a", "http://www.example.com:8080/a"},
		{"https port on http kept", "http://www.example.com:443/a", "http://www.example.com:443/a"},
		{"ipv6 default port", "http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"},
		{"ipv6 no port", "http://[2001:db8::1]/a", "http://[2001:db8::1]/a"},
		{"empty path", "http://www.example.com", "http://www.example.com/"},
		{"query order kept", "http://h/p?b=2&a=1", "http://h/p?b=2&a=1"},
		{"query escapes folded", "http://h/p?b=%7e%2f", "http://h/p?b=~%2F"},
		{"single param kept as is", "http://h/p?z", "http://h/p?z"},
		{"empty query kept (RFC 3986 6.2.3)", "http://h/p?", "http://h/p?"},
		{"empty query of an empty path", "http://h?", "http://h/?"},
		{"empty query before a fragment", "http://h/p?#f", "http://h/p?"},
		{"fragment dropped", "http://h/p?a=1#frag", "http://h/p?a=1"},
		{"reserved escapes kept, unreserved decoded", "http://h/a%2fb/%7Ex", "http://h/a%2Fb/~x"},
		{"trailing dot dropped", "http://h./p", "http://h/p"},
		{"userinfo dropped", "http://user:pw@h/p", "http://h/p"},
		{"scheme lower-cased", "HTTP://h/p", "http://h/p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeyForURL(tt.raw)
			if err != nil || got != tt.want {
				t.Errorf("KeyForURL(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestKeyForURL_refusesWhatTheEdgeNeverStores(t *testing.T) {
	for _, raw := range []string{"", "/a.css", "www.example.com/a.css", "ftp://h/a", "http:///a", "http://h/%zz", "mailto:a@b"} {
		if got, err := KeyForURL(raw); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("KeyForURL(%q) = %q, %v; want an error wrapping ErrInvalid", raw, got, err)
		}
	}
}

func TestPrefixKey_normalisesOriginOnly(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://WWW.example.com:80/img/", "http://www.example.com/img/"},
		{"http://www.example.com", "http://www.example.com/"},
		{"http://h/search?b=2&a", "http://h/search?b=2&a"}, // a partial query is not sorted
		{"http://h/search?", "http://h/search?"},
	}
	for _, tt := range tests {
		if got, err := prefixKey(tt.raw); err != nil || got != tt.want {
			t.Errorf("prefixKey(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

// FuzzKeyForURL checks that a key is a fixed point: peers re-check that a purge they receive is
// in key form, so normalising twice must change nothing.
func FuzzKeyForURL(f *testing.F) {
	for _, s := range []string{"http://WWW.x.com:80/a?b=1&a=2", "https://[::1]:443/", "http://h/%7E?&&z", "http://h#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		key, err := KeyForURL(raw)
		if err != nil {
			return
		}
		again, err := KeyForURL(key)
		if err != nil || again != key {
			t.Fatalf("KeyForURL(%q) = %q, but KeyForURL of that = %q, %v", raw, key, again, err)
		}
		p, err := prefixKey(raw)
		if err != nil {
			t.Fatalf("prefixKey(%q) failed where KeyForURL succeeded: %v", raw, err)
		}
		if again, err := prefixKey(p); err != nil || again != p {
			t.Fatalf("prefixKey(%q) = %q, but prefixKey of that = %q, %v", raw, p, again, err)
		}
	})
}
