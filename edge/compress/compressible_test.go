package compress

import "testing"

func TestCompressible_decidesByTypeSizeAndOriginHeaders(t *testing.T) {
	types := []string{"text/*", "application/json", "application/javascript", "image/svg+xml"}
	tests := []struct {
		name        string
		contentType string
		types       []string
		encoding    string
		length      int64
		noTransform bool
		want        bool
	}{
		{"html via text/*", "text/html; charset=utf-8", types, "", 5000, false, true},
		{"css via text/*", "text/css", types, "", 5000, false, true},
		{"json exact", "application/json", types, "", 5000, false, true},
		{"case and spaces ignored", " Application/JSON ;charset=UTF-8", types, "", 5000, false, true},
		{"svg", "image/svg+xml", types, "", 5000, false, true},
		{"png not listed", "image/png", types, "", 5000, false, false},
		{"json-ish suffix not listed", "application/ld+json", types, "", 5000, false, false},
		{"missing content type", "", types, "", 5000, false, false},
		{"malformed content type", "text", types, "", 5000, false, false},
		{"star/star matches all", "application/octet-stream", []string{"*/*"}, "", 5000, false, true},
		{"no types configured", "text/html", nil, "", 5000, false, false},
		{"already gzip", "text/html", types, "gzip", 5000, false, false},
		{"already br", "text/html", types, "br", 5000, false, false},
		{"identity encoding is no encoding", "text/html", types, "identity", 5000, false, true},
		{"below min size", "text/html", types, "", 255, false, false},
		{"exactly min size", "text/html", types, "", 256, false, true},
		{"unknown length streams compressed", "text/html", types, "", -1, false, true},
		{"no-transform", "text/html", types, "", 5000, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compressible(tt.contentType, tt.types, tt.encoding, tt.length, 256, tt.noTransform)
			if got != tt.want {
				t.Errorf("Compressible(%q, %v, %q, %d, 256, %v) = %v, want %v",
					tt.contentType, tt.types, tt.encoding, tt.length, tt.noTransform, got, tt.want)
			}
		})
	}
}
