package edge

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRequestKey_agreesWithCacheKey checks the single-allocation path against cacheKey, which
// purges and invalidation use: any disagreement would make a purge miss what a hit serves.
func TestRequestKey_agreesWithCacheKey(t *testing.T) {
	tests := []struct {
		name, host, uri string
		tls             bool
	}{
		{"plain", "example.com", "/a/b", false},
		{"root", "example.com", "/", false},
		{"one param", "example.com", "/p?x=1", false},
		{"sorted params", "example.com", "/p?a=1&b=2&b=1", false},
		{"unsorted params", "example.com", "/p?b=2&a=1", false},
		{"empty param", "example.com", "/p?a=1&&b=2", false},
		{"trailing amp", "example.com", "/p?a=1&", false},
		{"leading amp", "example.com", "/p?&a=1", false},
		{"upper host", "Example.COM", "/x", false},
		{"default port", "example.com:80", "/x", false},
		{"other port", "example.com:8080", "/x", false},
		{"https default port", "example.com:443", "/x", true},
		{"ipv6", "[::1]:80", "/x", false},
		{"encoded path", "example.com", "/a%20b/../c", false},
		{"long", "example.com", "/" + string(make([]byte, 300)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ctx fasthttp.RequestCtx
			ctx.Request.SetRequestURI(tt.uri)
			ctx.Request.Header.SetHost(tt.host)
			if tt.tls {
				ctx.SetUserValue(schemeFlag, true)
			}
			want := cacheKey(scheme(&ctx), string(ctx.Host()), string(ctx.Path()), string(ctx.URI().QueryString()))
			if got := requestKey(&ctx); got != want {
				t.Errorf("requestKey = %q, cacheKey = %q", got, want)
			}
		})
	}
}

func TestHostOnly_lowersAndDropsPort(t *testing.T) {
	tests := map[string]string{"example.com": "example.com", "Example.com:8080": "example.com", "[::1]:80": "::1", "": ""}
	for in, want := range tests {
		if got := hostOnly([]byte(in)); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
