package purge

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseAPIRequest_kinds(t *testing.T) {
	tests := []struct {
		body string
		want Request
	}{
		{`{"url": "http://www.example.com/a.css"}`, Request{Kind: KindURL, Value: "http://www.example.com/a.css"}},
		{`{"prefix": "http://www.example.com/img/", "soft": true}`, Request{Kind: KindPrefix, Value: "http://www.example.com/img/", Soft: true}},
		{`{"key": "product-42"}`, Request{Kind: KindKey, Value: "product-42"}},
		{`{"all": true}`, Request{Kind: KindAll}},
		{` {"soft": false, "all": true} ` + "\n", Request{Kind: KindAll}},
	}
	for _, tt := range tests {
		got, err := ParseAPIRequest([]byte(tt.body))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAPIRequest(%s) = %+v, %v; want %+v", tt.body, got, err, tt.want)
		}
	}
}

func TestParseAPIRequest_refusesAmbiguity(t *testing.T) {
	tests := []struct{ name, body, wantMsg string }{
		{"empty body", ``, "malformed JSON"},
		{"not JSON", `url=http://h/`, "malformed JSON"},
		{"array", `["http://h/"]`, "malformed JSON"},
		{"unknown field", `{"ban": "req.url ~ /"}`, "unknown field"},
		{"kind as a field", `{"kind": "url", "value": "http://h/"}`, "unknown field"},
		{"two kinds", `{"url": "http://h/a", "key": "k"}`, "more than one"},
		{"all with url", `{"url": "http://h/a", "all": true}`, "more than one"},
		{"no kind", `{"soft": true}`, "no purge kind"},
		{"all false", `{"all": false}`, "no purge kind"},
		{"trailing data", `{"all": true} {"all": true}`, "trailing data"},
		{"wrong type", `{"url": 42}`, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAPIRequest([]byte(tt.body))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ParseAPIRequest(%s) error = %v; want ErrInvalid mentioning %q", tt.body, err, tt.wantMsg)
			}
		})
	}
}

func TestRequest_normalize(t *testing.T) {
	tests := []struct {
		in      Request
		want    string // normalised value; "" with wantErr
		wantErr string
	}{
		{in: Request{Kind: KindURL, Value: "http://H/p?b&a"}, want: "http://h/p?b&a"},
		{in: Request{Kind: KindPrefix, Value: "https://H:443/img/"}, want: "https://h/img/"},
		{in: Request{Kind: KindKey, Value: "product-42"}, want: "product-42"},
		{in: Request{Kind: KindAll}, want: ""},
		{in: Request{Kind: KindURL, Value: "/a.css"}, wantErr: "scheme"},
		{in: Request{Kind: KindPrefix, Value: "http:///img/"}, wantErr: "no host"},
		{in: Request{Kind: KindKey, Value: ""}, wantErr: "empty surrogate key"},
		{in: Request{Kind: KindKey, Value: "a b"}, wantErr: "separator"},
		{in: Request{Kind: KindKey, Value: "a,b"}, wantErr: "separator"},
		{in: Request{Kind: KindAll, Value: "x"}, wantErr: "no value"},
		{in: Request{Kind: "ban", Value: "x"}, wantErr: "unknown kind"},
		{in: Request{Kind: KindKey, Value: strings.Repeat("k", maxValueLen+1)}, wantErr: "longer than"},
	}
	for _, tt := range tests {
		got, err := tt.in.normalize()
		if tt.wantErr != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("normalize(%+v) error = %v; want ErrInvalid mentioning %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Value != tt.want {
			t.Errorf("normalize(%+v) = %q, %v; want %q", tt.in, got.Value, err, tt.want)
		}
	}
}

func TestRequest_checkRemote(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := Request{ID: "abc", Time: now, Kind: KindURL, Value: "http://h/a"}
	tests := []struct {
		name    string
		mutate  func(*Request)
		wantErr bool
	}{
		{"valid", func(*Request) {}, false},
		{"no id", func(r *Request) { r.ID = "" }, true},
		{"oversized id", func(r *Request) { r.ID = strings.Repeat("x", 65) }, true},
		{"no time", func(r *Request) { r.Time = time.Time{} }, true},
		{"not in key form", func(r *Request) { r.Value = "http://H/a" }, true},
		{"unknown kind", func(r *Request) { r.Kind = "ban" }, true},
	}
	for _, tt := range tests {
		r := ok
		tt.mutate(&r)
		if err := r.checkRemote(); (err != nil) != tt.wantErr {
			t.Errorf("%s: checkRemote(%+v) = %v; want error %v", tt.name, r, err, tt.wantErr)
		}
	}
}

// FuzzParseAPIRequest feeds the admin API parser: it must never panic, and what it accepts
// and normalises must be what peers accept.
func FuzzParseAPIRequest(f *testing.F) {
	for _, s := range []string{
		`{"url": "http://www.example.com/a.css"}`, `{"prefix": "http://h/img/", "soft": true}`,
		`{"key": "product-42"}`, `{"all": true}`, `{"url": "http://h/", "key": "k"}`, `{"url": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAPIRequest(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		n, err := r.normalize()
		if err != nil {
			return
		}
		n.ID, n.Time = "id", time.Unix(1, 0)
		if err := n.checkRemote(); err != nil {
			t.Fatalf("peers would refuse %+v, accepted from %q: %v", n, body, err)
		}
	})
}
