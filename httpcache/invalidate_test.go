package httpcache

import (
	"reflect"
	"testing"
)

func TestInvalidationTargets(t *testing.T) {
	const u = "http://example.com/a/b?x=1"
	tests := []struct {
		name   string
		method string
		status int
		resp   Header
		want   []string
	}{
		{"9111 4.4 POST 200 invalidates target", "POST", 200, nil, []string{u}},
		{"9111 4.4 PUT 204 invalidates target", "PUT", 204, nil, []string{u}},
		{"9111 4.4 DELETE 303 invalidates", "DELETE", 303, nil, []string{u}},
		{"9111 4.4 unknown unsafe method invalidates", "PURGE-ISH", 200, nil, []string{u}},
		{"9111 4.4 error response does not", "POST", 500, nil, nil},
		{"9111 4.4 4xx response does not", "POST", 404, nil, nil},
		{"9111 4.4 safe method does not", "GET", 200, nil, nil},
		{"9111 4.4 relative Location resolved", "POST", 201, hdr("Location", "../c"), []string{u, "http://example.com/c"}},
		{"9111 4.4 Content-Location same origin", "POST", 200, hdr("Content-Location", "/d#frag"), []string{u, "http://example.com/d"}},
		{"9111 4.4 other origin ignored", "POST", 200, hdr("Location", "http://other.example/x"), []string{u}},
		{"9111 4.4 other scheme ignored", "POST", 200, hdr("Location", "https://example.com/x"), []string{u}},
		{"9111 4.4 explicit default port is same origin", "POST", 200, hdr("Location", "http://EXAMPLE.com:80/y"), []string{u, "http://EXAMPLE.com:80/y"}},
		{"9111 4.4 duplicates removed", "POST", 200, hdr("Location", "/c", "Content-Location", "/c"), []string{u, "http://example.com/c"}},
	}
	for _, tt := range tests {
		if got := InvalidationTargets(tt.method, tt.status, u, tt.resp); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := InvalidationTargets("POST", 200, "/relative", nil); got != nil {
		t.Errorf("relative request URL: got %q", got)
	}
}
